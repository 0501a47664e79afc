"""Diagnosis quality on the public scenarios, by rules alone (no LLM)."""

from __future__ import annotations

import json

import pytest
import yaml

from bot.replay import evaluate, investigate_scenario, judge
from tests.conftest import SCENARIOS, shared_scenario

pytestmark = pytest.mark.stack
PUBLIC = sorted(p.name for p in SCENARIOS.glob("*/")) if SCENARIOS.exists() else []


@pytest.mark.parametrize("name", PUBLIC or ["shop-checkout-oom"])
async def test_public_scenario_is_diagnosed(name):
    scenario = shared_scenario(name)
    outcome = await evaluate(scenario)
    assert outcome.correct, f"{name}: expected {outcome.expected}, got {outcome.got}"
    assert outcome.seconds < 10  # each report within 10 s of the page, sandbox start included


@pytest.mark.parametrize("name", PUBLIC or ["shop-checkout-oom"])
async def test_report_cites_the_truth_evidence(name):
    scenario = shared_scenario(name)
    report = await investigate_scenario(scenario)
    truth = yaml.safe_load((scenario / "truth.yaml").read_text())
    cited = json.dumps([h.model_dump(mode="json") for h in report.hypotheses[:1]]).lower()
    missing = [w for w in truth.get("evidence", []) if w.lower() not in cited]
    assert missing == [], f"{name}: the top hypothesis does not cite {missing}"
    # the report is complete: TL;DR, next checks, a plain-words status draft
    assert len(report.tldr) == 2 and report.next_checks and report.status_draft
    assert "kubectl" not in report.status_draft and "pod" not in report.status_draft.lower()
    top1, _ = judge(report, truth)
    assert top1
