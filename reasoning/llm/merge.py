"""Check the model's answer against what it was shown, then fold it into the report.

Pydantic checks the shape; here we check the grounding (cited ids exist, each
culprit is named in its citations or was already a suspect) and keep the
stakeholder draft plain. The merged report keeps the rules' evidence for any
hypothesis the model confirms, so deep links and cited facts survive.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from detectors import Subject
from reasoning.hypotheses import CAP, Hypothesis
from reasoning.llm.answer import Answer, Claim
from reasoning.llm.evidence import EvidenceIndex
from reasoning.llm.privacy import Shield
from reasoning.report import Report

JARGON = re.compile(r"\b(kubectl|pods?|containers?|namespaces?|oom\w*|crashloop\w*|replicasets?"
                    r"|promql|logql)\b", re.I)


def validate(raw: Any, index: EvidenceIndex, suspects: set[str]) -> tuple[Answer | None, list[str]]:
    """The answer, or the reasons it is rejected (in the model's own vocabulary)."""
    try:
        answer = Answer.model_validate(raw)
    except ValidationError as exc:
        return None, [f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}"
                      for e in exc.errors()]
    errors: list[str] = []
    for i, claim in enumerate(answer.hypotheses):
        ids = [c.id for c in claim.evidence]
        errors += [f"hypotheses.{i}.evidence: {eid} is not an evidence id you were shown"
                   for eid in ids if eid not in index]
        name = claim.culprit.name if claim.culprit else None
        if name and name not in suspects and not any(index.mentions(e, name) for e in ids):
            errors.append(f"hypotheses.{i}.culprit: {name!r} appears in none of the evidence "
                          "it cites; cite the evidence that names it")
    return (None, errors) if errors else (answer, [])


def apply(report: Report, answer: Answer, index: EvidenceIndex, shield: Shield,
          next_update: str) -> tuple[Report, list[str]]:
    """The refined report and notes on what was kept from the rules."""
    notes: list[str] = []
    rules = {_key(h): h for h in report.hypotheses}
    refined = [_hypothesis(c, index, shield) for c in answer.hypotheses]
    for h in refined:
        for e in (rules[_key(h)].evidence if _key(h) in rules else []):
            if e not in h.evidence:
                h.evidence.append(e)
    refined.sort(key=lambda h: h.confidence, reverse=True)
    floor = refined[-1].confidence
    seen = {_key(h) for h in refined}
    refined += [h.model_copy(update={"confidence": min(h.confidence, floor)})
                for h in report.hypotheses if _key(h) not in seen]
    draft = shield.restore(answer.status_draft)
    if JARGON.search(draft) or any(p in draft for p in shield.pods):
        notes.append("status draft kept from rules (the model's had jargon or object names)")
        draft = report.status_draft
    elif next_update not in draft:
        draft = f"{draft.rstrip()} Next update by {next_update}."
    return report.model_copy(update={
        "hypotheses": refined, "tldr": [shield.restore(t) for t in answer.tldr],
        "status_draft": draft,
    }), notes


def summary_of(answer: Answer, shield: Shield) -> str:
    return shield.restore(answer.summary)


def _hypothesis(claim: Claim, index: EvidenceIndex, shield: Shield) -> Hypothesis:
    culprit = None
    if claim.culprit:
        c = claim.culprit
        culprit = Subject(namespace=shield.restore(c.namespace) if c.namespace else None,
                          kind=c.kind, name=shield.restore(c.name))
    evidence = []
    for cite in claim.evidence:
        e = index.cites(cite.id, shield.restore(cite.fact))
        if e not in evidence:
            evidence.append(e)
    return Hypothesis(cause=claim.cause, culprit=culprit, summary=shield.restore(claim.summary),
                      confidence=round(min(CAP, claim.confidence), 3), evidence=evidence)


def _key(h: Hypothesis) -> tuple[str, str]:
    return h.cause, f"{h.culprit.namespace}/{h.culprit.name}" if h.culprit else ""
