"""Composite ranking and correlation of one investigation's findings.

Detectors report independently, so the same fact can come twice (a detector run
for two scopes) and related facts come apart: a rollout, then a new error
signature in the same Deployment, then errors in the service that calls it.
What a responder wants first is the strongest, most recent fact, with what
happened just before it on the same workload or on a workload it depends on.

* Duplicates (same detector, signal and subject) collapse into the strongest,
  keeping every distinct piece of evidence.
* Rank = score x severity weight x recency: a condition that began an hour
  before the investigation counts half as much as one that began now.
* A finding that began within ``link_within`` after another, on the same
  workload or on a workload that calls the other's, is linked to it: the
  link is in ``facts["follows"]`` and in a detail line a human reads.
* The top ``top`` findings are kept (all when ``top`` is None).

Start times come from detectors that can tell (``Finding.started``); a finding
without one is ranked as recent and never linked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Iterable, Mapping

from detectors.context import Subject
from detectors.finding import Finding, Severity

SEVERITY_WEIGHT = {Severity.INFO: 0.4, Severity.WARNING: 0.7, Severity.PAGE: 1.0}
RECENCY_HALF_LIFE = timedelta(hours=1)
LINK_WITHIN = timedelta(minutes=15)
MAX_LINKS = 3

WorkloadOf = Callable[[Subject], Subject]


def composite(finding: Finding, at: datetime) -> float:
    """Score x severity weight x recency (1 for a condition that began at `at`)."""
    weight = SEVERITY_WEIGHT[finding.severity] * finding.score
    if finding.started is None:
        return weight
    age = max(timedelta(0), at - finding.started)
    return weight * 0.5 ** (age / RECENCY_HALF_LIFE)


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (detector, signal, subject): the strongest, with all the evidence
    and the earliest start."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.detector, f.signal, str(f.subject)), []).append(f)
    out = []
    for same in groups.values():
        best = max(same, key=lambda f: f.sort_key()).model_copy()
        seen: set[tuple[str, str]] = set()
        evidence = []
        for e in [e for f in [best, *same] for e in f.evidence]:
            if (e.source, e.query) not in seen:
                seen.add((e.source, e.query))
                evidence.append(e)
        best.evidence = evidence
        starts = [f.started for f in same if f.started is not None]
        best.started = min(starts) if starts else None
        out.append(best)
    return out


def dependencies(findings: Iterable[Finding]) -> dict[str, set[str]]:
    """Who calls whom, as the findings tell it: a finding about a dependency names its
    caller (``facts["caller"]``)."""
    calls: dict[str, set[str]] = {}
    for f in findings:
        caller = f.facts.get("caller")
        if isinstance(caller, str) and caller != f.subject.name:
            calls.setdefault(caller, set()).add(f.subject.name)
    return calls


def correlate(
    findings: Iterable[Finding], *, at: datetime, workload_of: WorkloadOf | None = None,
    depends: Mapping[str, set[str]] | None = None, link_within: timedelta = LINK_WITHIN,
    top: int | None = None,
) -> list[Finding]:
    """Deduplicated, linked and ranked findings, best first (see the module docstring).

    `workload_of` rolls a subject up to its workload (a Pod to its Deployment);
    `depends` maps a workload name to the names it calls, merged with what the
    findings themselves say."""
    roll = workload_of or (lambda s: s)
    unique = dedupe(findings)
    calls = {k: set(v) for k, v in (depends or {}).items()}
    for caller, callees in dependencies(unique).items():
        calls.setdefault(caller, set()).update(callees)
    timed = sorted((f for f in unique if f.started is not None), key=lambda f: f.started)
    for i, later in enumerate(timed):
        mine = roll(later.subject)
        follows = []
        for earlier in reversed(timed[:i]):
            gap = later.started - earlier.started
            if gap > link_within or len(follows) >= MAX_LINKS:
                break
            theirs = roll(earlier.subject)
            if earlier.signal == later.signal and str(theirs) == str(mine):
                continue  # the same condition seen twice, not a sequence
            why = _relation(mine, theirs, calls)
            if why:
                follows.append({"finding": earlier.title, "subject": str(theirs),
                                "minutes_before": round(gap.total_seconds() / 60, 1), "why": why})
        if follows:
            later.facts = {**later.facts, "follows": follows}
            later.details = later.details + [
                f"follows ({f['minutes_before']:g} min earlier, {f['why']}): {f['finding']}"
                for f in follows]
    ranked = sorted(unique, key=lambda f: (composite(f, at), f.sort_key()), reverse=True)
    return ranked if top is None else ranked[:top]


def _relation(mine: Subject, theirs: Subject, calls: Mapping[str, set[str]]) -> str | None:
    if str(mine) == str(theirs):
        return "same workload"
    if theirs.name in calls.get(mine.name, ()):
        return f"{mine.name} calls {theirs.name}"
    return None
