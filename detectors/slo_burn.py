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
from detectors.promql import selector, window
from detectors.registry import register

HOUR = 3600
DAY = 24 * HOUR


@dataclass(frozen=True)
class BurnWindow:
    long: int
    short: int
    budget_share: float
    severity: Severity

    def factor(self, period: int) -> float:
        return self.budget_share * period / self.long


# (long, short, share of budget) for a 30-day period: 14.4x, 6x, 3x, 1x.
WORKBOOK_WINDOWS: tuple[BurnWindow, ...] = (
    BurnWindow(HOUR, 5 * 60, 0.02, Severity.PAGE),
    BurnWindow(6 * HOUR, 30 * 60, 0.05, Severity.PAGE),
    BurnWindow(DAY, 2 * HOUR, 0.10, Severity.WARNING),
    BurnWindow(3 * DAY, 6 * HOUR, 0.10, Severity.WARNING),
)


def error_ratio_expr(namespace: str | None, service: str, seconds: int,
                     metric: str = "http_requests_total", error_matcher: str = 'code=~"5.."') -> str:
    """Share of failed requests of one service over a window, as PromQL."""
    w = window(seconds)
    errors = selector(metric, error_matcher, namespace=namespace, service=service)
    total = selector(metric, namespace=namespace, service=service)
    return f"sum(rate({errors}[{w}])) / sum(rate({total}[{w}]))"


@register
class SloBurnDetector:
    """Error ratio and burn rate of the service named by the page."""

    name: ClassVar[str] = "slo-burn"
    period: ClassVar[int] = 30 * DAY

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        if not ctx.service:
            return []
        budget = 1.0 - ctx.slo_objective
        seconds = sorted({w.long for w in WORKBOOK_WINDOWS} | {w.short for w in WORKBOOK_WINDOWS})
        results = await asyncio.gather(*(
            ctx.instant(error_ratio_expr(ctx.namespace, ctx.service, s))
            for s in seconds
        ))
        by_window: dict[int, SourceResult] = dict(zip(seconds, results))
        ratios = {s: _first_value(r) for s, r in by_window.items()}
        if all(v is None for v in ratios.values()):
            return []
        burns = {s: (v / budget if v is not None else None) for s, v in ratios.items()}
        return [self._finding(ctx, budget, ratios, burns, by_window)]

    def _finding(self, ctx: InvestigationContext, budget: float, ratios: dict[int, float | None],
                 burns: dict[int, float | None], by_window: dict[int, SourceResult]) -> Finding:
        breached = [w for w in WORKBOOK_WINDOWS if _breaches(w, burns, self.period)]
        worst = breached[0] if breached else None
        short = WORKBOOK_WINDOWS[0].short
        long_ = WORKBOOK_WINDOWS[0].long
        pair = worst or WORKBOOK_WINDOWS[0]
        strength = min(burns[pair.long] or 0.0, burns[pair.short] or 0.0) / pair.factor(self.period)
        severity = worst.severity if worst else (Severity.INFO if strength < 0.5 else Severity.WARNING)
        score = min(1.0, strength / 2) if worst is None else max(0.7, min(1.0, 0.5 + strength / 4))
        verdict = (
            f"{pair.factor(self.period):g}x threshold exceeded on {window(pair.long)} and {window(pair.short)}"
            if worst else "below every burn-rate threshold"
        )
        title = (
            f"{ctx.service}: 5xx ratio {_pct(ratios[short])} over {window(short)} "
            f"(burn {_x(burns[short])}), {_pct(ratios[long_])} over {window(long_)} "
            f"(burn {_x(burns[long_])}): {verdict}"
        )
        details = [
            f"{window(w.long)}/{window(w.short)} pair: burn {_x(burns[w.long])} / {_x(burns[w.short])} "
            f"against {w.factor(self.period):g}x ({w.severity.value})"
            for w in WORKBOOK_WINDOWS
        ]
        details.append(f"SLO objective {ctx.slo_objective:.3%}, error budget {budget:.3%} of requests")
        evidence_windows = sorted({pair.long, pair.short, short})
        return Finding(
            detector=self.name,
            subject=Subject(namespace=ctx.namespace, kind="Service", name=ctx.service),
            severity=severity,
            score=round(score, 3),
            window=window(pair.long),
            title=title,
            details=details,
            facts={
                "objective": ctx.slo_objective,
                "error_ratio": {window(s): r for s, r in ratios.items()},
                "burn_rate": {window(s): b for s, b in burns.items()},
                "breached": [f"{window(w.long)}/{window(w.short)}" for w in breached],
            },
            evidence=[by_window[s] for s in evidence_windows],
        )


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
