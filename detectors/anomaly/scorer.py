"""Streaming anomaly score for one metric series, with one configuration for all series.

Each point is judged against the points before it only, so the scorer can run
live on a stream and its past answers never change. Two views are scored and
the worse one wins:

- the raw values: is the recent level (1, 8 or 32 points averaged) outside the
  range of such levels over the reference window? Catches spikes, steps, drifts
  and dropouts whatever the noise looks like;
- when the series has a cycle (found by autocorrelation), the residual from the
  median of the same phase in the last three cycles: catches a missing daily
  peak or a flat stretch that stays within the raw range.

An alarm re-arms only after a cooldown, so one incident makes one alarm.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from detectors.anomaly.extremes import Exceedance, ExceedanceTrack
from detectors.anomaly.season import detect_period, similar


@dataclass(frozen=True)
class ScorerConfig:
    """Knobs of the scorer; the defaults are the single setting used for every series."""

    scales: tuple[int, ...] = (1, 8, 32)  # points averaged: spikes, bursts, level shifts
    window: int = 2000  # points of reference range
    gap_per_scale: int = 4  # reference ends gap*scale points back, so drifts add up
    warmup: int = 400  # reference points needed before any alarm
    threshold: float = 0.2  # exceedance (in reference-range widths) that alarms
    cooldown: int = 200  # points after an alarm before the next one
    history: int = 4800  # points kept for seasonality
    period_every: int = 288  # points between seasonality checks
    min_period_points: int = 600  # points needed before looking for a cycle


@dataclass(frozen=True)
class Score:
    """Verdict on one point: `score` is 0 (in range) to 1, 0.5 at the alarm threshold."""

    ts: float
    value: float
    score: float
    anomaly: bool
    exceedance: float = 0.0
    reason: str = ""


class StreamingScorer:
    """Scores one series point by point: `update(ts, value)` -> Score."""

    def __init__(self, config: ScorerConfig | None = None) -> None:
        self.config = cfg = config or ScorerConfig()
        self._raw = self._track()
        self._seasonal: ExceedanceTrack | None = None
        self._history: deque[float] = deque(maxlen=cfg.history)
        self.period = 0
        self._count = 0
        self._last_alarm: int | None = None

    def _track(self) -> ExceedanceTrack:
        cfg = self.config
        return ExceedanceTrack(cfg.scales, cfg.window, cfg.gap_per_scale, cfg.warmup)

    def update(self, ts: float, value: float) -> Score:
        """Score `value` against the points seen so far, then remember it."""
        if not math.isfinite(value):
            return Score(ts, value, 0.0, False, reason="not a finite number")
        cfg = self.config
        index = self._count
        self._count += 1
        if index % cfg.period_every == 0 and len(self._history) >= cfg.min_period_points:
            self._check_period()
        worst = self._raw.update(value)
        seasonal = False
        p = self.period
        if self._seasonal is not None and len(self._history) >= 3 * p:
            h = self._history
            expected = sorted((h[-p], h[-2 * p], h[-3 * p]))[1]
            candidate = self._seasonal.update(value - expected)
            if candidate is not None and (worst is None or candidate.value > worst.value):
                worst, seasonal = candidate, True
        self._history.append(value)
        excess = worst.value if worst is not None else 0.0
        score = 1.0 - 2.0 ** (-excess / cfg.threshold)
        alarm = excess >= cfg.threshold and (
            self._last_alarm is None or index - self._last_alarm > cfg.cooldown)
        if alarm:
            self._last_alarm = index
        reason = _explain(worst, seasonal, self.period) if excess > 0 else ""
        return Score(ts, value, round(score, 6), alarm, excess, reason)

    def _check_period(self) -> None:
        period = detect_period(np.fromiter(self._history, dtype=float), self.period)
        if period != self.period:
            if not similar(period, self.period):  # a new cycle: relearn its residuals
                self._seasonal = self._track() if period else None
            self.period = period


def _explain(e: Exceedance | None, seasonal: bool, period: int) -> str:
    if e is None:
        return ""
    what = "value" if e.scale == 1 else f"mean of last {e.scale} points"
    if seasonal:
        what = f"{what} minus the same phase of the last 3 cycles ({period} points)"
    side = "above" if e.mean > e.high else "below"
    return f"{what} {e.mean:.4g} is {side} the recent range [{e.low:.4g}, {e.high:.4g}]"


def score_series(points: Iterable[tuple[float, float]],
                 config: ScorerConfig | None = None) -> list[Score]:
    """Score a whole series in order, as if it arrived point by point."""
    scorer = StreamingScorer(config)
    return [scorer.update(ts, value) for ts, value in points]
