"""Client-side streaming anomaly scoring of a single metric series.

`StreamingScorer().update(ts, value)` returns a :class:`Score` (0..1 and an
alarm flag) computed from earlier points only; one configuration serves every
series. Used by `oncall detect series` and benchmarked on NAB by bench/nab.py.
"""

from detectors.anomaly.scorer import Score, ScorerConfig, StreamingScorer, score_series

__all__ = ["Score", "ScorerConfig", "StreamingScorer", "score_series"]
