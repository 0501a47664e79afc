"""Multi-scale "outside anything seen lately" check on one stream of numbers.

For a few averaging scales s (1 point, a few points, tens of points) the mean
of the last s values is compared with the lowest and highest s-means of a long
reference window. The exceedance beyond that range, in units of the range's
width, needs no noise model: a heavy-tailed, bimodal or quantised metric sets
its own range, so one threshold fits every series. The reference stops a few
scales before now, so a slow drift accumulates instead of being absorbed.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass


class SlidingExtremes:
    """Minimum and maximum of the last `size` values pushed, in O(1) amortised time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.count = 0
        self._max: deque[tuple[int, float]] = deque()
        self._min: deque[tuple[int, float]] = deque()

    def push(self, value: float) -> None:
        i = self.count
        self.count += 1
        while self._max and self._max[-1][1] <= value:
            self._max.pop()
        self._max.append((i, value))
        while self._min and self._min[-1][1] >= value:
            self._min.pop()
        self._min.append((i, value))
        while self._max[0][0] <= i - self.size:
            self._max.popleft()
        while self._min[0][0] <= i - self.size:
            self._min.popleft()

    @property
    def low(self) -> float:
        return self._min[0][1]

    @property
    def high(self) -> float:
        return self._max[0][1]


@dataclass(frozen=True)
class Exceedance:
    """How far the current s-mean lies outside the reference range, in range widths."""

    value: float
    scale: int
    mean: float
    low: float
    high: float


class ExceedanceTrack:
    """Exceedance of a stream's recent means over their own recent extremes."""

    def __init__(self, scales: tuple[int, ...], window: int, gap_per_scale: int,
                 warmup: int) -> None:
        self.scales = tuple(sorted(scales))
        self.warmup = warmup
        self._recent: deque[float] = deque(maxlen=max(self.scales))
        self._sum = {s: 0.0 for s in self.scales}
        self._updates = 0
        self._pending = {s: deque(maxlen=max(1, gap_per_scale * s) + 1) for s in self.scales}
        self._reference = {s: SlidingExtremes(window) for s in self.scales}

    def update(self, value: float) -> Exceedance | None:
        """Add one value; the largest exceedance over the scales, None while warming up."""
        recent = self._recent
        for s in self.scales:  # running sums of the last s values
            self._sum[s] += value
            if len(recent) >= s:
                self._sum[s] -= recent[-s]
        recent.append(value)
        self._updates += 1
        if self._updates % 4096 == 0:  # shed accumulated rounding error
            tail = list(recent)
            self._sum = {s: math.fsum(tail[-s:]) for s in self.scales}
        best: Exceedance | None = None
        for s in self.scales:
            if len(recent) < s:
                continue
            mean = self._sum[s] / s
            pending = self._pending[s]
            pending.append(mean)
            reference = self._reference[s]
            if len(pending) == pending.maxlen:
                reference.push(pending[0])
            if reference.count < self.warmup:
                continue
            low, high = reference.low, reference.high
            width = max(high - low, 1e-9 * (abs(high) + abs(low)), 1e-12)
            excess = max(mean - high, low - mean, 0.0) / width
            if best is None or excess > best.value:
                best = Exceedance(excess, s, mean, low, high)
        return best
