"""Scoring a template miner against labelled logs (Loghub layout).

Shared by the benchmark and the tests so both measure the same thing:

* grouping accuracy (GA): a line is correct when the set of lines in its
  predicted group equals the set of lines sharing its true event id;
* new-signature precision/recall/F1: a true "new" is the first line of each
  true event id, a predicted "new" is a line that created its template.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

LOGHUB_SYSTEMS = ("HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "HPC", "Linux", "OpenSSH")


@dataclass(frozen=True)
class LabelledLog:
    """One Loghub system: raw lines, their message part, their true event ids."""

    system: str
    raw: list[str]
    content: list[str]
    events: list[str]


@dataclass(frozen=True)
class Scores:
    grouping_accuracy: float
    new_precision: float
    new_recall: float

    @property
    def new_f1(self) -> float:
        p, r = self.new_precision, self.new_recall
        return 2 * p * r / (p + r) if p + r else 0.0


def load_loghub(root: Path, system: str) -> LabelledLog:
    """Read ``<root>/<system>/<system>_2k.log`` and its structured csv, in place."""
    folder = root / system
    with open(folder / f"{system}_2k.log", encoding="utf-8", errors="replace") as f:
        raw = [line.rstrip("\r\n") for line in f]
    with open(folder / f"{system}_2k.log_structured.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if len(rows) != len(raw):
        raise ValueError(f"{system}: {len(raw)} raw lines but {len(rows)} labelled rows")
    return LabelledLog(system, raw, [r["Content"] for r in rows], [r["EventId"] for r in rows])


def grouping_accuracy(predicted: Sequence[Hashable], truth: Sequence[Hashable]) -> float:
    """Share of lines whose predicted group is exactly their true group."""
    if len(predicted) != len(truth):
        raise ValueError("predicted and truth differ in length")
    if not truth:
        return 1.0
    by_pred: dict[Hashable, list[int]] = defaultdict(list)
    true_sizes: dict[Hashable, int] = defaultdict(int)
    for i, (p, t) in enumerate(zip(predicted, truth)):
        by_pred[p].append(i)
        true_sizes[t] += 1
    correct = 0
    for members in by_pred.values():
        events = {truth[i] for i in members}
        if len(events) == 1 and true_sizes[truth[members[0]]] == len(members):
            correct += len(members)
    return correct / len(truth)


def new_signature_scores(predicted_new: Sequence[bool], truth: Sequence[Hashable]) -> tuple[float, float]:
    """Precision and recall of "new" flags against first occurrences of true events."""
    seen: set[Hashable] = set()
    true_new = []
    for event in truth:
        true_new.append(event not in seen)
        seen.add(event)
    hits = sum(1 for p, t in zip(predicted_new, true_new) if p and t)
    flagged = sum(1 for p in predicted_new if p)
    precision = hits / flagged if flagged else 0.0
    recall = hits / len(seen) if seen else 0.0
    return precision, recall


def score(ids: Sequence[Hashable], new: Sequence[bool], truth: Sequence[Hashable]) -> Scores:
    """GA and new-signature precision/recall in one go."""
    precision, recall = new_signature_scores(new, truth)
    return Scores(grouping_accuracy(ids, truth), precision, recall)
