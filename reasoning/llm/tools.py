"""The read-only tools the model may call, each a thin wrapper over one adapter call.

Only adapters that exist for this investigation are offered. Arguments are
validated and clamped (windows, line and item counts) before any call, and
every call answers with the adapters' SourceResult envelope, never an
exception, so a bad or hostile tool request costs one step and nothing else.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from adapters.envelope import SourceResult, Status
from adapters.kube import KubeClient
from adapters.kube_describe import describe_pod
from adapters.loki import LokiClient
from adapters.prometheus import PrometheusClient
from reasoning.llm.answer import inline_schema


class PromQuery(BaseModel):
    query: str = Field(min_length=1, max_length=2000, description="PromQL")


class PromRange(PromQuery):
    minutes: int = Field(60, ge=1, le=1440, description="window ending at the page time")
    step_seconds: int = Field(60, ge=5, le=3600)


class LokiQuery(BaseModel):
    query: str = Field(min_length=1, max_length=2000, description="LogQL")
    minutes: int = Field(60, ge=1, le=1440, description="window ending at the page time")
    limit: int = Field(100, ge=1, le=300, description="most recent lines to return")


class KubeGet(BaseModel):
    resource: str = Field(description="pods, deployments, replicasets, statefulsets, daemonsets, "
                                      "nodes, events, jobs, services, ...")
    name: str
    namespace: str | None = None


class KubeList(BaseModel):
    resource: str
    namespace: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None
    limit: int = Field(30, ge=1, le=100)


class PodRef(BaseModel):
    namespace: str
    name: str


class PodLogs(BaseModel):
    namespace: str
    pod: str
    container: str | None = None
    previous: bool = Field(False, description="the previous (crashed) container's log")
    tail: int = Field(100, ge=1, le=300)


@dataclass(frozen=True)
class Spec:
    name: str
    args: type[BaseModel]
    needs: str  # prometheus | loki | kube
    description: str


SPECS = {s.name: s for s in (
    Spec("prometheus_query", PromQuery, "prometheus", "Instant PromQL query at the page time."),
    Spec("prometheus_range", PromRange, "prometheus", "Range PromQL query over a window."),
    Spec("loki_query", LokiQuery, "loki", "LogQL log or metric query over a window."),
    Spec("kube_get", KubeGet, "kube", "Read one Kubernetes object (allowlisted kinds only)."),
    Spec("kube_list", KubeList, "kube", "List Kubernetes objects (allowlisted kinds only)."),
    Spec("kube_describe_pod", PodRef, "kube",
         "A pod's owners, container states, last termination and recent events."),
    Spec("kube_pod_logs", PodLogs, "kube", "The last lines of a pod container's log."),
)}


class Toolbox:
    """The tools for one investigation, bound to its sources and its page time."""

    def __init__(self, prometheus: PrometheusClient | None, loki: LokiClient | None,
                 kube: KubeClient | None, at: datetime) -> None:
        self.sources = {"prometheus": prometheus, "loki": loki, "kube": kube}
        self.at = at

    def names(self) -> list[str]:
        return [n for n, s in SPECS.items() if self.sources[s.needs] is not None]

    def definitions(self) -> list[dict[str, Any]]:
        return [{"name": n, "description": SPECS[n].description + " Read-only; returns a "
                 "result envelope as data.", "input_schema": inline_schema(SPECS[n].args)}
                for n in self.names()]

    async def run(self, name: str, raw: Any, timeout: float) -> SourceResult:
        """Call one tool; unknown tools, bad arguments and crashes become ERROR envelopes."""
        if name not in self.names():
            return _error(name, f"no tool named {name!r}; available: {', '.join(self.names())}")
        try:
            args = SPECS[name].args.model_validate(raw)
        except ValidationError as exc:
            return _error(name, "invalid arguments: " + "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
        call = getattr(self, "_" + name)
        try:
            return await asyncio.wait_for(call(args, timeout), timeout + 1.0)
        except asyncio.TimeoutError:
            return SourceResult(source=SPECS[name].needs, status=Status.TIMEOUT, query=name,
                                error=f"no answer within {timeout:.3g}s")
        except Exception as exc:  # a tool must never take the investigation down
            return _error(name, f"{type(exc).__name__}: {exc}")

    def _since(self, minutes: int) -> datetime:
        return self.at - timedelta(minutes=minutes)

    async def _prometheus_query(self, a: PromQuery, timeout: float) -> SourceResult:
        return await self._prom.instant(a.query, self.at, timeout=timeout)

    async def _prometheus_range(self, a: PromRange, timeout: float) -> SourceResult:
        return await self._prom.range(a.query, self._since(a.minutes), self.at,
                                      a.step_seconds, timeout=timeout)

    async def _loki_query(self, a: LokiQuery, timeout: float) -> SourceResult:
        loki: LokiClient = self.sources["loki"]  # type: ignore[assignment]
        return await loki.query_range(a.query, self._since(a.minutes), self.at, limit=a.limit,
                                      timeout=timeout)

    async def _kube_get(self, a: KubeGet, timeout: float) -> SourceResult:
        return await self._kube.get(a.resource, a.name, a.namespace, timeout=timeout)

    async def _kube_list(self, a: KubeList, timeout: float) -> SourceResult:
        result = await self._kube.list(a.resource, a.namespace, label_selector=a.label_selector,
                                       field_selector=a.field_selector, timeout=timeout)
        if isinstance(result.data, list) and len(result.data) > a.limit:
            result.warnings.append(f"showing {a.limit} of {len(result.data)} objects")
            result.data = result.data[: a.limit]
        return result

    async def _kube_describe_pod(self, a: PodRef, timeout: float) -> SourceResult:
        return await describe_pod(self._kube, a.namespace, a.name, timeout=timeout)

    async def _kube_pod_logs(self, a: PodLogs, timeout: float) -> SourceResult:
        return await self._kube.pod_logs(a.namespace, a.pod, container=a.container,
                                         previous=a.previous, tail=a.tail, timeout=timeout)

    @property
    def _prom(self) -> PrometheusClient:
        return self.sources["prometheus"]  # type: ignore[return-value]

    @property
    def _kube(self) -> KubeClient:
        return self.sources["kube"]  # type: ignore[return-value]


def _error(name: str, message: str) -> SourceResult:
    source = SPECS[name].needs if name in SPECS else "tool"
    return SourceResult(source=source, status=Status.ERROR, query=name, error=message)

