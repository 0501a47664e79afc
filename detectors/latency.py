"""p99 latency per service against its own past, from the request-duration histogram."""

from __future__ import annotations

from typing import ClassVar

from detectors.baseline import compare
from detectors.context import InvestigationContext, Subject
from detectors.finding import Finding, Severity
from detectors.promql import selector
from detectors.registry import register

RISE = 2.0


@register
class LatencyDetector:
    name: ClassVar[str] = "latency"

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        buckets = selector("http_request_duration_seconds_bucket", namespace=ctx.namespace)
        expr = f"histogram_quantile(0.99, sum by (namespace, service, le) (rate({buckets}[5m])))"
        changes, now, before = await compare(ctx, expr, ("namespace", "service"))
        out = []
        for c in changes:
            if c.ratio is None or c.ratio < RISE or c.now != c.now:
                continue
            svc = c.labels.get("service", "?")
            paged = svc == ctx.service
            out.append(Finding(
                detector=self.name, signal="latency-up",
                subject=Subject(namespace=c.labels.get("namespace") or ctx.namespace, kind="Service", name=svc),
                severity=Severity.WARNING, score=round(min(1.0, 0.3 + 0.1 * c.ratio + (0.1 if paged else 0)), 3),
                window="5m",
                title=f"{svc}: p99 latency {c.now * 1000:.0f} ms, {c.ratio:.1f}x its usual {c.before * 1000:.0f} ms",
                details=["p99 over 5m from http_request_duration_seconds against the median of the preceding 5.5 h"],
                facts={"p99_seconds": c.now, "baseline_seconds": c.before, "ratio": c.ratio},
                evidence=[now, before],
            ))
        return out
