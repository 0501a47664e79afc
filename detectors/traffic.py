"""Request volume far above a service's own baseline: a surge, not a failure."""

from __future__ import annotations

from typing import ClassVar

from detectors.baseline import compare
from detectors.context import InvestigationContext, Subject
from detectors.finding import Finding, Severity
from detectors.promql import selector
from detectors.registry import register

SURGE = 2.5  # x the service's median rate of the preceding hours


@register
class TrafficSurgeDetector:
    name: ClassVar[str] = "traffic"

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        expr = f"sum by (namespace, service) (rate({selector('http_requests_total', namespace=ctx.namespace)}[5m]))"
        changes, now, before = await compare(ctx, expr, ("namespace", "service"))
        out = []
        for c in changes:
            if c.ratio is None or c.ratio < SURGE or c.now < 1.0:
                continue
            svc = c.labels.get("service", "?")
            out.append(Finding(
                detector=self.name, signal="traffic-up",
                subject=Subject(namespace=c.labels.get("namespace") or ctx.namespace, kind="Service", name=svc),
                severity=Severity.WARNING, score=round(min(1.0, 0.15 * c.ratio), 3), window="5m",
                title=f"{svc}: request rate {c.now:.1f}/s is {c.ratio:.1f}x its usual {c.before:.1f}/s",
                details=[f"request rate over 5m against the median of the preceding 5.5 h"],
                facts={"rate": c.now, "baseline": c.before, "ratio": c.ratio},
                evidence=[now, before],
            ))
        return out
