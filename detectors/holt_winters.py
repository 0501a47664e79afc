"""Holt-Winters residual check on the paged service's request rate and latency.

The expected value now is the service's own Holt-Winters smoothed level from
before the incident window (PromQL `holt_winters`, the double exponential
smoothing of Prometheus 2.x), carried forward by the least-squares slope of the
hours before it, so a morning ramp is expected rather than flagged. The deviation from
it is measured in units of the series' usual wobble around its own smoothing
(and never less than a share of the level), so a quiet service and a noisy one
are judged alike without per-service thresholds.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import ClassVar

from adapters.envelope import SourceResult
from detectors.context import InvestigationContext, Subject
from detectors.finding import Finding, Severity
from detectors.promql import selector, window
from detectors.registry import register

SMOOTHING, TREND = 0.3, 0.1  # holt_winters(sf, tf)
HISTORY = 6 * 3600  # seconds of the service's past that set the expectation
GAP = 3600  # the incident window, kept out of the expectation
Z_MIN = 4.0  # deviation, in usual wobbles, worth reporting
RELATIVE_FLOOR = 0.05  # the wobble is never taken below 5% of the level


@dataclass(frozen=True)
class Signal:
    key: str
    expr: str
    unit: str
    min_factor: float  # now/expected (or its inverse) below which nothing is reported
    up_only: bool


def signals(namespace: str | None, service: str) -> list[Signal]:
    requests = selector("http_requests_total", namespace=namespace, service=service)
    buckets = selector("http_request_duration_seconds_bucket", namespace=namespace, service=service)
    dsum = selector("http_request_duration_seconds_sum", namespace=namespace, service=service)
    dcount = selector("http_request_duration_seconds_count", namespace=namespace, service=service)
    latency = (f"histogram_quantile(0.95, sum by (le) (rate({buckets}[5m]))) "
               f"or (sum(rate({dsum}[5m])) / sum(rate({dcount}[5m])))")
    return [
        Signal("request_rate", f"sum(rate({requests}[5m]))", "req/s", 1.5, False),
        Signal("latency", latency, "s", 1.25, True),
    ]


def queries(expr: str) -> dict[str, str]:
    """Now, the smoothed level and slope before the gap, and the usual wobble, as PromQL."""
    hist, step, gap = window(HISTORY - GAP), "1m", window(GAP)
    wobble = (f"stddev_over_time((({expr}) - holt_winters(({expr})[30m:{step}], "
              f"{SMOOTHING}, {TREND}))[{hist}:5m] offset {window(GAP)})")
    return {
        "now": expr,
        "level": f"holt_winters(({expr})[{hist}:{step}] offset {gap}, {SMOOTHING}, {TREND})",
        "slope": f"deriv(({expr})[{hist}:{step}] offset {gap})",
        "wobble": wobble,
    }


@dataclass(frozen=True)
class Deviation:
    signal: Signal
    now: float
    expected: float
    wobble: float

    @property
    def z(self) -> float:
        return (self.now - self.expected) / self.wobble

    @property
    def factor(self) -> float:
        return self.now / self.expected if self.expected > 0 else math.inf

    def notable(self) -> bool:
        if self.signal.up_only and self.now <= self.expected:
            return False
        f = self.factor
        big = f >= self.signal.min_factor or f <= 1.0 / self.signal.min_factor
        return abs(self.z) >= Z_MIN and big


@register
class HoltWintersDetector:
    """The paged service's rate or latency off its Holt-Winters expectation."""

    name: ClassVar[str] = "holt-winters"

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        if not ctx.service:
            return []
        sigs = signals(ctx.namespace, ctx.service)
        plans = [queries(s.expr) for s in sigs]
        flat = [q for plan in plans for q in plan.values()]
        answers = await asyncio.gather(*(ctx.instant(q) for q in flat))
        findings = []
        for i, sig in enumerate(sigs):
            results = dict(zip(plans[i], answers[4 * i: 4 * i + 4]))
            deviation = _deviation(sig, results)
            if deviation is not None and deviation.notable():
                findings.append(self._finding(ctx, deviation, results))
        return findings

    def _finding(self, ctx: InvestigationContext, d: Deviation,
                 results: dict[str, SourceResult]) -> Finding:
        sig = d.signal
        factor = d.factor
        if sig.key == "latency":
            what, signal = "p95 latency", "latency-up"
        else:
            what = "request rate"
            signal = "traffic-drop" if d.now < d.expected else "traffic-spike"
        strong = factor >= 2.0 or factor <= 0.5
        magnitude = abs(math.log2(factor)) if 0 < factor < math.inf else 3.0
        return Finding(
            detector=self.name, signal=signal,
            subject=Subject(namespace=ctx.namespace, kind="Service", name=ctx.service or "?"),
            severity=Severity.WARNING if strong else Severity.INFO,
            score=round(min(1.0, 0.25 + 0.25 * magnitude), 3), window=window(GAP),
            title=(f"{ctx.service}: {what} {_fmt(d.now, sig.unit)} against "
                   f"{_fmt(d.expected, sig.unit)} expected ({_factor(factor)}, {d.z:+.1f} sd)"),
            details=[
                f"expected = Holt-Winters level (sf {SMOOTHING}, tf {TREND}) of the "
                f"{window(HISTORY - GAP)} before the last {window(GAP)}, plus that stretch's linear trend",
                f"usual wobble around its own smoothing: {_fmt(d.wobble, sig.unit)}",
            ],
            facts={"signal": sig.key, "now": d.now, "expected": d.expected, "wobble": d.wobble,
                   "z": round(d.z, 2), "factor": round(factor, 4) if factor < math.inf else None},
            evidence=[results["now"], results["level"], results["wobble"]],
        )


def _value(result: SourceResult) -> float | None:
    if not result.ok or not result.data:
        return None
    value = result.data[0].value
    return value if math.isfinite(value) else None


def _deviation(sig: Signal, r: dict[str, SourceResult]) -> Deviation | None:
    now, level, slope, wobble = (_value(r[k]) for k in ("now", "level", "slope", "wobble"))
    if now is None or level is None:
        return None
    expected = max(level + (slope or 0.0) * GAP, 0.0)
    floor = max(RELATIVE_FLOOR * abs(expected), 1e-9)
    return Deviation(sig, now, expected, max(wobble or 0.0, floor))


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:.2f} {unit}"


def _factor(f: float) -> str:
    if f == math.inf:
        return "from zero"
    return f"{f:.1f}x" if f >= 1 else f"-{1 - f:.0%}"
