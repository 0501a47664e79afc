"""What a detector gets to look at: the subject of the page and read-only sources."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Awaitable, Callable

from pydantic import BaseModel

from adapters.envelope import SourceResult
from adapters.prometheus import PrometheusClient

if TYPE_CHECKING:
    from adapters.event_sources import EventReader
    from adapters.kube import KubeClient
    from adapters.logs import LogReader
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
    kube: KubeClient | None = None
    logs: LogReader | None = None
    events: EventReader | None = None
    source_failures: dict[str, str] = field(default_factory=dict)
    _queries: dict[str, asyncio.Future[SourceResult]] = field(default_factory=dict, repr=False)

    async def instant(self, expr: str) -> SourceResult:
        """PromQL at the investigation's time, asked once however many detectors need it."""
        return await self.once(f"promql:{expr}", lambda: self._instant(expr))

    async def once(self, key: str, call: Callable[[], Awaitable[SourceResult]]) -> SourceResult:
        """Run a source call once per investigation, however many detectors ask for it."""
        if key not in self._queries:
            self._queries[key] = asyncio.ensure_future(self._record(call()))
        return await asyncio.shield(self._queries[key])

    async def kube_list(self, resource: str) -> SourceResult | None:
        """All objects of `resource` in the page's namespace (cached), or None without API access."""
        if self.kube is None:
            return None
        kube = self.kube
        return await self.once(f"kube:{resource}", lambda: kube.list(
            resource, self.namespace, timeout=self.query_timeout))

    async def _record(self, pending: Awaitable[SourceResult]) -> SourceResult:
        result = await pending
        if result.failed:
            self.source_failures.setdefault(result.source, f"{result.status.value}: {result.error}")
        return result

    async def _instant(self, expr: str) -> SourceResult:
        return await self.prometheus.instant(expr, self.at, timeout=self.query_timeout)
