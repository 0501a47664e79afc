"""`oncall slo-prom`: an SLO's live error ratio, burn rate and budget spend, from two PromQL inputs.

`--err` and `--tot` are what `policies/slo.yaml` takes: counter selectors
(wrapped as `sum(rate(SEL[w]))`) or expressions with `{{window}}`. Either form
can be evaluated over any window, so besides the asked window the workbook's
multi-window pairs (detectors.slo.WORKBOOK_WINDOWS) are judged too, each only
when Prometheus holds enough history for its long window. A full expression
without `{{window}}` is evaluated as given, and the multi-window verdict is then
unavailable. The SLO arithmetic lives in detectors.slo.
"""

from __future__ import annotations

import asyncio
import math
import re
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field

from adapters.clusters import ClusterConfig
from adapters.envelope import SourceResult, Status
from adapters.prometheus import PrometheusClient
from detectors.promql import window as promql_window
from detectors.slo import ALL_WINDOWS, PLACEHOLDER, WORKBOOK_WINDOWS, Slo
from reasoning.workflows.sources import given_or_opened

_SELECTOR = re.compile(r'^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(\{.*\})?\s*$', re.S)
COVERAGE_STEP = 300


class WindowBurn(BaseModel):
    window: str
    seconds: int
    available: bool = Field(description="Prometheus holds data for the whole window")
    error_ratio: float | None = None
    burn_rate: float | None = None


class PairVerdict(BaseModel):
    long: str
    short: str
    threshold: float = Field(description="burn rate both windows must exceed")
    severity: str
    available: bool
    breached: bool | None = Field(description="None when the long window is not available")
    long_burn: float | None = None
    short_burn: float | None = None


class SloPromResult(BaseModel):
    command: Literal["slo-prom"] = "slo-prom"
    at: datetime
    errors: str
    total: str
    slo_target: float
    period: str
    budget: float = Field(description="allowed error ratio, 1 - target")
    window: str
    error_rate: float | None = Field(description="errors per second over the window")
    total_rate: float | None = Field(description="requests (events) per second over the window")
    error_ratio: float | None
    burn_rate: float | None
    budget_consumed: float | None = Field(description="share of the period's budget spent "
                                          "in the window")
    history: str | None = Field(description="how far back the total series has data (≤ 3d)")
    history_seconds: float | None = None
    windows: list[WindowBurn] = []
    pairs: list[PairVerdict] = []
    severity: Literal["page", "warning", "ok", "unknown"]
    verdict: str
    evidence: list[SourceResult] = []


def windowable(expr: str) -> bool:
    """A selector or a `{{window}}` expression: evaluable over any window."""
    return PLACEHOLDER in expr or bool(_SELECTOR.fullmatch(expr) and expr.strip())


async def slo_prom(err: str, tot: str, window_minutes: int = 5, slo_target: float = 0.995,
                   period: str = "30d", *, prometheus: PrometheusClient | None = None,
                   cluster: ClusterConfig | None = None,
                   at: datetime | None = None) -> SloPromResult:
    """`oncall slo-prom`; ValueError on bad input (empty query, target, window, period)."""
    if not err.strip() or not tot.strip():
        raise ValueError("give both --err and --tot")
    if window_minutes < 1:
        raise ValueError("--window-minutes must be at least 1")
    try:
        slo = Slo(name="slo-prom", objective=slo_target, period=period, errors=err, total=tot)
    except ValueError as exc:
        raise ValueError(f"bad SLO: {exc}".replace("\n", " ")) from None
    at = at or datetime.now(timezone.utc)
    if prometheus is not None:
        return await _run(prometheus, slo, window_minutes * 60, period, at)
    async with given_or_opened(None, cluster) as src:
        return await _run(src.prometheus, slo, window_minutes * 60, period, at)


