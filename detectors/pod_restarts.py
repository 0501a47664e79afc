"""Container restarts and why they ended, from kube-state-metrics and cAdvisor.

Restarts are grouped by owning workload, so the finding blames a Deployment or
StatefulSet (what an engineer rolls back or resizes), listing its pods.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import ClassVar

from adapters.envelope import SourceResult
from detectors.context import InvestigationContext, Subject
from detectors.finding import Finding, Severity
from detectors.promql import selector, window
from detectors.registry import register
from detectors.workloads import pod_owners, workload_of

CRASH_REASONS = {"OOMKilled", "Error", "ContainerCannotRun", "StartError"}
MiB = 1024 * 1024


@dataclass
class ContainerFacts:
    pod: str
    container: str
    restarts: float = 0.0
    reason: str | None = None
    exit_code: int | None = None
    memory_peak: float | None = None
    memory_limit: float | None = None

    def line(self) -> str:
        text = f"{self.pod} ({self.container}): {self.restarts:.0f} restarts"
        if self.reason:
            code = f", exit {self.exit_code}" if self.exit_code is not None else ""
            text += f", last terminated {self.reason}{code}"
        if self.memory_peak is not None and self.memory_limit:
            text += (f", memory peak {self.memory_peak / MiB:.0f} MiB of a "
                     f"{self.memory_limit / MiB:.0f} MiB memory limit")
        return text


@dataclass
class WorkloadFacts:
    subject: Subject
    containers: list[ContainerFacts] = field(default_factory=list)

    @property
    def restarts(self) -> float:
        return sum(c.restarts for c in self.containers)

    def reasons(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for c in self.containers:
            if c.reason:
                counts[c.reason] += 1
        return dict(counts)


@register
class PodRestartsDetector:
    """Workloads whose containers restarted in the window, with the last reason."""

    name: ClassVar[str] = "pod-restarts"
    window_seconds: ClassVar[int] = 3600

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        w = window(self.window_seconds)
        ns = ctx.namespace
        by = "by (namespace, pod, container)"
        queries = {
            "restarts": f"sum {by} (increase({selector('kube_pod_container_status_restarts_total', namespace=ns)}[{w}])) > 0",
            "reason": f"max by (namespace, pod, container, reason) ({selector('kube_pod_container_status_last_terminated_reason', namespace=ns)}) == 1",
            "exit_code": f"max {by} ({selector('kube_pod_container_status_last_terminated_exitcode', namespace=ns)})",
            "memory_peak": f"max {by} (max_over_time({selector('container_memory_working_set_bytes', namespace=ns)}[{w}]))",
            "memory_limit": f"max {by} ({selector('kube_pod_container_resource_limits', namespace=ns, resource='memory')})",
        }
        answers = await asyncio.gather(pod_owners(ctx), *(ctx.instant(q) for q in queries.values()))
        owners, results = answers[0], dict(zip(queries, answers[1:]))
        if not results["restarts"].ok:
            return []
        workloads = self._collect(results, owners)
        return [self._finding(wl, results) for wl in workloads if wl.restarts >= 1]

    def _collect(self, r: dict[str, SourceResult],
                 owners: dict[tuple[str, str], Subject]) -> list[WorkloadFacts]:
        def index(name: str) -> dict[tuple[str, str, str], object]:
            out = {}
            for s in r[name].data or []:
                key = (s.labels.get("namespace", ""), s.labels.get("pod", ""), s.labels.get("container", ""))
                out[key] = s.labels.get("reason") if name == "reason" else s.value
            return out

        reason, exit_code = index("reason"), index("exit_code")
        peak, limit = index("memory_peak"), index("memory_limit")
        workloads: dict[str, WorkloadFacts] = {}
        for s in r["restarts"].data or []:
            key = (s.labels.get("namespace", ""), s.labels.get("pod", ""), s.labels.get("container", ""))
            subject = workload_of(owners, key[0], key[1])
            wl = workloads.setdefault(str(subject), WorkloadFacts(subject))
            code = exit_code.get(key)
            wl.containers.append(ContainerFacts(
                pod=key[1], container=key[2], restarts=float(round(s.value)), reason=reason.get(key),
                exit_code=int(code) if code is not None else None,
                memory_peak=peak.get(key), memory_limit=limit.get(key),
            ))
        return sorted(workloads.values(), key=lambda wl: wl.restarts, reverse=True)

    def _finding(self, wl: WorkloadFacts, r: dict[str, SourceResult]) -> Finding:
        reasons = wl.reasons()
        main_reason = max(reasons, key=reasons.get) if reasons else None
        crashing = main_reason in CRASH_REASONS
        pods = sorted({c.pod for c in wl.containers})
        severity = Severity.PAGE if crashing and wl.restarts >= 3 else Severity.WARNING
        score = min(1.0, 0.4 + 0.05 * wl.restarts + (0.3 if crashing else 0.0))
        why = f"; last terminated {main_reason} in {reasons[main_reason]} of them" if main_reason else ""
        title = (f"{wl.subject.kind} {wl.subject.name}: {len(pods)} pod(s) restarted "
                 f"{wl.restarts:.0f} times in {window(self.window_seconds)}{why}")
        evidence = [r["restarts"], r["reason"]]
        if main_reason == "OOMKilled":
            evidence += [r["memory_peak"], r["memory_limit"]]
        signal = "oom-killed" if main_reason == "OOMKilled" else ("crash-exit" if crashing else "restarts")
        return Finding(
            detector=self.name,
            signal=signal,
            subject=wl.subject,
            severity=severity,
            score=round(score, 3),
            window=window(self.window_seconds),
            title=title,
            details=[c.line() for c in sorted(wl.containers, key=lambda c: c.pod)],
            facts={
                "pods": pods,
                "restarts": wl.restarts,
                "reasons": reasons,
                "containers": [c.__dict__ for c in wl.containers],
            },
            evidence=evidence,
        )
