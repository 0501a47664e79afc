"""`oncall health`: what is unhealthy in a namespace (or cluster) now, and what to run next.

One pass over the API server's current state (pods, nodes, workloads, events),
Prometheus's last hour (restarts and how containers died, via the pod-restarts
detector) and Alertmanager's firing alerts. Every source that fails is named in
`failures` and the rest is still reported: a health check that crashes when
Alertmanager is down is no health check.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field

from adapters.clusters import ClusterConfig
from adapters.envelope import SourceResult
from detectors.context import InvestigationContext
from detectors.event_surges import HISTORY, EventSurgeDetector
from detectors.finding import Finding
from detectors.kube_objects import replicaset_owners
from detectors.pod_restarts import PodRestartsDetector
from reasoning.workflows import health_rules as rules
from reasoning.workflows.checks import NextCheck
from reasoning.workflows.sources import Sources, given_or_opened


class PodProblem(BaseModel):
    namespace: str
    pod: str
    workload: str
    phase: str
    not_ready: list[str] = Field(description="containers that are not ready")
    reasons: list[str] = Field(description="container: Reason (message), for non-running ones")


class Restart(BaseModel):
    namespace: str
    pod: str
    container: str
    workload: str
    restarts: int | None = Field(description="restarts in the last hour (Prometheus); "
                                 "None: unknown")
    restart_count: int | None = Field(None, description="restarts since the pod started (API)")
    last_reason: str | None = None
    exit_code: int | None = None
    finished_at: datetime | None = None


class EventSurge(BaseModel):
    workload: str
    signal: str
    count: int
    usual: float = Field(description="the count the preceding hours would predict")
    reasons: list[str]
    samples: list[str]


class NodeProblem(BaseModel):
    node: str
    conditions: list[str]
    pods: int = Field(description="pods of the namespace (or all pods) on the node")


class WorkloadProblem(BaseModel):
    namespace: str
    kind: str
    name: str
    desired: int
    available: int
    unavailable: int


class PendingPod(BaseModel):
    namespace: str
    pod: str
    workload: str
    since: datetime | None
    reason: str
    message: str | None


class FiringAlert(BaseModel):
    alertname: str
    severity: str | None
    namespace: str | None
    summary: str | None
    starts_at: str | None
    labels: dict[str, str]
    link: str | None = Field(None, description="the alert's generator URL (its expression)")
    runbook_url: str | None = None


class HealthResult(BaseModel):
    """Everything `oncall health` found; rendered as text, Markdown or JSON."""

    command: Literal["health"] = "health"
    namespace: str | None
    at: datetime
    healthy: bool
    summary: str
    pods_not_ready: list[PodProblem] = []
    restarts: list[Restart] = []
    event_surges: list[EventSurge] = []
    nodes: list[NodeProblem] = []
    workloads: list[WorkloadProblem] = []
    pending: list[PendingPod] = []
    alerts: list[FiringAlert] = []
    next_checks: list[NextCheck] = []
    failures: list[str] = Field(default_factory=list, description="sources that did not answer")
    evidence: list[SourceResult] = []


async def health(namespace: str | None = None, *, sources: Sources | None = None,
                 cluster: ClusterConfig | None = None, at: datetime | None = None) -> HealthResult:
    """`oncall health [--namespace NS]`: the unhealthy things and ranked next checks."""
    at = at or datetime.now(timezone.utc)
    async with given_or_opened(sources, cluster) as src:
        return await _health(src, namespace or None, at)


async def _health(src: Sources, namespace: str | None, at: datetime) -> HealthResult:
    ctx = InvestigationContext(namespace=namespace, service=None, at=at, prometheus=src.prometheus,
                               kube=src.kube, events=src.events, query_timeout=src.timeout)
    events_call = ctx.once("events", lambda: src.events.events(
        namespace, at - HISTORY, at, timeout=src.timeout))
    kube = src.kube
    lists = ("pods", "replicasets", "deployments", "statefulsets")
    answers = await asyncio.gather(
        *(ctx.kube_list(k) for k in lists),
        kube.list("nodes", timeout=src.timeout) if kube else _none(),
        events_call, PodRestartsDetector().detect(ctx), EventSurgeDetector().detect(ctx),
        _alerts(src))
    pods_r, rss_r, deploys_r, sets_r, nodes_r, events_r, restarts, surges, alerts_r = answers
    if {"kubernetes", "prometheus"} <= ctx.source_failures.keys():
        raise RuntimeError("neither the Kubernetes API nor Prometheus answered: "
                           f"{ctx.source_failures['kubernetes']}; "
                           f"{ctx.source_failures['prometheus']}")
    result = HealthResult(namespace=namespace, at=at, healthy=True, summary="")
    pods, rss = _items(pods_r), _items(rss_r)
    owners = replicaset_owners(rss)
    events = events_r.data if events_r.ok else []
    result.nodes = [NodeProblem(**n) for n in rules.nodes(_items(nodes_r), pods, namespace)]
    bad_nodes = {n.node: n.conditions for n in result.nodes}
    result.pods_not_ready = [PodProblem(**p) for p in
                             rules.pods_not_ready(pods, owners, bad_nodes)]
    result.pending = [PendingPod(**p) for p in rules.pending(pods, owners, events)]
    result.workloads = [WorkloadProblem(**w) for w in
                        rules.workloads(_items(deploys_r), _items(sets_r))]
    result.restarts = [Restart(**r) for r in rules.restarts(restarts, pods, owners, at)]
    result.event_surges = [_surge(f) for f in surges]
    result.alerts = [FiringAlert(**a) for a in rules.alerts(_items(alerts_r), namespace)]
    failures = [f"{k}: {v}" for k, v in ctx.source_failures.items()]
    result.failures = sorted({*failures, *_failure(alerts_r, "alertmanager"),
                              *_failure(nodes_r, "nodes")})
    result.evidence = [rules.slim(r) for r in _evidence(answers, restarts, surges)]
    result.next_checks = rules.next_checks(result, namespace)
    result.healthy = not any((result.pods_not_ready, result.pending, result.nodes,
                              result.workloads, result.restarts, result.event_surges,
                              result.alerts))
    result.summary = rules.summary(result)
    return result


def _surge(f: Finding) -> EventSurge:
    return EventSurge(workload=f"{f.subject.kind}/{f.subject.name}", signal=f.signal,
                      count=int(f.facts.get("count", 0)),
                      usual=round(float(f.facts.get("baseline", 0.0)), 2),
                      reasons=list(f.facts.get("reasons", [])), samples=f.details)


async def _alerts(src: Sources) -> SourceResult | None:
    if src.alertmanager is None:
        return None
    return await src.alertmanager.alerts(timeout=src.timeout)


async def _none() -> None:
    return None


def _items(result: SourceResult | None) -> list:
    return list(result.data or []) if result is not None and result.ok else []


def _failure(result: SourceResult | None, name: str) -> list[str]:
    if result is None and name == "alertmanager":
        return ["alertmanager: not configured (set ONCALL_ALERTMANAGER_URL)"]
    if result is not None and result.failed:
        return [f"{name}: {result.status.value}: {result.error}"]
    return []


def _evidence(answers: list, restarts: list[Finding], surges: list[Finding]) -> list[SourceResult]:
    """Each call that ran once, in order: API lists, events, alerts, then the detectors'."""
    out: list[SourceResult] = [a for a in answers if isinstance(a, SourceResult)]
    for finding in restarts + surges:
        out += [e for e in finding.evidence if e.source != "kubernetes"]
    seen, unique = set(), []
    for r in out:
        if r.query not in seen:
            seen.add(r.query)
            unique.append(r)
    return unique

