"""`oncall cost`: what a namespace's requests waste, and what they would cost in a month.

Pods come from the API (requests, limits, states), restarts, Pending time and
usage quantiles from Prometheus over the window, scheduling failures from
events. Five checks (cost_rules): crash/backoff waste, missing requests or
limits, limit:request ratios, requests far above usage, scheduling failures;
totals in cores, GiB and money at the policy's unit prices.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field

from adapters.clusters import ClusterConfig
from adapters.envelope import SourceResult, Status
from detectors.kube_objects import replicaset_owners
from detectors.promql import selector
from detectors.promql import window as promql_window
from detectors.slo import parse_duration
from reasoning.workflows import cost_rules as rules
from reasoning.workflows.cost_policy import CostPolicy, load_cost_policy
from reasoning.workflows.sources import Sources, given_or_opened


class WasteItem(BaseModel):
    namespace: str
    pod: str
    workload: str
    state: Literal["crash-looping", "pending"]
    detail: str
    restarts: int | None = Field(description="restarts in the window (None: Prometheus down)")
    cpu_cores: float
    memory_gib: float
    hours: float = Field(description="hours of the window the requests were wasted")
    core_hours: float
    gib_hours: float
    cost: float = Field(description="in the policy's currency, over the window")


class MissingResources(BaseModel):
    namespace: str
    workload: str
    container: str
    pods: list[str]
    missing: list[str] = Field(description="e.g. limits.cpu, requests.memory")


class RatioItem(BaseModel):
    namespace: str
    workload: str
    container: str
    resource: Literal["cpu", "memory"]
    request: float = Field(description="cores or GiB")
    limit: float
    ratio: float
    pods: list[str]


class OverItem(BaseModel):
    namespace: str
    pod: str
    workload: str
    container: str
    resource: Literal["cpu", "memory"]
    request: float = Field(description="cores or GiB")
    usage: float = Field(description="usage quantile over the window, cores or GiB")
    excess: float = Field(description="request - usage")
    ratio: float | None


class SchedulingFailure(BaseModel):
    namespace: str
    pod: str
    workload: str
    count: int
    last_seen: datetime | None
    message: str
    pending_now: bool


class Totals(BaseModel):
    cpu_cores: float
    memory_gib: float
    monthly_cost: float = Field(description="if it lasted a month, at the policy's prices")


class CostResult(BaseModel):
    """Everything `oncall cost` found; rendered as text, Markdown or JSON."""

    command: Literal["cost"] = "cost"
    namespace: str | None
    at: datetime
    window: str
    currency: str
    prices: dict[str, float]
    usage_quantile: float = Field(description="quantile of usage that requests are compared to")
    summary: str
    requested: Totals = Field(description="all requests of running and pending pods")
    waste: list[WasteItem] = []
    waste_total: Totals
    waste_core_hours: float
    waste_gib_hours: float
    waste_cost: float = Field(description="over the window")
    missing: list[MissingResources] = []
    ratios: list[RatioItem] = []
    overprovisioned: list[OverItem] = []
    overprovisioned_total: Totals
    scheduling_failures: list[SchedulingFailure] = []
    failures: list[str] = []
    evidence: list[SourceResult] = []


async def cost(namespace: str | None = None, window: str | None = None, *,
               policy: CostPolicy | None = None, sources: Sources | None = None,
               cluster: ClusterConfig | None = None, at: datetime | None = None) -> CostResult:
    """`oncall cost [--namespace NS]`; ValueError on a bad window."""
    policy = policy or load_cost_policy()
    window = window or policy.window
    seconds = parse_duration(window)
    if seconds < 300:
        raise ValueError("window must be at least 5m")
    at = at or datetime.now(timezone.utc)
    async with given_or_opened(sources, cluster) as src:
        return await _cost(src, namespace or None, window, seconds, policy, at)


def queries(namespace: str | None, seconds: int, q: float) -> dict[str, str]:
    w, ns = promql_window(seconds), namespace
    usage = ('container!=""', 'container!="POD"')
    by = "max by (namespace, pod, container)"
    phase = selector("kube_pod_status_phase", namespace=ns, phase="Pending")
    return {
        "restarts": f"sum by (namespace, pod) (increase("
                    f"{selector('kube_pod_container_status_restarts_total', namespace=ns)}[{w}]))",
        "pending_minutes": f"sum_over_time((max by (namespace, pod) ({phase}))[{w}:1m])",
        "cpu": f"{by} (quantile_over_time({q:g}, rate("
               f"{selector('container_cpu_usage_seconds_total', *usage, namespace=ns)}[5m])"
               f"[{w}:1m]))",
        "memory": f"{by} (quantile_over_time({q:g}, "
                  f"{selector('container_memory_working_set_bytes', *usage, namespace=ns)}[{w}]))",
    }


async def _cost(src: Sources, namespace: str | None, window: str, seconds: int,
                policy: CostPolicy, at: datetime) -> CostResult:
    kube = src.kube
    qs = queries(namespace, seconds, policy.usage_quantile)
    start = datetime.fromtimestamp(at.timestamp() - seconds, tz=timezone.utc)
    pods_r, rss_r, events_r, *prom = await asyncio.gather(
        kube.list("pods", namespace, timeout=src.timeout) if kube else _nothing("pods"),
        kube.list("replicasets", namespace, timeout=src.timeout) if kube else _nothing("rs"),
        src.events.events(namespace, start, at, timeout=src.timeout),
        *(src.prometheus.instant(q, at) for q in qs.values()))
    if pods_r.failed:  # every check reads the pods
        raise RuntimeError(f"Kubernetes API: {pods_r.status.value}: {pods_r.error}")
    answers = dict(zip(qs, prom))
    pods = pods_r.data if pods_r.ok else []
    owners = replicaset_owners(rss_r.data if rss_r.ok else [])
    hours = seconds / 3600
    per_pod = _per_pod(answers["restarts"])
    restarts = {k: int(round(v)) for k, v in per_pod.items()} if per_pod is not None else None
    pending = _per_pod(answers["pending_minutes"])
    waste = [WasteItem(**w) for w in rules.waste(pods, owners, restarts, pending, at, hours,
                                                 policy)]
    usage = {res: _per_container(answers[res]) for res in ("cpu", "memory")}
    over = [OverItem(**o) for o in rules.overprovisioned(
        pods, owners, usage, {(w.namespace, w.pod) for w in waste}, policy)]
    cores, gib = rules.requested(pods)
    w_cores, w_gib = sum(w.cpu_cores for w in waste), sum(w.memory_gib for w in waste)
    o_cores = sum(o.excess for o in over if o.resource == "cpu")
    o_gib = sum(o.excess for o in over if o.resource == "memory")
    result = CostResult(
        namespace=namespace, at=at, window=window, currency=policy.currency,
        prices={"cpu_core_hour": policy.cpu_core_hour, "memory_gib_hour": policy.memory_gib_hour,
                "hours_per_month": policy.hours_per_month},
        usage_quantile=policy.usage_quantile,
        summary="", requested=_totals(cores, gib, policy), waste=waste,
        waste_total=_totals(w_cores, w_gib, policy),
        waste_core_hours=round(sum(w.core_hours for w in waste), 6),
        waste_gib_hours=round(sum(w.gib_hours for w in waste), 6),
        waste_cost=round(sum(w.cost for w in waste), 6),
        missing=[MissingResources(**m) for m in rules.missing(pods, owners, policy)],
        ratios=[RatioItem(**r) for r in rules.ratios(pods, owners, policy)],
        overprovisioned=over, overprovisioned_total=_totals(o_cores, o_gib, policy),
        scheduling_failures=[SchedulingFailure(**s) for s in rules.scheduling(
            events_r.data if events_r.ok else [], pods, owners)])
    calls = [pods_r, rss_r, events_r, *prom]
    result.failures = [f"{r.source}: {r.status.value}: {r.error} ({r.query[:80]})"
                       for r in calls if r.failed]
    result.evidence = [r.model_copy(update={"data": None}) for r in calls]
    result.summary = _summary(result)
    return result


def _per_pod(result: SourceResult) -> dict[tuple[str, str], float] | None:
    """(namespace, pod) -> value; None when the query failed (EMPTY is a real zero)."""
    if result.failed:
        return None
    return {(s.labels.get("namespace", ""), s.labels.get("pod", "")): s.value
            for s in result.data or [] if s.value == s.value}


def _per_container(result: SourceResult) -> dict[tuple[str, str, str], float]:
    return {(s.labels.get("namespace", ""), s.labels.get("pod", ""),
             s.labels.get("container", "")): s.value
            for s in (result.data or []) if result.ok and s.value == s.value}


def _totals(cores: float, gib: float, policy: CostPolicy) -> Totals:
    return Totals(cpu_cores=round(cores, 4), memory_gib=round(gib, 4),
                  monthly_cost=round(policy.monthly(cores, gib), 2))


async def _nothing(what: str) -> SourceResult:
    return SourceResult(source="kubernetes", status=Status.ERROR, query=what,
                        error="no Kubernetes API configured")


def _summary(r: CostResult) -> str:
    where = r.namespace or "cluster"
    c = r.currency
    parts = [f"{where}: {r.requested.cpu_cores:g} cores, {r.requested.memory_gib:.2f} GiB "
             f"requested (~{r.requested.monthly_cost:,.2f} {c}/month)"]
    if r.waste:
        parts.append(f"{len(r.waste)} crash-looping/pending pod(s) waste "
                     f"{r.waste_total.cpu_cores:g} cores, {r.waste_total.memory_gib:.2f} GiB "
                     f"(~{r.waste_total.monthly_cost:,.2f} {c}/month)")
    if r.overprovisioned:
        t = r.overprovisioned_total
        parts.append(f"requests above usage by {t.cpu_cores:.2f} cores, {t.memory_gib:.2f} GiB "
                     f"(~{t.monthly_cost:,.2f} {c}/month)")
    if r.missing:
        parts.append(f"{len(r.missing)} container(s) without requests or limits")
    if r.ratios:
        parts.append(f"{len(r.ratios)} limit:request ratio(s) above policy")
    if r.scheduling_failures:
        parts.append(f"{len(r.scheduling_failures)} pod(s) failed scheduling")
    return "; ".join(parts)
