"""Seasonality detection for the streaming scorer.

Daily or weekly cycles make a healthy series look abnormal to a plain range
check (every night is a "drop"), so the scorer also watches the residual from
the same phase of earlier cycles. The period is found from the series itself
(autocorrelation), never configured per series.
"""

from __future__ import annotations

import numpy as np


def autocorrelation(values: np.ndarray) -> np.ndarray | None:
    """Autocorrelation by lag, corrected for the shrinking overlap; None for a constant series."""
    n = len(values)
    centred = values - values.mean()
    if not np.any(centred):
        return None
    spectrum = np.fft.rfft(centred, 2 * n)
    raw = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
    return raw / raw[0] * n / (n - np.arange(n))


def detect_period(values: np.ndarray, current: int = 0, *, min_lag: int = 4,
                  min_corr: float = 0.5, near: float = 0.9) -> int:
    """Length in points of the dominant cycle, or 0 when the series has none.

    Picks the shortest autocorrelation peak within `near` of the strongest one
    (so a daily cycle wins over its weekly multiple), and keeps `current` while
    it still qualifies: a one-off anomaly in the buffer must not flip the period
    and throw away the seasonal baseline at the very moment it is needed.
    """
    corr = autocorrelation(np.asarray(values, dtype=float))
    if corr is None:
        return 0
    max_lag = len(values) // 3
    peaks = [lag for lag in range(min_lag, max_lag)
             if corr[lag] >= min_corr and corr[lag] >= corr[lag - 1] and corr[lag] >= corr[lag + 1]]
    if not peaks:
        return 0
    top = max(corr[lag] for lag in peaks)
    first = next(lag for lag in peaks if corr[lag] >= near * top)
    lo, hi = max(min_lag, first - first // 20), min(max_lag, first + first // 10 + 1)
    fresh = lo + int(np.argmax(corr[lo:hi]))  # the top of that peak, not a noisy shoulder
    if (min_lag <= current < max_lag and corr[current] >= max(min_corr, near * top)
            and not similar(current, fresh)):
        return current
    return fresh


def similar(a: int, b: int) -> bool:
    """Periods close enough to be the same cycle, measured more precisely."""
    return a > 0 and b > 0 and abs(a - b) <= max(a, b) // 20
