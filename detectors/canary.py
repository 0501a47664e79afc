"""Canary analysis statistics: is the canary worse than the baseline, beyond noise?

Pure functions over numbers, so the gate answers the same from a CI pipeline,
a chat command or Prometheus data. Unlike Kayenta, Flagger and Argo Rollouts,
every verdict first requires a minimum sample size per arm: with too few
requests any comparison is noise, so the answer is Hold, never Continue.

- success rate: one-sided two-proportion z-test of "the canary's success rate
  is lower by more than the policy's minimum delta" (Agresti-Caffo adjusted,
  so an arm with 0 % or 100 % success still has a variance);
- p95/p99: relative regression over the baseline, ignoring tiny absolute ones;
- per-interval series (Kayenta-style): two-sided Mann-Whitney U at the policy's
  confidence level, direction from the Hodges-Lehmann shift, and an
  effect-size tolerance (canary mean / baseline mean) before it counts.

The normal tail comes from the standard library; scipy (for Mann-Whitney, ~85 MB
resident once loaded) is imported only by the series check, so neither `oncall --help`
nor a server that never gates a canary pays for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Sequence

import yaml
from pydantic import BaseModel, Field, ValidationError

Number = float | int | None
_NORMAL = NormalDist()


class LatencyPolicy(BaseModel):
    max_p95_regression: float = Field(0.10, ge=0, description="0.10: canary p95 up to +10 %")
    max_p99_regression: float = Field(0.20, ge=0, description="0.20: canary p99 up to +20 %")
    tolerance_ms: float = Field(5.0, ge=0, description="regressions smaller than this never count")


class SuccessRatePolicy(BaseModel):
    min_delta: float = Field(0.005, ge=0, lt=1, description="drop that matters, 0.005 = 0.5 pp")
    alpha: float = Field(0.05, gt=0, lt=1, description="one-sided significance level")


class SeriesRule(BaseModel):
    allowed_increase: float = Field(1.2, ge=1, description="tolerated canary/baseline mean ratio")
    absolute_tolerance: float = Field(0.0, ge=0, description="tolerated mean difference (unit)")


class SeriesPolicy(BaseModel):
    interval: str = Field("1m", description="length of one per-interval point")
    min_intervals: int = Field(10, ge=3, description="fewer points per arm: insufficient data")
    confidence: float = Field(0.95, gt=0.5, lt=1, description="Mann-Whitney confidence level")
    latency_quantile: float = Field(0.95, gt=0, lt=1, description="quantile per interval")
    latency: SeriesRule = Field(default_factory=lambda: SeriesRule(allowed_increase=1.2,
                                                                   absolute_tolerance=5.0))
    errors: SeriesRule = Field(default_factory=lambda: SeriesRule(allowed_increase=1.5,
                                                                  absolute_tolerance=0.001))


class PrometheusConventions(BaseModel):
    requests_metric: str = "http_requests_total"
    error_matcher: str = 'code=~"5.."'
    duration_metric: str = "http_request_duration_seconds"


class CanaryPolicy(BaseModel):
    """`policies/canary_policy.yaml`; every field has the shipped file's default."""

    min_samples_per_arm: int = Field(500, ge=1, description="requests per arm before any verdict")
    latency: LatencyPolicy = Field(default_factory=LatencyPolicy)
    success_rate: SuccessRatePolicy = Field(default_factory=SuccessRatePolicy)
    series: SeriesPolicy = Field(default_factory=SeriesPolicy)
    prometheus: PrometheusConventions = Field(default_factory=PrometheusConventions)


def load_canary_policy(path: Path | None) -> CanaryPolicy:
    """Read the policy file; no path or a missing file means the defaults.

    Malformed YAML and invalid values both raise ValueError, so callers treat
    a broken policy as bad input instead of a crash.
    """
    if path is None or not path.exists():
        return CanaryPolicy()
    try:
        return CanaryPolicy.model_validate(yaml.safe_load(path.read_text()) or {})
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not YAML: {' '.join(str(exc).split())}") from None
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{path}: {errors}") from None


