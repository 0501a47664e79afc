"""Canary gate workflows: Continue or Hold, with the reasons and numbers behind it.

`canary_gate` judges numbers a pipeline already has; `canary_prom` reads the
same numbers from Prometheus for two label selectors (canary and baseline) and
adds the Kayenta-style per-interval comparison. Both return a `CanaryResult`
that the CLI and the chat handlers only render, so the decision is made here.

Metric conventions (names configurable under `prometheus:` in the policy): a
request counter `http_requests_total` whose `code` label holds the HTTP status
(failures: `code=~"5.."`), and a latency histogram
`http_request_duration_seconds_bucket` (seconds, `le` label). The selectors are
label matchers applied to both, e.g. `namespace="shop",app="checkout",track="canary"`.
"""

from __future__ import annotations

import asyncio
import math
import re
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from adapters.envelope import SourceResult
from adapters.prometheus import PrometheusClient
from detectors.canary import (Arm, CanaryPolicy, Check, gate_checks, input_problems,
                              series_check)
from detectors.promql import window as promql_window
from detectors.slo import parse_duration

_MATCHER = re.compile(r'\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*')


class Decision(StrEnum):
    CONTINUE = "Continue"
    HOLD = "Hold"


class CanaryInputError(ValueError):
    """The input cannot be judged at all (exit code 2), with every reason found."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class CanaryResult(BaseModel):
    """What a canary command decided and why; rendered as text, Markdown or JSON."""

    command: Literal["canary-gate", "canary-prom"]
    decision: Decision
    reasons: list[str] = Field(description="failed checks on Hold, every check on Continue")
    checks: list[Check]
    canary: Arm
    baseline: Arm
    canary_selector: str | None = None
    baseline_selector: str | None = None
    window: str | None = None
    at: datetime | None = None
    evidence: list[SourceResult] = Field(default_factory=list,
                                         description="canary-prom: every query with its deep link")

    @property
    def exit_code(self) -> int:
        return 0 if self.decision is Decision.CONTINUE else 1


def decide(command: Literal["canary-gate", "canary-prom"], checks: list[Check], canary: Arm,
           baseline: Arm, **extra: object) -> CanaryResult:
    """Continue only when every check passed (an empty list is not a pass)."""
    failed = [c for c in checks if not c.passed]
    go = bool(checks) and not failed
    return CanaryResult(command=command, decision=Decision.CONTINUE if go else Decision.HOLD,
                        reasons=[c.reason for c in (checks if go else failed)], checks=checks,
                        canary=canary, baseline=baseline, **extra)


def canary_gate(canary: Arm, baseline: Arm, policy: CanaryPolicy) -> CanaryResult:
    """`oncall canary-gate`: judge given counts and latencies; CanaryInputError on bad input."""
    problems = input_problems(canary, baseline)
    if problems:
        raise CanaryInputError(problems)
    return decide("canary-gate", gate_checks(canary, baseline, policy), canary, baseline)


def normalise_selector(text: str) -> str:
    """`{a="b",c=~"d"}` or `a="b",c=~"d"` to the inner matchers; ValueError if malformed."""
    inner = text.strip()
    if inner.startswith("{") and inner.endswith("}"):
        inner = inner[1:-1]
    matchers, pos = [], 0
    while pos < len(inner):
        match = _MATCHER.match(inner, pos)
        if not match:
            raise ValueError(f"not a label selector: {text!r} "
                             '(use e.g. app="web",track="canary")')
        matchers.append(match.group(0).strip())
        pos = match.end()
        if pos < len(inner):
            if inner[pos] != ",":
                raise ValueError(f"not a label selector: {text!r}")
            pos += 1
    if not matchers:
        raise ValueError("an empty selector would match every series")
    return ",".join(matchers)


class ArmQueries(BaseModel):
    """The PromQL for one arm: window totals, percentiles and per-interval series."""

    total: str
    errors: str
    p95: str
    p99: str
    error_series: str
    latency_series: str


def arm_queries(selector: str, window_s: int, policy: CanaryPolicy) -> ArmQueries:
    conv, series = policy.prometheus, policy.series
    reqs = f"{conv.requests_metric}{{{selector}}}"
    errs = f"{conv.requests_metric}{{{selector},{conv.error_matcher}}}"
    buckets = f"{conv.duration_metric}_bucket{{{selector}}}"
    win, step = promql_window(window_s), promql_window(parse_duration(series.interval))

    def quantile(q: float, rng: str) -> str:
        return f"histogram_quantile({q:g}, sum by (le) (rate({buckets}[{rng}])))"

    return ArmQueries(
        total=f"sum(increase({reqs}[{win}]))",
        errors=f"sum(increase({errs}[{win}])) or vector(0)",
        p95=quantile(0.95, win), p99=quantile(0.99, win),
        error_series=f"(sum(rate({errs}[{step}])) or vector(0)) / sum(rate({reqs}[{step}]))",
        latency_series=quantile(series.latency_quantile, step),
    )


async def canary_prom(prometheus: PrometheusClient, canary_selector: str, baseline_selector: str,
                      window: str, policy: CanaryPolicy,
                      at: datetime | None = None) -> CanaryResult:
    """`oncall canary-prom`: the gate on Prometheus data over `window` ending at `at`."""
    try:
        canary_sel = normalise_selector(canary_selector)
        baseline_sel = normalise_selector(baseline_selector)
        window_s, interval_s = parse_duration(window), parse_duration(policy.series.interval)
    except ValueError as exc:
        raise CanaryInputError([str(exc)]) from None
    if canary_sel == baseline_sel:
        raise CanaryInputError(["the canary and baseline selectors are the same"])
    if window_s < interval_s * policy.series.min_intervals:
        raise CanaryInputError([f"window {window} is shorter than {policy.series.min_intervals} "
                                f"intervals of {policy.series.interval}"])
    at = at or datetime.now(timezone.utc)
    arms = await asyncio.gather(*(
        _fetch_arm(prometheus, arm_queries(sel, window_s, policy), window_s, interval_s, at)
        for sel in (canary_sel, baseline_sel)))
    (canary, c_lat, c_err, c_ev), (baseline, b_lat, b_err, b_ev) = arms
    evidence = c_ev + b_ev
    failed = [r for r in evidence if r.failed]
    checks = [Check("prometheus", False, f"query failed ({r.status.value}): {r.error}: {r.query}")
              for r in failed]
    checks += gate_checks(canary, baseline, policy)
    sp = policy.series
    checks.append(series_check(f"p{sp.latency_quantile * 100:g} per {sp.interval}", " ms",
                               c_lat, b_lat, sp.latency, sp.confidence, sp.min_intervals))
    checks.append(series_check(f"error ratio per {sp.interval}", "", c_err, b_err, sp.errors,
                               sp.confidence, sp.min_intervals))
    return decide("canary-prom", checks, canary, baseline, canary_selector=canary_sel,
                  baseline_selector=baseline_sel, window=window, at=at, evidence=evidence)


async def _fetch_arm(prometheus: PrometheusClient, q: ArmQueries, window_s: int, interval_s: int,
                     at: datetime) -> tuple[Arm, list[float], list[float], list[SourceResult]]:
    """Window totals and per-interval series of one arm, and every query that ran."""
    start = at - timedelta(seconds=window_s - interval_s)
    total, errors, p95, p99, err_series, lat_series = await asyncio.gather(
        prometheus.instant(q.total, at), prometheus.instant(q.errors, at),
        prometheus.instant(q.p95, at), prometheus.instant(q.p99, at),
        prometheus.range(q.error_series, start, at, interval_s),
        prometheus.range(q.latency_series, start, at, interval_s))
    n = _value(total)
    err = _value(errors) or 0.0
    count = round(n) if n is not None else 0
    arm = Arm(ok=max(0, count - round(err)), total=count,
              p95_ms=_ms(_value(p95)), p99_ms=_ms(_value(p99)))
    latencies = [v * 1000 for v in _points(lat_series)]
    return arm, latencies, _points(err_series), [total, errors, p95, p99, err_series, lat_series]


def _value(result: SourceResult) -> float | None:
    """The single value of an instant query; None when empty, failed or NaN."""
    if not result.ok or not result.data:
        return None
    value = result.data[0].value
    return value if math.isfinite(value) else None


def _ms(seconds: float | None) -> float | None:
    return seconds * 1000 if seconds is not None else None


def _points(result: SourceResult) -> list[float]:
    """Finite values of a range query's single series (aggregated queries return one)."""
    if not result.ok or not result.data:
        return []
    return [v for _, v in result.data[0].points if math.isfinite(v)]
