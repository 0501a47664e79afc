"""CPU limit throttling per workload: the share of CFS periods that were throttled."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from detectors.context import InvestigationContext, Subject
from detectors.finding import Finding, Severity
from detectors.promql import selector
from detectors.registry import register
from detectors.workloads import pod_owners, workload_of

THROTTLED = 0.25  # a quarter of the periods


@register
class CpuThrottlingDetector:
    name: ClassVar[str] = "cpu-throttling"

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        ns = ctx.namespace
        by = "sum by (namespace, pod, container)"
        throttled = selector("container_cpu_cfs_throttled_periods_total", namespace=ns)
        periods = selector("container_cpu_cfs_periods_total", namespace=ns)
        expr = f"{by} (rate({throttled}[10m])) / {by} (rate({periods}[10m])) > {THROTTLED}"
        before = f"{by} (rate({throttled}[1h] offset 2h)) / {by} (rate({periods}[1h] offset 2h))"
        owners, now, past = await asyncio.gather(pod_owners(ctx), ctx.instant(expr), ctx.instant(before))
        if not now.ok:
            return []
        usual = {(s.labels.get("pod"), s.labels.get("container")): s.value for s in past.data or []}
        worst: dict[str, tuple[Subject, float, list[str], float | None]] = {}
        for s in now.data:
            subject = workload_of(owners, s.labels.get("namespace", ""), s.labels.get("pod", ""))
            prev = worst.get(str(subject))
            pods = (prev[2] if prev else []) + [s.labels.get("pod", "")]
            base = usual.get((s.labels.get("pod"), s.labels.get("container")))
            worst[str(subject)] = (subject, max(s.value, prev[1] if prev else 0.0), pods, base)
        return [Finding(
            detector=self.name, signal="cpu-throttled", subject=subject,
            severity=Severity.WARNING, score=round(min(1.0, 0.3 + share), 3), window="10m",
            title=f"{subject.kind} {subject.name}: up to {share:.0%} of CPU periods throttled at its limit"
                  + (f" (2 h earlier {base:.0%})" if base is not None else ""),
            details=sorted(pods), facts={"throttled_share": share, "earlier": base, "pods": sorted(pods)},
            evidence=[now, past],
        ) for subject, share, pods, base in worst.values()]
