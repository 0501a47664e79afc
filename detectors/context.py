"""What a detector gets to look at: the subject of the page and read-only sources."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel

from adapters.envelope import SourceResult
from adapters.prometheus import PrometheusClient

if TYPE_CHECKING:
    from detectors.slo import Slo


class Subject(BaseModel):
    """The thing a finding is about (a Deployment, a Pod, a Service, a Node...)."""

    namespace: str | None = None
    kind: str
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass
class InvestigationContext:
    """Scope and tools of one investigation; detectors never reach elsewhere."""

    namespace: str | None
    service: str | None
    at: datetime
    prometheus: PrometheusClient
    workload: Subject | None = None
    labels: dict[str, str] = field(default_factory=dict)
    slo_objective: float = 0.999
    slos: list[Slo] = field(default_factory=list)
    query_timeout: float = 5.0
    source_failures: dict[str, str] = field(default_factory=dict)
    _queries: dict[str, asyncio.Task[SourceResult]] = field(default_factory=dict, repr=False)

    async def instant(self, expr: str) -> SourceResult:
        """PromQL at the investigation's time, asked once however many detectors need it."""
        if expr not in self._queries:
            self._queries[expr] = asyncio.ensure_future(self._instant(expr))
        return await asyncio.shield(self._queries[expr])

    async def _instant(self, expr: str) -> SourceResult:
        result = await self.prometheus.instant(expr, self.at, timeout=self.query_timeout)
        if result.failed:
            self.source_failures.setdefault(result.source, f"{result.status.value}: {result.error}")
        return result
