"""`oncall triage`: why one pod, or a deployment's pods, is unhappy.

Container states and how each container last died (describe_pod), the events
of the last hour (API and, where shipped, Loki), the top error signatures in
the last N lines of the current and previous containers, runbooks matching
what was found, and the next commands to run. A deployment is triaged through
its pods (the worst first, at most MAX_PODS).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from adapters.clusters import ClusterConfig
from adapters.envelope import SourceResult, Status
from adapters.events import KubeEvent, merge
from adapters.kube_describe import PodSummary, describe_pod
from reasoning.runbooks import RunbookIndex, runbook_dirs
from reasoning.workflows import triage_rules as rules
from reasoning.workflows.checks import NextCheck
from reasoning.workflows.sources import Sources, given_or_opened
from reasoning.workflows.triage_logs import LogScan, Signature, read_pod, signatures

log = logging.getLogger(__name__)
MAX_PODS = 10
EVENTS_WINDOW = timedelta(hours=1)


class RunbookSuggestion(BaseModel):
    title: str
    source: str
    section: str
    excerpt: str
    score: float
    why: str


class TriageResult(BaseModel):
    """Everything `oncall triage` found about one pod or deployment."""

    command: Literal["triage"] = "triage"
    namespace: str
    target: str = Field(description="Pod/NAME or Deployment/NAME")
    at: datetime
    lines: int = Field(description="log lines read per container instance")
    summary: str
    pods: list[PodSummary] = Field(description="container states and last terminations")
    events: list[KubeEvent] = Field(description="events of the last hour, newest first")
    logs: list[LogScan] = Field(description="what was read per container instance")
    signatures: list[Signature] = Field(description="top error signatures, most frequent first")
    runbooks: list[RunbookSuggestion] = []
    next_checks: list[NextCheck] = []
    failures: list[str] = []
    evidence: list[SourceResult] = []


class NotFound(ValueError):
    """The pod or deployment does not exist (where it was looked for)."""


_DEFAULT_INDEX: RunbookIndex | None = None


def default_runbooks() -> RunbookIndex:
    """The shipped runbooks, indexed once per process (for callers that bring none)."""
    global _DEFAULT_INDEX
    if _DEFAULT_INDEX is None:
        _DEFAULT_INDEX = RunbookIndex(runbook_dirs())
    return _DEFAULT_INDEX


async def triage(pod: str | None = None, deployment: str | None = None,
                 namespace: str | None = None, lines: int = 300, *,
                 sources: Sources | None = None, cluster: ClusterConfig | None = None,
                 runbooks: RunbookIndex | None = None, at: datetime | None = None,
                 ) -> TriageResult:
    """`oncall triage --pod NAME | --deployment NAME`; ValueError on bad input, NotFound
    when the target does not exist."""
    if bool(pod) == bool(deployment):
        raise ValueError("give exactly one of a pod or a deployment name")
    if not 1 <= lines <= 5000:
        raise ValueError("lines must be between 1 and 5000")
    at = at or datetime.now(timezone.utc)
    async with given_or_opened(sources, cluster) as src:
        return await _triage(src, "Pod" if pod else "Deployment", pod or deployment or "",
                             namespace, lines, runbooks or default_runbooks(), at)


async def _triage(src: Sources, kind: str, name: str, namespace: str | None, lines: int,
                  index: RunbookIndex, at: datetime) -> TriageResult:
    if src.kube is None:
        raise ValueError("triage needs the Kubernetes API (ONCALL_KUBE_API_URL or a kubeconfig)")
    evidence: list[SourceResult] = []
    namespace, target = await _locate(src, kind, name, namespace, evidence)
    pods = await _pods(src, kind, target, namespace, evidence)
    described = await asyncio.gather(*(describe_pod(src.kube, namespace, p, events_limit=0,
                                                    timeout=src.timeout) for p in pods))
    summaries = [d.data for d in described if d.ok]
    failures = [f"{d.query}: {d.status.value}: {d.error}" for d in described if not d.ok]
    failures += [w for d in described for w in d.warnings]
    names = [name] if kind == "Pod" else [name, *(s.name for s in summaries)]
    events_r, reads = await asyncio.gather(
        asyncio.gather(*(src.events.events(namespace, at - EVENTS_WINDOW, at, name=n,
                                           timeout=src.timeout) for n in names)),
        asyncio.gather(*(read_pod(src.logs, s, lines, at, src.timeout) for s in summaries)))
    events = merge(e for r in events_r if r.ok for e in r.data)[:30]
    failures += [w for r in events_r for w in r.warnings]
    flat = [r for per_pod in reads for r in per_pod]
    failures += [f"logs {r.scan.pod}/{r.scan.container} ({r.scan.instance}): "
                 f"{r.result.status.value}: {r.result.error}" for r in flat if r.result.failed]
    top = signatures(flat)
    result = TriageResult(namespace=namespace, target=f"{kind}/{name}", at=at, lines=lines,
                          summary="", pods=summaries, events=events,
                          logs=[r.scan for r in flat], signatures=top)
    result.runbooks, failed = await _runbooks(index, result)
    result.failures = sorted(set(failures + failed))
    result.evidence = evidence + [d.model_copy(update={"data": None}) for d in described] + [
        r.model_copy(update={"data": None}) for r in events_r] + [r.result for r in flat]
    result.next_checks = rules.next_checks(result)
    result.summary = rules.summary(result)
    return result


async def _locate(src: Sources, kind: str, name: str, namespace: str | None,
                  evidence: list[SourceResult]) -> tuple[str, dict]:
    """(namespace, object): the named object in `namespace`, or the only one anywhere."""
    assert src.kube is not None
    resource = "pods" if kind == "Pod" else "deployments"
    if namespace:
        found = await src.kube.get(resource, name, namespace, timeout=src.timeout)
        evidence.append(found.model_copy(update={"data": None}))
        if found.status is Status.EMPTY:
            raise NotFound(f"no {kind.lower()} {name!r} in namespace {namespace!r}")
        _raise_failed(found)
        return namespace, found.data
    found = await src.kube.list(resource, None, field_selector=f"metadata.name={name}",
                                timeout=src.timeout)
    evidence.append(found.model_copy(update={"data": None}))
    _raise_failed(found)
    items = found.data if found.ok else []
    if not items:
        raise NotFound(f"no {kind.lower()} {name!r} in any namespace")
    spaces = sorted({i["metadata"]["namespace"] for i in items})
    if len(spaces) > 1:
        raise ValueError(f"{kind.lower()} {name!r} exists in {', '.join(spaces)}: "
                         "give --namespace")
    return spaces[0], items[0]


async def _pods(src: Sources, kind: str, target: dict, namespace: str,
                evidence: list[SourceResult]) -> list[str]:
    """The pod itself, or the deployment's pods (worst first, at most MAX_PODS)."""
    assert src.kube is not None
    if kind == "Pod":
        return [target["metadata"]["name"]]
    labels = ((target.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    listed = await src.kube.list("pods", namespace, label_selector=selector or None,
                                 timeout=src.timeout)
    evidence.append(listed.model_copy(update={"data": None}))
    _raise_failed(listed)
    pods = sorted(listed.data if listed.ok else [], key=rules.badness, reverse=True)
    return [p["metadata"]["name"] for p in pods[:MAX_PODS]]


def _raise_failed(result: SourceResult) -> None:
    if result.failed:
        raise RuntimeError(f"Kubernetes API: {result.status.value}: {result.error}")


async def _runbooks(index: RunbookIndex,
                    result: TriageResult) -> tuple[list[RunbookSuggestion], list[str]]:
    """Runbooks for the reasons and signatures found; a failing index is reported, not fatal."""
    reasons = rules.reasons(result)
    query = f"{result.target}: " + " ".join(reasons + [s.template for s in result.signatures[:3]])
    try:
        hits = await asyncio.to_thread(index.search, query, reasons=reasons, k=3,
                                       signatures=[s.template for s in result.signatures[:3]])
    except Exception as exc:  # noqa: BLE001 - suggestions help; their absence must not fail triage
        log.exception("runbook search failed")
        return [], [f"runbooks: {type(exc).__name__}: {exc}"]
    return [RunbookSuggestion(title=h.title, source=Path(h.source_path).name, section=h.section,
                              excerpt=h.excerpt[:400], score=h.score, why=h.why)
            for h in hits], []

