"""Snapshots of each public scenario's report as Block Kit and as Adaptive Cards.

The reports under tests/chat/reports/ were produced by `investigate_scenario`
on the public scenarios (real Prometheus); they are frozen here so the
renderers are compared byte for byte. UPDATE_SNAPSHOTS=1 rewrites the files.
"""

from __future__ import annotations

import json
import os

import pytest

from bot.render.adaptive_card import MAX_CARD_BYTES, report_cards
from bot.render.blockkit import MAX_BLOCKS, MAX_TEXT, report_messages
from reasoning.report import Report
from tests.chat.conftest import HERE
from tests.chat.test_teams import SCHEMA_VERSION, assert_valid_card
from tests.conftest import SCENARIOS as SCENARIOS_DIR

SCENARIOS = ["shop-checkout-oom", "shop-payments-bad-deploy", "shop-quiet-night"]
SNAPSHOTS = HERE / "snapshots"


def report(name: str) -> Report:
    return Report.model_validate_json((HERE / "reports" / f"{name}.json").read_text())


def check_snapshot(name: str, value: object) -> None:
    path = SNAPSHOTS / name
    text = json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(text)
    assert path.exists(), f"no snapshot {name}: write it with UPDATE_SNAPSHOTS=1, review it, commit it"
    assert text == path.read_text(), f"{name} changed; rerun with UPDATE_SNAPSHOTS=1 if intended"


def all_text(blocks: list[dict]) -> list[str]:
    out = []
    for b in blocks:
        if b.get("text", {}).get("type") == "mrkdwn":
            out.append(b["text"]["text"])
        out += [e["text"] for e in b.get("elements", []) if e.get("type") == "mrkdwn"]
    return out


def test_every_public_scenario_has_a_frozen_report():
    """A scenario added to ../shared/scenarios needs its report here, and so its snapshots."""
    public = sorted(p.parent.name for p in SCENARIOS_DIR.glob("*/scenario.yaml"))
    if not public:
        pytest.skip(f"{SCENARIOS_DIR} not present (a clone without ../shared)")
    assert public == SCENARIOS
    assert sorted(p.stem for p in (HERE / "reports").glob("*.json")) == SCENARIOS


@pytest.mark.parametrize("name", SCENARIOS)
def test_block_kit_snapshot(name):
    messages = report_messages(report(name))
    for msg in messages:
        assert len(msg["blocks"]) <= MAX_BLOCKS
        assert all(len(t) <= MAX_TEXT for t in all_text(msg["blocks"]))
    check_snapshot(f"{name}.blockkit.json", messages)


@pytest.mark.parametrize("name", SCENARIOS)
def test_adaptive_card_snapshot(name):
    cards = report_cards(report(name), [("Prometheus", "http://prometheus.example/graph")])
    for card in cards:
        assert card["version"] == SCHEMA_VERSION  # the schema validated against
        assert_valid_card(card)
        assert len(json.dumps(card, ensure_ascii=False).encode()) <= MAX_CARD_BYTES
    check_snapshot(f"{name}.adaptive.json", cards)


def test_a_huge_report_splits_into_valid_cards_without_losing_findings():
    big = report("shop-checkout-oom")
    big = big.model_copy(update={"findings": big.findings * 12})
    cards = report_cards(big)
    assert len(cards) > 1
    for card in cards:
        assert_valid_card(card)
        assert len(json.dumps(card, ensure_ascii=False).encode()) <= MAX_CARD_BYTES
    titles = [i["text"] for c in cards for el in c["body"] if el["type"] == "Container" for i in el["items"][:1]]
    assert len(titles) == len(big.findings)


@pytest.mark.stack
@pytest.mark.parametrize("name", ["shop-checkout-oom"])
async def test_live_scenario_report_renders_within_limits(name):
    """A fresh investigation (real Prometheus) renders as valid cards and Slack-sized messages."""
    from bot.replay import investigate_scenario
    from tests.conftest import shared_scenario

    live = await investigate_scenario(shared_scenario(name))
    for card in report_cards(live):
        assert_valid_card(card)
    assert all(len(m["blocks"]) <= MAX_BLOCKS for m in report_messages(live))
