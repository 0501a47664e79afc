"""New log signatures: our online template miner vs Drain3, side by side.

Input: the 8 Loghub-2k systems in ../shared/datasets/loghub-2k (read in
place). Each miner sees the same lines in the same process; ids are the ones
emitted online, line by line (what `oncall logs signatures` prints).

Figures per system and their mean: grouping accuracy (GA), new-signature
precision / recall / F1 (a true "new" is the first line of each true EventId;
a predicted one is a line that created its template) and lines per second
(best of --repeat timed passes, masking included).

Primary figures are on RAW lines (headers included), since that is what the
CLI receives; the same table on the `Content` column (headers stripped by
Loghub's own parser) is printed after it for comparison with published figures.

Drain3 runs with its default configuration (similarity 0.4, depth 4, library
defaults otherwise) plus the masking list of its example drain3.ini.

    .venv/bin/python bench/log_signatures.py [--repeat 3] [--data DIR]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detectors.logsig import TemplateMiner  # noqa: E402
from detectors.logsig.evaluation import LOGHUB_SYSTEMS, Scores, load_loghub, score  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "loghub-2k"

# Configuration data: the masking list of Drain3's examples/drain3.ini.
DRAIN3_MASKING = [
    (r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)", "ID"),
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
    (r"(?<=executed cmd )(\".+?\")", "CMD"),
]

Run = Callable[[list[str]], tuple[list[str], list[bool]]]


def run_ours(lines: list[str]) -> tuple[list[str], list[bool]]:
    miner = TemplateMiner()
    ids: list[str] = []
    new: list[bool] = []
    for line in lines:
        match = miner.add(line)
        ids.append(match.template_id)
        new.append(match.new)
    return ids, new


def drain3_runner() -> Run | None:
    """A Drain3 runner, or None when drain3 is not installed."""
    try:
        from drain3 import TemplateMiner as Drain3Miner
        from drain3.masking import MaskingInstruction
        from drain3.template_miner_config import TemplateMinerConfig
    except ImportError:
        return None
    logging.getLogger("drain3").setLevel(logging.WARNING)

    def run(lines: list[str]) -> tuple[list[str], list[bool]]:
        config = TemplateMinerConfig()
        config.drain_sim_th = 0.4
        config.drain_depth = 4
        config.masking_instructions = [MaskingInstruction(p, m) for p, m in DRAIN3_MASKING]
        config.mask_prefix, config.mask_suffix = "<:", ":>"
        miner = Drain3Miner(config=config)
        ids: list[str] = []
        new: list[bool] = []
        for line in lines:
            result = miner.add_log_message(line)
            ids.append(str(result["cluster_id"]))
            new.append(result["change_type"] == "cluster_created")
        return ids, new

    return run


def measure(run: Run, lines: list[str], events: list[str], repeat: int) -> tuple[Scores, float]:
    """Scores from the first pass, lines/s from the fastest of ``repeat`` passes."""
    best = float("inf")
    result: tuple[list[str], list[bool]] | None = None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        out = run(lines)
        best = min(best, time.perf_counter() - start)
        result = result or out
    assert result is not None
    return score(result[0], result[1], events), len(lines) / best


def table(title: str, rows: dict[str, dict[str, tuple[Scores, float]]], miners: list[str]) -> None:
    print(f"\n{title}")
    head = f"{'system':<10}"
    for name in miners:
        head += f" | {name:>6} GA    P     R    F1   lines/s"
    print(head)
    print("-" * len(head))
    means = {name: [0.0] * 5 for name in miners}
    for system, cells in rows.items():
        line = f"{system:<10}"
        for name in miners:
            s, speed = cells[name]
            values = [s.grouping_accuracy, s.new_precision, s.new_recall, s.new_f1, speed]
            means[name] = [a + b / len(rows) for a, b in zip(means[name], values)]
            line += f" | {s.grouping_accuracy:9.3f} {s.new_precision:.3f} {s.new_recall:.3f}"
            line += f" {s.new_f1:.3f} {speed:9.0f}"
        print(line)
    line = f"{'mean':<10}"
    for name in miners:
        ga, p, r, f1, speed = means[name]
        line += f" | {ga:9.3f} {p:.3f} {r:.3f} {f1:.3f} {speed:9.0f}"
    print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="loghub-2k folder")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per miner (best kept)")
    parser.add_argument("--no-content", action="store_true", help="skip the Content table")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"dataset folder not found: {args.data}", file=sys.stderr)
        return 2
    runners: dict[str, Run] = {"ours": run_ours}
    drain3 = drain3_runner()
    if drain3 is None:
        print("drain3 is NOT installed: comparison skipped "
              "(install it with `.venv/bin/pip install drain3`)", file=sys.stderr)
    else:
        runners["drain3"] = drain3
    fields = ["raw"] if args.no_content else ["raw", "content"]
    results: dict[str, dict[str, dict[str, tuple[Scores, float]]]] = {f: {} for f in fields}
    for system in LOGHUB_SYSTEMS:
        log = load_loghub(args.data, system)
        for field in fields:
            lines = log.raw if field == "raw" else log.content
            results[field][system] = {
                name: measure(run, lines, log.events, args.repeat) for name, run in runners.items()
            }
    names = list(runners)
    table("RAW lines (primary: what `oncall logs signatures` receives)", results["raw"], names)
    if "content" in results:
        table("Content column (headers stripped by Loghub's parser)", results["content"], names)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
