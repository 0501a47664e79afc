"""Findings to ranked root-cause hypotheses, by the rules in policies/hypotheses.yaml.

Each hypothesis names a cause of the taxonomy, a culprit workload, a confidence
and the findings it rests on. When nothing explains the page, the answer is
cause `none` with low confidence rather than a guess.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, Field

from detectors import Finding, Subject

POLICY = Path(__file__).resolve().parents[1] / "policies" / "hypotheses.yaml"
CAP = 0.95


class Rule(BaseModel):
    cause: str
    when: list[str]
    needs_any: list[str] = Field(default_factory=list)
    other_workload: bool = False
    at_least_paged: str | None = None
    needs_same_subject: bool = False
    base: float
    weight: float


class RuleSet(BaseModel):
    rules: list[Rule]
    paged_bonus: float = 0.05


class Evidence(BaseModel):
    text: str
    source: str
    query: str | None = None
    link: str | None = None


class Hypothesis(BaseModel):
    cause: str
    culprit: Subject | None
    confidence: float
    summary: str
    evidence: list[Evidence] = Field(default_factory=list)


def load_rules(path: Path = POLICY) -> RuleSet:
    return RuleSet.model_validate(yaml.safe_load(path.read_text()))


def culprit_of(subject: Subject, catalog: dict[str, Subject]) -> Subject:
    """What a finding names (a Service, Pod, volume claim, URL) as the workload to act on."""
    if subject.kind in ("Service", "Pod"):
        return catalog.get(subject.name, subject)
    if subject.kind == "PersistentVolumeClaim":  # <template>-<statefulset>-<ordinal>
        base = re.sub(r"-\d+$", "", subject.name)
        owners = [w for w in catalog if base == w or base.endswith(f"-{w}")]
        return catalog[max(owners, key=len)] if owners else subject
    if subject.kind == "Endpoint":  # https://ledger.payments.svc:8443/healthz -> ledger
        host = urlsplit(subject.name if "//" in subject.name else f"//{subject.name}").hostname or ""
        return catalog.get(host.split(".")[0], subject)
    return subject


def evidence_of(finding: Finding) -> list[Evidence]:
    text = finding.title + ("".join(f"\n• {d}" for d in finding.details[:8]))
    items = [Evidence(text=text, source=finding.detector)]
    items += [Evidence(text=f"{ev.source} query ({ev.status.value})", source=ev.source,
                       query=ev.query, link=ev.link) for ev in finding.evidence if ev.query]
    return items


def _supporting(rule: Rule, findings: list[Finding], culprit: Subject,
                catalog: dict[str, Subject]) -> list[Finding]:
    """Findings about the same workload that the rule leans on (`needs_any`), strongest first."""
    found = [g for g in findings if g.signal in rule.needs_any
             and culprit_of(g.subject, catalog).name == culprit.name]
    return sorted(found, key=lambda g: g.score, reverse=True)[:3]


def _at_least_paged(f: Finding, findings: list[Finding], fact: str) -> bool:
    paged = [g.facts.get(fact) for g in findings if g.signal == f.signal and g.facts.get("paged")]
    mine = f.facts.get(fact)
    return mine is not None and all(p is None or mine >= p for p in paged)


def rank(findings: list[Finding], paged: Subject | None, catalog: dict[str, Subject],
         rules: RuleSet | None = None) -> list[Hypothesis]:
    """All hypotheses the rules support, best first; `none` when there are none."""
    rules = rules or load_rules()
    signals = {f.signal for f in findings}
    by_key: dict[tuple[str, str], Hypothesis] = {}
    for rule in rules.rules:
        if rule.needs_any and not signals & set(rule.needs_any):
            continue
        for f in findings:
            if f.signal not in rule.when:
                continue
            culprit = culprit_of(f.subject, catalog)
            is_paged = paged is not None and culprit.name == paged.name
            if rule.other_workload and (is_paged or f.facts.get("paged")):
                continue
            if rule.at_least_paged and not _at_least_paged(f, findings, rule.at_least_paged):
                continue
            if rule.needs_same_subject and not any(
                    g.signal in rule.needs_any and culprit_of(g.subject, catalog).name == culprit.name
                    for g in findings):
                continue
            confidence = min(CAP, rule.base + rule.weight * f.score + (rules.paged_bonus if is_paged else 0))
            key = (rule.cause, str(culprit))
            current = by_key.get(key)
            support = [e for g in _supporting(rule, findings, culprit, catalog) for e in evidence_of(g)]
            if current is None or confidence > current.confidence:
                by_key[key] = Hypothesis(cause=rule.cause, culprit=culprit, confidence=round(confidence, 3),
                                         summary=f.title, evidence=evidence_of(f) + support)
            else:
                current.evidence += evidence_of(f)
    ranked = sorted(by_key.values(), key=lambda h: h.confidence, reverse=True)
    if not ranked:
        context = [e for f in findings for e in evidence_of(f)][:6]
        ranked = [Hypothesis(cause="none", culprit=None, confidence=0.3, evidence=context,
                             summary="No cause found: the signals checked look like their usual selves")]
    return ranked
