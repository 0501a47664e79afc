"""Error analysis for the log-signature miner: which true events it splits or merges.

GA counts a true event as right only when its lines form exactly one predicted
group, so one stray line costs the whole event. This lists, per Loghub
system, the events that are wrong (largest first) with the templates their
lines went to and what else those templates absorbed: the place to look for a
general cause before changing the miner.

    .venv/bin/python bench/log_signature_errors.py [SYSTEM ...] [--raw|--content] [--top N]
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detectors.logsig import TemplateMiner  # noqa: E402
from detectors.logsig.evaluation import LOGHUB_SYSTEMS, load_loghub  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "loghub-2k"


def report(root: Path, system: str, use_content: bool, top: int) -> list[str]:
    """Lines describing the wrong events of one system, largest first."""
    log = load_loghub(root, system)
    with open(root / system / f"{system}_2k.log_templates.csv", encoding="utf-8", newline="") as f:
        truth_text = {row["EventId"]: row["EventTemplate"] for row in csv.DictReader(f)}
    miner = TemplateMiner()
    ids = [miner.add(line).template_id for line in (log.content if use_content else log.raw)]
    texts = miner.templates()
    by_event: dict[str, Counter[str]] = defaultdict(Counter)
    by_template: dict[str, Counter[str]] = defaultdict(Counter)
    for template_id, event in zip(ids, log.events):
        by_event[event][template_id] += 1
        by_template[template_id][event] += 1
    wrong = [(sum(groups.values()), event, groups) for event, groups in by_event.items()
             if len(groups) > 1 or len(by_template[next(iter(groups))]) > 1]
    wrong.sort(key=lambda item: -item[0])
    lost = sum(size for size, _, _ in wrong)
    out = [f"== {system}: {len(wrong)} wrong events, {lost} of {len(ids)} lines"]
    for size, event, groups in wrong[:top]:
        kind = "SPLIT" if len(groups) > 1 else "MERGED"
        out.append(f"{size:5d} {event} {kind}: {truth_text.get(event, '?')}")
        for template_id, count in groups.most_common(4):
            others = {e: n for e, n in by_template[template_id].most_common(5) if e != event}
            out.append(f"      {count:4d} -> {texts[template_id][:150]!r} with {others}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("systems", nargs="*", default=list(LOGHUB_SYSTEMS))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="loghub-2k folder")
    parser.add_argument("--content", action="store_true", help="use the Content column, not raw")
    parser.add_argument("--top", type=int, default=15, help="wrong events shown per system")
    args = parser.parse_args()
    for system in args.systems:
        print("\n".join(report(args.data, system, args.content, args.top)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
