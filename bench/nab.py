"""NAB standard-profile score of the streaming anomaly scorer on the shared NAB series.

Scoring follows the Numenta Anomaly Benchmark's published rules (Lavin & Ahmad,
ICMLA 2015), re-implemented here:

- the first 15% of each file (at most 750 rows) is a probationary period, not scored;
- in each labelled window only the first detection counts, worth A_tp times a
  scaled sigmoid of its relative position (about 0.99 at the window start,
  0 at its end): earlier is better;
- a window without any detection costs A_fn;
- every detection outside the windows costs A_fp times the same sigmoid of its
  distance past the previous window (full cost far from, or before, any window);
- the corpus total is normalised so that the null detector (no detections)
  scores 0 and a perfect one (every window at its start, nothing else) 100.

The detector's own `anomaly` flag is the detection; one configuration for all
series. Window-level figures (windows caught, false alarms, detection delay
relative to the labelled anomaly at the window's centre) are printed too.

    .venv/bin/python bench/nab.py [--data ../shared/datasets/nab] [--per-file]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Protocol

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "nab"
STANDARD = {"tp": 1.0, "fp": 0.11, "fn": 1.0}  # weights; A_fp = -0.11, A_fn = -1


class Scorer(Protocol):
    def update(self, ts: float, value: float): ...


@dataclass
class FileResult:
    name: str
    rows: int
    windows: int
    raw: float = 0.0
    caught: int = 0
    false_alarms: int = 0
    fp_cost: float = 0.0
    delays_s: list[float] = field(default_factory=list)
    seconds: float = 0.0


def scaled_sigmoid(position: float) -> float:
    """NAB's weight of a detection at a relative position: ~+1 early in a window, -1 far past it."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_rows(n: int, share: float = 0.15) -> int:
    return min(math.floor(share * n), math.floor(share * 5000))


def parse_ts(text: str) -> float:
    """NAB timestamps (`2014-04-01 00:00:00[.ffffff]`, UTC) as unix seconds."""
    return datetime.fromisoformat(text.strip()).replace(tzinfo=timezone.utc).timestamp()


def load_series(path: Path) -> tuple[list[float], list[float]]:
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = [(parse_ts(r[0]), float(r[1])) for r in reader if r]
    return [t for t, _ in rows], [v for _, v in rows]


def score_file(name: str, ts: list[float], detected: list[bool],
               windows: list[tuple[float, float]], weights: dict[str, float] = STANDARD) -> FileResult:
    """One file's NAB raw score and window-level counts from per-row detections."""
    n = len(ts)
    res = FileResult(name, n, len(windows))
    bounds = []
    for start, end in sorted(windows):
        idx = [i for i, t in enumerate(ts) if start <= t <= end]
        if idx:
            bounds.append((idx[0], idx[-1], start, end))
    probation = probation_rows(n)
    first_hit: dict[int, int] = {}
    w = 0  # next window not yet passed
    for i in range(n):
        while w < len(bounds) and i > bounds[w][1]:
            w += 1
        if not detected[i] or i < probation:
            continue
        if w < len(bounds) and bounds[w][0] <= i:
            first_hit.setdefault(w, i)
            continue
        if w == 0:
            weight = -1.0
        else:
            left, right = bounds[w - 1][0], bounds[w - 1][1]
            weight = scaled_sigmoid(abs(right - i) / max(right - left, 1))
        res.false_alarms += 1
        res.fp_cost += weight * weights["fp"]
    for k, (left, right, start, end) in enumerate(bounds):
        if k in first_hit:
            i = first_hit[k]
            width = right - left + 1
            res.raw += weights["tp"] * scaled_sigmoid(-(right - i + 1) / width)
            res.caught += 1
            res.delays_s.append(ts[i] - (start + end) / 2)
        else:
            res.raw -= weights["fn"]
    res.raw += res.fp_cost
    return res


def run_file(path: Path, windows: list[tuple[float, float]],
             make: Callable[[], Scorer]) -> FileResult:
    ts, values = load_series(path)
    scorer = make()
    started = time.perf_counter()
    detected = [bool(scorer.update(t, v).anomaly) for t, v in zip(ts, values)]
    elapsed = time.perf_counter() - started
    res = score_file(path.relative_to(path.parents[1]).as_posix(), ts, detected, windows)
    res.seconds = elapsed
    return res


def load_windows(data: Path) -> dict[str, list[tuple[float, float]]]:
    labels = json.loads((data / "labels" / "combined_windows.json").read_text())
    return {name: [(parse_ts(a), parse_ts(b)) for a, b in wins] for name, wins in labels.items()}


def run_corpus(data: Path, make: Callable[[], Scorer]) -> list[FileResult]:
    windows = load_windows(data)
    return [run_file(data / "data" / name, wins, make)
            for name, wins in sorted(windows.items()) if (data / "data" / name).exists()]


def normalised(results: Iterable[FileResult], weights: dict[str, float] = STANDARD) -> float:
    results = list(results)
    total_windows = sum(r.windows for r in results)
    null, perfect = -weights["fn"] * total_windows, weights["tp"] * total_windows
    raw = sum(r.raw for r in results)
    return 100.0 * (raw - null) / (perfect - null) if perfect != null else 0.0


def report(results: list[FileResult], per_file: bool) -> str:
    lines = []
    if per_file:
        lines.append(f"{'file':58} {'rows':>6} {'caught':>7} {'FA':>4} {'raw':>7} {'s':>6}")
        for r in results:
            lines.append(f"{r.name:58} {r.rows:6d} {r.caught:3d}/{r.windows:<3d} "
                         f"{r.false_alarms:4d} {r.raw:7.2f} {r.seconds:6.2f}")
    windows = sum(r.windows for r in results)
    caught = sum(r.caught for r in results)
    delays = [d for r in results for d in r.delays_s]
    rows = sum(r.rows for r in results)
    seconds = sum(r.seconds for r in results)
    mean_delay = sum(delays) / len(delays) / 3600 if delays else float("nan")
    lines += [
        f"NAB standard-profile score: {normalised(results):.1f}  "
        f"(null 0, perfect 100; reference on these series: ARTime 65.7, Numenta HTM 59.3)",
        f"windows caught: {caught}/{windows}  false alarms: {sum(r.false_alarms for r in results)} "
        f"(cost {sum(r.fp_cost for r in results):.2f})  "
        f"mean detection delay vs labelled anomaly: {mean_delay:+.1f} h",
        f"runtime: {seconds:.2f} s for {rows} points ({rows / seconds if seconds else 0:,.0f} points/s)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="NAB folder (data/, labels/)")
    parser.add_argument("--per-file", action="store_true", help="one line per series")
    args = parser.parse_args(argv)
    if not (args.data / "labels" / "combined_windows.json").exists():
        print(f"no NAB labels under {args.data}", file=sys.stderr)
        return 2
    from detectors.anomaly import StreamingScorer

    print(report(run_corpus(args.data, StreamingScorer), args.per_file))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