async def _run(prom: PrometheusClient, slo: Slo, seconds: int, period: str,
               at: datetime) -> SloPromResult:
    multi = windowable(slo.errors) and windowable(slo.total)
    spans = [seconds, *(ALL_WINDOWS if multi else ())]
    spans = list(dict.fromkeys(spans))
    calls = [q for s in spans for q in _queries(slo, s, multi)]
    coverage_q = (f"min_over_time(timestamp({slo.rate(slo.total, COVERAGE_STEP)})"
                  f"[{promql_window(max(ALL_WINDOWS))}:{promql_window(COVERAGE_STEP)}])")
    answers = await asyncio.gather(*(prom.instant(q, at) for q in calls),
                                   *([prom.instant(coverage_q, at)] if multi else []))
    if all(a.failed for a in answers):
        first = answers[0]
        raise RuntimeError(f"Prometheus: {first.status.value}: {first.error}")
    rates = {s: (answers[2 * i], answers[2 * i + 1]) for i, s in enumerate(spans)}
    history = _history(answers[-1], at) if multi else None
    err_rate, tot_rate = (_value(r, zero_if_empty=True) for r in rates[seconds])
    err_rate = err_rate if tot_rate is not None else None
    ratio = _ratio(*rates[seconds])
    result = SloPromResult(
        at=at, errors=slo.errors, total=slo.total, slo_target=slo.objective, period=period,
        budget=slo.budget, window=promql_window(seconds), error_rate=err_rate,
        total_rate=tot_rate, error_ratio=ratio,
        burn_rate=slo.burn(ratio) if ratio is not None else None,
        budget_consumed=slo.budget_spent(ratio, seconds) if ratio is not None else None,
        history=_span(history) if history is not None else None, history_seconds=history,
        severity="unknown", verdict="", evidence=list(answers))
    if multi:
        result.windows = [_window(slo, s, rates[s], history) for s in ALL_WINDOWS]
        result.pairs = _pairs(slo, {w.seconds: w for w in result.windows})
    result.severity, result.verdict = _verdict(result, multi)
    return result


def _queries(slo: Slo, seconds: int, multi: bool) -> list[str]:
    if not multi:  # full expressions: as given, whatever window they carry
        return [slo.errors, slo.total]
    return [slo.rate(slo.errors, seconds), slo.rate(slo.total, seconds)]


def _value(result: SourceResult, *, zero_if_empty: bool = False) -> float | None:
    """The sum over the series of an instant query; no series is 0 errors, not unknown."""
    if result.status is Status.EMPTY and zero_if_empty:
        return 0.0
    if not result.ok:
        return None
    values = [s.value for s in result.data if math.isfinite(s.value)]
    return sum(values) if values else None


def _ratio(errors: SourceResult, total: SourceResult) -> float | None:
    tot = _value(total)
    if tot is None or tot <= 0:
        return None
    err = _value(errors, zero_if_empty=True)
    return None if err is None else err / tot


def _history(result: SourceResult, at: datetime) -> float | None:
    first = _value(result)
    return max(0.0, at.timestamp() - first) if first is not None else None


def _span(seconds: float) -> str:
    """`5h57m`, `2d3h`, `40m`: a rough length of history."""
    minutes = int(seconds // 60)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    return f"{hours}h{mins:02d}m" if hours else f"{mins}m"


def _window(slo: Slo, seconds: int, pair: tuple[SourceResult, SourceResult],
            history: float | None) -> WindowBurn:
    # rate() needs two samples and the coverage probe steps by 5 min: allow that much short
    available = history is not None and history >= seconds * 0.95 - COVERAGE_STEP
    ratio = _ratio(*pair) if available else None
    return WindowBurn(window=promql_window(seconds), seconds=seconds, available=available,
                      error_ratio=ratio, burn_rate=slo.burn(ratio) if ratio is not None else None)


def _pairs(slo: Slo, by: dict[int, WindowBurn]) -> list[PairVerdict]:
    out = []
    for w in WORKBOOK_WINDOWS:
        long_, short = by[w.long], by[w.short]
        factor = w.factor(slo.period)
        ok = long_.available and long_.burn_rate is not None and short.burn_rate is not None
        out.append(PairVerdict(
            long=long_.window, short=short.window, threshold=round(factor, 4),
            severity=w.severity.value, available=long_.available,
            breached=(long_.burn_rate > factor and short.burn_rate > factor) if ok else None,
            long_burn=long_.burn_rate, short_burn=short.burn_rate))
    return out


def _verdict(r: SloPromResult, multi: bool) -> tuple[Literal["page", "warning", "ok", "unknown"],
                                                     str]:
    if not multi:
        return "unknown", ("multi-window verdict unavailable: --err/--tot are full expressions "
                           "(use selectors or {{window}})")
    judged = [p for p in r.pairs if p.breached is not None]
    if not judged:
        have = f"{r.history} of data" if r.history else "no data"
        return "unknown", (f"multi-window verdict unavailable: {have}, the shortest pair needs "
                           f"{r.pairs[0].long}" if r.pairs else "no burn-rate windows")
    breached = [p for p in judged if p.breached]
    if breached:
        worst = next((p for p in breached if p.severity == "page"), breached[0])
        return ("page" if worst.severity == "page" else "warning",
                f"{worst.severity}: burn above {worst.threshold:g}x on both {worst.long} "
                f"({worst.long_burn:.1f}x) and {worst.short} ({worst.short_burn:.1f}x)")
    names = ", ".join(f"{p.long}/{p.short}" for p in judged)
    skipped = len(r.pairs) - len(judged)
    note = f"; {skipped} longer pair(s) lack history ({r.history})" if skipped else ""
    return "ok", f"ok: below every burn-rate threshold ({names}){note}"


