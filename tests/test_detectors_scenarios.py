"""Detectors on the public scenarios: the facts a human would point at, and no false pages."""

from __future__ import annotations

import pytest

from bot.replay import investigate_scenario
from tests.conftest import shared_scenario

pytestmark = pytest.mark.stack


async def test_oom_scenario_finds_the_kills_and_memory_at_the_limit():
    report = await investigate_scenario(shared_scenario("shop-checkout-oom"))
    by_signal = {f.signal: f for f in report.findings}
    oom = by_signal["oom-killed"]
    assert oom.subject.name == "checkout" and oom.facts["reasons"] == {"OOMKilled": 3}
    assert "memory limit" in " ".join(oom.details)
    assert "error-budget-burn" in by_signal
    assert report.failures == {}


async def test_bad_deploy_scenario_finds_the_new_replicaset_and_the_new_error():
    report = await investigate_scenario(shared_scenario("shop-payments-bad-deploy"))
    rollouts = [f for f in report.findings if f.signal == "new-rollout"]
    assert [f.subject.name for f in rollouts] == ["payments"]
    assert "v2.4.1" in rollouts[0].title and "v2.4.0" in rollouts[0].title
    signatures = [f for f in report.findings if f.signal == "new-log-signature" and f.subject.name == "payments"]
    assert signatures and "nil pointer" in " ".join(signatures[0].details)


async def test_quiet_night_has_nothing_of_severity_page():
    report = await investigate_scenario(shared_scenario("shop-quiet-night"))
    assert [f.title for f in report.findings if f.severity.value == "page"] == []
    assert report.hypotheses[0].cause == "none" or report.hypotheses[0].confidence < 0.5
