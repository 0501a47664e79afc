"""5xx ratio of every service in the namespace against its own past.

The paged service's own burn is the slo-burn detector's; this one finds the
*other* services that started failing, which is how a failing dependency shows.
"""

from __future__ import annotations

from typing import ClassVar

from detectors.baseline import compare
from detectors.context import InvestigationContext, Subject
from detectors.finding import Finding, Severity
from detectors.promql import selector
from detectors.registry import register

MIN_RATIO = 0.01  # 1 % of requests failing
RISE = 3.0


@register
class ServiceErrorsDetector:
    name: ClassVar[str] = "service-errors"

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        total = selector("http_requests_total", namespace=ctx.namespace)
        errors = selector("http_requests_total", 'code=~"5.."', namespace=ctx.namespace)
        by = "sum by (namespace, service)"
        expr = f"({by} (rate({errors}[5m])) or {by} (rate({total}[5m])) * 0) / {by} (rate({total}[5m]))"
        changes, now, before = await compare(ctx, expr, ("namespace", "service"))
        out = []
        for c in changes:
            base = c.before or 0.0
            if c.now != c.now or c.now < MIN_RATIO or c.now < RISE * max(base, MIN_RATIO / RISE):
                continue
            svc = c.labels.get("service", "?")
            out.append(Finding(
                detector=self.name, signal="error-ratio",
                subject=Subject(namespace=c.labels.get("namespace") or ctx.namespace, kind="Service", name=svc),
                severity=Severity.WARNING, score=round(min(1.0, 0.4 + 2 * c.now), 3), window="5m",
                title=f"{svc}: {c.now:.1%} of requests fail (5xx) over 5m, usually {base:.2%}",
                details=["5xx ratio over 5m against the median of the preceding 5.5 h"],
                facts={"error_ratio": c.now, "baseline": base, "paged": svc == ctx.service},
                evidence=[now, before],
            ))
        return out