@dataclass(frozen=True)
class Arm:
    """One side of the comparison over the window: request outcomes and latency in ms."""

    ok: int | None
    total: int | None
    p95_ms: float | None = None
    p99_ms: float | None = None

    @property
    def success_rate(self) -> float | None:
        return self.ok / self.total if self.ok is not None and self.total else None


@dataclass(frozen=True)
class Check:
    """One test of the gate; the decision is Continue only when every check passed."""

    name: str
    passed: bool
    reason: str
    numbers: dict[str, Number] = field(default_factory=dict)


def input_problems(canary: Arm, baseline: Arm) -> list[str]:
    """Why these numbers cannot be judged at all (bad input, not a Hold)."""
    problems: list[str] = []
    for name, arm in (("canary", canary), ("baseline", baseline)):
        for what, value in (("ok", arm.ok), ("total", arm.total), ("p95", arm.p95_ms)):
            if value is None:
                problems.append(f"{name} {what} is missing")
            elif value < 0:
                problems.append(f"{name} {what} is negative ({value:g})")
        if arm.p99_ms is not None and arm.p99_ms < 0:
            problems.append(f"{name} p99 is negative ({arm.p99_ms:g})")
        if arm.ok is not None and arm.total is not None and arm.ok > arm.total:
            problems.append(f"{name} ok ({arm.ok}) is greater than its total ({arm.total})")
    if (canary.p99_ms is None) != (baseline.p99_ms is None):
        problems.append("p99 given for only one arm: give both or neither")
    return problems


def sample_size_check(canary: Arm, baseline: Arm, minimum: int) -> Check:
    arms = (("canary", canary), ("baseline", baseline))
    short = [f"{name} {arm.total or 0}" for name, arm in arms if (arm.total or 0) < minimum]
    numbers: dict[str, Number] = {"canary_total": canary.total, "baseline_total": baseline.total,
                                  "min_samples_per_arm": minimum}
    if short:
        return Check("sample-size", False, f"insufficient data: {' and '.join(short)} requests, "
                     f"the policy needs at least {minimum} per arm", numbers)
    return Check("sample-size", True, f"both arms have at least {minimum} requests", numbers)


def latency_check(name: str, canary_ms: float | None, baseline_ms: float | None,
                  max_regression: float, tolerance_ms: float) -> Check:
    """Hold when the canary's percentile exceeds the baseline's by more than the policy allows."""
    numbers: dict[str, Number] = {"canary_ms": canary_ms, "baseline_ms": baseline_ms,
                                  "max_regression": max_regression, "tolerance_ms": tolerance_ms}
    if canary_ms is None or baseline_ms is None:
        return Check(name, False, f"{name}: no latency data for "
                     f"{'the canary' if canary_ms is None else 'the baseline'}", numbers)
    delta = canary_ms - baseline_ms
    regression = delta / baseline_ms if baseline_ms > 0 else (0.0 if delta <= 0 else None)
    numbers["regression"] = regression
    shown = f"{regression:+.1%}" if regression is not None else "from zero"
    text = (f"{name} canary {canary_ms:.0f} ms vs baseline {baseline_ms:.0f} ms ({shown}, "
            f"policy allows {max_regression:+.0%})")
    if delta > tolerance_ms and (regression is None or regression > max_regression):
        return Check(name, False, f"{name} regression: {text}", numbers)
    return Check(name, True, text, numbers)


