"""The paged service's vital signs (traffic, errors, p99) now and as usual.

Info-level context, always reported when the service has HTTP metrics, so a
report can say "nothing unusual" with numbers instead of silence.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from detectors.baseline import compare
from detectors.context import InvestigationContext, Subject
from detectors.finding import Finding, Severity
from detectors.promql import selector
from detectors.registry import register


@register
class ServiceVitalsDetector:
    name: ClassVar[str] = "vitals"

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        if not ctx.service:
            return []
        sel = dict(namespace=ctx.namespace, service=ctx.service)
        total = selector("http_requests_total", **sel)
        errors = selector("http_requests_total", 'code=~"5.."', **sel)
        buckets = selector("http_request_duration_seconds_bucket", **sel)
        exprs = {
            "request rate": f"sum(rate({total}[5m]))",
            "5xx ratio": f"(sum(rate({errors}[5m])) or vector(0)) / sum(rate({total}[5m]))",
            "p99 latency": f"histogram_quantile(0.99, sum by (le) (rate({buckets}[5m])))",
        }
        answers = await asyncio.gather(*(compare(ctx, e, ()) for e in exprs.values()))
        lines, facts, evidence = [], {}, []
        for (label, _), (changes, now, before) in zip(exprs.items(), answers):
            if not changes or changes[0].now != changes[0].now:
                continue
            c = changes[0]
            lines.append(f"{label}: {_fmt(label, c.now)} now, usually {_fmt(label, c.before)}")
            facts[label.replace(" ", "_")] = {"now": c.now, "usual": c.before}
            evidence += [now, before]
        if not lines:
            return []
        return [Finding(
            detector=self.name, signal="vitals",
            subject=Subject(namespace=ctx.namespace, kind="Service", name=ctx.service),
            severity=Severity.INFO, score=0.1, window="5m",
            title=f"{ctx.service} vitals: " + "; ".join(lines),
            details=lines, facts=facts, evidence=evidence,
        )]


def _fmt(label: str, value: float | None) -> str:
    if value is None or value != value:
        return "n/a"
    if label == "request rate":
        return f"{value:.1f}/s"
    if label == "5xx ratio":
        return f"{value:.2%}"
    return f"{value * 1000:.0f} ms"
