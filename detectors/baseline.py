"""Now against before: one series set at the investigation time and its own past.

Detectors compare a service to itself, never to a fixed number, so one setting
fits every workload: the baseline is the median of the same expression over
the preceding hours (sampled with a PromQL subquery), skipping the last
`gap` so an incident already under way does not become its own baseline.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from adapters.envelope import SourceResult
from detectors.context import InvestigationContext
from detectors.promql import window


@dataclass(frozen=True)
class Change:
    labels: dict[str, str]
    now: float
    before: float | None

    @property
    def ratio(self) -> float | None:
        if self.before is None or self.before <= 0:
            return None
        return self.now / self.before


def _key(labels: dict[str, str], by: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(labels.get(k, "") for k in by)


async def compare(ctx: InvestigationContext, expr: str, by: tuple[str, ...], *,
                  history: int = 6 * 3600, gap: int = 1800, step: int = 300,
                  ) -> tuple[list[Change], SourceResult, SourceResult]:
    """`expr` now and its median over [now - history, now - gap], joined on `by` labels."""
    base_expr = (f"quantile_over_time(0.5, ({expr})[{window(history - gap)}:{window(step)}] "
                 f"offset {window(gap)})")
    now, before = await asyncio.gather(ctx.instant(expr), ctx.instant(base_expr))
    if not now.ok:
        return [], now, before
    past = {_key(s.labels, by): s.value for s in (before.data or [] if before.ok else [])}
    changes = [Change(s.labels, s.value, past.get(_key(s.labels, by))) for s in now.data]
    return changes, now, before
