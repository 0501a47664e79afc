"""Multi-window, multi-burn-rate SLO check for the paged service.

After the Google SRE workbook: a long window proves the burn is significant, a
short one that it is still happening. Thresholds derive from the budget share
each pair may consume: factor = share * period / long window.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from adapters.envelope import SourceResult
from detectors.context import InvestigationContext, Subject
from detectors.finding import Finding, Severity
from detectors.promql import window
from detectors.registry import register
from detectors.slo import ALL_WINDOWS, WORKBOOK_WINDOWS, BurnWindow, Slo, default_slo, find_slo


@register
class SloBurnDetector:
    """Error ratio and burn rate of the service named by the page."""

    name: ClassVar[str] = "slo-burn"

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        if not ctx.service:
            return []
        slo = find_slo(ctx.slos, ctx.namespace, ctx.service) or default_slo(
            ctx.namespace, ctx.service, ctx.slo_objective)
        seconds = [*ALL_WINDOWS, slo.period]
        results = await asyncio.gather(*(ctx.instant(slo.ratio_expr(s)) for s in seconds))
        by_window: dict[int, SourceResult] = dict(zip(seconds, results))
        ratios = {s: _first_value(r) for s, r in by_window.items()}
        if all(v is None for v in ratios.values()):
            return []
        burns = {s: (v / slo.budget if v is not None else None) for s, v in ratios.items()}
        return [self._finding(ctx, slo, ratios, burns, by_window)]

    def _finding(self, ctx: InvestigationContext, slo: Slo, ratios: dict[int, float | None],
                 burns: dict[int, float | None], by_window: dict[int, SourceResult]) -> Finding:
        budget, period = slo.budget, slo.period
        breached = [w for w in WORKBOOK_WINDOWS if _breaches(w, burns, period)]
        worst = breached[0] if breached else None
        short = WORKBOOK_WINDOWS[0].short
        long_ = WORKBOOK_WINDOWS[0].long
        pair = worst or WORKBOOK_WINDOWS[0]
        strength = min(burns[pair.long] or 0.0, burns[pair.short] or 0.0) / pair.factor(period)
        severity = worst.severity if worst else (Severity.INFO if strength < 0.5 else Severity.WARNING)
        score = min(1.0, strength / 2) if worst is None else max(0.7, min(1.0, 0.5 + strength / 4))
        verdict = (
            f"{pair.factor(period):g}x threshold exceeded on {window(pair.long)} and {window(pair.short)}"
            if worst else "below every burn-rate threshold"
        )
        title = (
            f"{ctx.service}: 5xx ratio {_pct(ratios[short])} over {window(short)} "
            f"(burn {_x(burns[short])}), {_pct(ratios[long_])} over {window(long_)} "
            f"(burn {_x(burns[long_])}): {verdict}"
        )
        details = [
            f"{window(w.long)}/{window(w.short)} pair: burn {_x(burns[w.long])} / {_x(burns[w.short])} "
            f"against {w.factor(period):g}x ({w.severity.value})"
            for w in WORKBOOK_WINDOWS
        ]
        details.append(f"SLO {slo.name}: objective {slo.objective:.3%} over {window(period)}, "
                       f"error budget {budget:.3%} of requests")
        remaining, exhausted_in = budget_outlook(ratios.get(period), burns.get(long_), slo)
        if remaining is not None and remaining <= 0:
            details.append(f"{window(period)} error budget exhausted: {1 - remaining:.1f}x of it spent")
        elif remaining is not None:
            left = f"{remaining:.0%} of the {window(period)} error budget left"
            if exhausted_in is not None:
                left += f", gone in {_human(exhausted_in)} at the current {window(long_)} burn"
            details.append(left)
        evidence_windows = sorted({pair.long, pair.short, short})
        return Finding(
            detector=self.name,
            signal="error-budget-burn",
            subject=Subject(namespace=ctx.namespace, kind="Service", name=ctx.service),
            severity=severity,
            score=round(score, 3),
            window=window(pair.long),
            title=title,
            details=details,
            facts={
                "slo": slo.name,
                "objective": slo.objective,
                "budget_remaining": remaining,
                "seconds_to_exhaustion": exhausted_in,
                "error_ratio": {window(s): r for s, r in ratios.items()},
                "burn_rate": {window(s): b for s, b in burns.items()},
                "breached": [f"{window(w.long)}/{window(w.short)}" for w in breached],
            },
            evidence=[by_window[s] for s in evidence_windows],
        )


def budget_outlook(period_ratio: float | None, burn: float | None,
                   slo: Slo) -> tuple[float | None, float | None]:
    """(share of the period's budget left, seconds until it is gone at `burn`).

    Burning at 1x spends the whole budget in exactly one period, so what is
    left lasts `remaining * period / burn`.
    """
    if period_ratio is None:
        return None, None
    remaining = 1.0 - period_ratio / slo.budget
    if remaining <= 0:
        return remaining, 0.0
    if not burn or burn <= 0:
        return remaining, None
    return remaining, remaining * slo.period / burn


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def _breaches(w: BurnWindow, burns: dict[int, float | None], period: int) -> bool:
    long_, short = burns.get(w.long), burns.get(w.short)
    factor = w.factor(period)
    return long_ is not None and short is not None and long_ > factor and short > factor


def _first_value(result: SourceResult) -> float | None:
    if not result.ok or not result.data:
        return None
    value = result.data[0].value
    return None if value != value else value  # NaN: no traffic


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2%}"


def _x(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1f}x"