def success_rate_check(canary: Arm, baseline: Arm, min_delta: float, alpha: float) -> Check:
    """Is the drop in success rate larger than `min_delta`, with significance `alpha`?"""
    c_ok, c_n, b_ok, b_n = canary.ok or 0, canary.total or 0, baseline.ok or 0, baseline.total or 0
    if c_n == 0 or b_n == 0:
        return Check("success-rate", False, "success rate: no requests in "
                     f"{'the canary' if c_n == 0 else 'the baseline'}", {})
    pc, pb = (c_ok + 1) / (c_n + 2), (b_ok + 1) / (b_n + 2)
    se = math.sqrt(pc * (1 - pc) / (c_n + 2) + pb * (1 - pb) / (b_n + 2))
    z = ((pb - pc) - min_delta) / se
    p_value = 0.5 * math.erfc(z / math.sqrt(2))  # normal upper tail, exact far out
    drop = b_ok / b_n - c_ok / c_n
    lower = (pb - pc) - _NORMAL.inv_cdf(1 - alpha) * se  # one-sided bound on the true drop
    numbers: dict[str, Number] = {
        "canary_success_rate": c_ok / c_n, "baseline_success_rate": b_ok / b_n, "drop": drop,
        "drop_lower_bound": lower, "min_delta": min_delta, "z": z, "p_value": p_value,
        "alpha": alpha}
    text = (f"success rate {c_ok / c_n:.3%} vs baseline {b_ok / b_n:.3%} "
            f"(drop {drop * 100:+.2f} pp, p={p_value:.3g} for a drop over "
            f"{min_delta * 100:.2f} pp at alpha {alpha:g})")
    if p_value < alpha:
        return Check("success-rate", False, f"significant success-rate drop: {text}", numbers)
    return Check("success-rate", True, f"{text}: within noise" if drop > 0 else text, numbers)


def series_check(name: str, unit: str, canary: Sequence[float], baseline: Sequence[float],
                 rule: SeriesRule, confidence: float, min_intervals: int) -> Check:
    """Kayenta-style: Mann-Whitney U on per-interval values, then the effect-size tolerance."""
    import numpy as np
    from scipy.stats import mannwhitneyu

    c = np.array([v for v in canary if math.isfinite(v)], dtype=float)
    b = np.array([v for v in baseline if math.isfinite(v)], dtype=float)
    numbers: dict[str, Number] = {"canary_intervals": int(c.size),
                                  "baseline_intervals": int(b.size),
                                  "min_intervals": min_intervals, "confidence": confidence,
                                  "allowed_increase": rule.allowed_increase,
                                  "absolute_tolerance": rule.absolute_tolerance}
    if c.size < min_intervals or b.size < min_intervals:
        return Check(name, False, f"{name}: insufficient data: {c.size} canary and {b.size} "
                     f"baseline intervals, the policy needs {min_intervals} each", numbers)
    test = mannwhitneyu(c, b, alternative="two-sided")
    p_value = float(test.pvalue) if math.isfinite(test.pvalue) else 1.0
    shift = float(np.median(c[:, None] - b[None, :]))  # Hodges-Lehmann location shift
    c_mean, b_mean = float(c.mean()), float(b.mean())
    effect = c_mean / b_mean if b_mean > 0 else (1.0 if c_mean == 0 else None)
    numbers.update({"u": float(test.statistic), "p_value": p_value, "shift": shift,
                    "canary_mean": c_mean, "baseline_mean": b_mean, "effect_size": effect})
    shown = f"{effect:.2f}x" if effect is not None else "from zero"
    text = (f"{name}: canary mean {c_mean:.4g}{unit} vs baseline {b_mean:.4g}{unit} ({shown}, "
            f"allowed {rule.allowed_increase:.2f}x), Mann-Whitney p={p_value:.3g}")
    higher = (p_value < 1 - confidence and shift > 0
              and (effect is None or effect > rule.allowed_increase)
              and c_mean - b_mean > rule.absolute_tolerance)
    if higher:
        return Check(name, False, f"{text} < {1 - confidence:.2g}: canary higher", numbers)
    return Check(name, True, text, numbers)


def gate_checks(canary: Arm, baseline: Arm, policy: CanaryPolicy) -> list[Check]:
    """The checks both commands run on window totals (p99 only when both arms have one)."""
    lat = policy.latency
    checks = [
        sample_size_check(canary, baseline, policy.min_samples_per_arm),
        success_rate_check(canary, baseline, policy.success_rate.min_delta,
                           policy.success_rate.alpha),
        latency_check("p95", canary.p95_ms, baseline.p95_ms, lat.max_p95_regression,
                      lat.tolerance_ms),
    ]
    if canary.p99_ms is not None or baseline.p99_ms is not None:
        checks.append(latency_check("p99", canary.p99_ms, baseline.p99_ms,
                                    lat.max_p99_regression, lat.tolerance_ms))
    return checks
