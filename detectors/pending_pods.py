"""Pods stuck in Pending, grouped by workload: the scheduler cannot place them."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import ClassVar

from detectors.context import InvestigationContext, Subject
from detectors.finding import Finding, Severity
from detectors.promql import selector
from detectors.registry import register
from detectors.workloads import pod_owners, workload_of


@register
class PendingPodsDetector:
    name: ClassVar[str] = "pending-pods"

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        # pending for the whole last 10 minutes, not a pod that is just starting
        phase = selector("kube_pod_status_phase", namespace=ctx.namespace, phase="Pending")
        expr = f"min_over_time(max by (namespace, pod) ({phase})[10m:1m]) == 1"
        unsched = f"max by (namespace, pod) ({selector('kube_pod_status_unschedulable', namespace=ctx.namespace)}) == 1"
        owners, pending, unschedulable = await asyncio.gather(
            pod_owners(ctx), ctx.instant(expr), ctx.instant(unsched))
        if not pending.ok:
            return []
        flagged = {(s.labels.get("namespace", ""), s.labels.get("pod", "")) for s in unschedulable.data or []}
        groups: dict[str, tuple[Subject, list[str]]] = {}
        for s in pending.data:
            ns, pod = s.labels.get("namespace", ""), s.labels.get("pod", "")
            subject = workload_of(owners, ns, pod)
            groups.setdefault(str(subject), (subject, []))[1].append(pod)
        out = []
        for subject, pods in groups.values():
            marked = sum((subject.namespace or "", p) in flagged for p in pods)
            why = f"; {marked} marked unschedulable by the scheduler" if marked else ""
            out.append(Finding(
                detector=self.name, signal="pending", subject=subject,
                severity=Severity.PAGE if len(pods) >= 2 else Severity.WARNING,
                score=round(min(1.0, 0.5 + 0.1 * len(pods) + (0.2 if marked else 0)), 3), window="10m",
                title=f"{subject.kind} {subject.name}: {len(pods)} pod(s) Pending for 10 min or more{why}",
                details=sorted(pods), facts={"pods": sorted(pods), "unschedulable": marked},
                evidence=[pending, unschedulable],
            ))
        return out
