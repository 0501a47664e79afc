"""Teams with botbuilder's TestAdapter: every command, Adaptive Card reports that
validate against the 1.5 schema, proactive pages and the approval flow."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import jsonschema
import pytest
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from bot.chat_deps import ChatDeps
from bot.render.adaptive_card import CONTENT_TYPE
from bot.settings import Settings
from bot.store import Store
from bot.teams.bot import OncallTeamsBot
from bot.teams.sink import TeamsSink
from bot.webhook import parse_webhook
from reasoning.report import Report
from tests.chat.conftest import HERE

PAGES, STAKE = "19:pages@thread.tacv2", "19:stakeholders@thread.tacv2"
LEAD = "aad-0000-lead"
SCHEMA_VERSION = "1.5"  # what Teams renders; the schema file below is that version's
SCHEMA = json.loads((HERE / "schemas" / f"adaptive-card-{SCHEMA_VERSION}.json").read_text())
VALIDATOR = jsonschema.Draft6Validator(SCHEMA)


def assert_valid_card(card: dict) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in VALIDATOR.iter_errors(card)]
    assert errors == []


def cards(activities) -> list[dict]:
    return [a.content for act in activities for a in (act.attachments or []) if a.content_type == CONTENT_TYPE]


@pytest.fixture
def teams(tmp_path):
    ownership = tmp_path / "ownership.yaml"
    ownership.write_text(f"""
default: {{team: platform, approvers: []}}
owners:
  - match: {{namespace: shop}}
    team: shop
    approvers: [{LEAD}]
""")
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path}/teams.db", ownership_file=ownership,
                        teams_app_id="app-id", teams_conversation_id=PAGES,
                        teams_stakeholder_conversation_id=STAKE, prometheus_url="http://127.0.0.1:9")
    store = Store(settings.database_url)
    deps = ChatDeps.build(settings, store)
    bot = OncallTeamsBot(deps, None, "app-id")
    adapter = TestAdapter(bot.on_turn)
    bot.adapter = adapter
    yield bot, adapter, deps
    store.close()


async def say(adapter, text: str, **extra) -> list[Activity]:
    start = len(adapter.activity_buffer)
    await adapter.receive_activity(Activity(type="message", text=text, **extra))
    return adapter.activity_buffer[start:]


async def test_help_status_and_usage(teams):
    bot, adapter, _ = teams
    (reply,) = await say(adapter, "help")
    assert "`@oncall triage" in reply.text and "/oncall" not in reply.text
    (reply,) = await say(adapter, "@oncall status")
    assert reply.text == "No open incidents."
    (reply,) = await say(adapter, "frobnicate")
    assert "unknown subcommand 'frobnicate'" in reply.text


@pytest.mark.parametrize("text, expect", [
    ("health shop", "checkout-1 (CrashLoopBackOff)"),
    ("triage deployment/checkout --lines 20", "OOMKilled 3 times (last 20 lines read)"),
    ("slo checkout", "41%"),
    ('canary track="canary" track="stable"', "**Hold**"),
    ("cost shop", "92.0"),
])
async def test_workflow_commands_answer_working_then_the_result(teams, fake_workflows, text, expect):
    bot, adapter, _ = teams
    (working,) = await say(adapter, f"oncall {text}")
    assert working.text.startswith("Working on `@oncall")
    await bot.drain()
    result = adapter.activity_buffer[-1]
    assert expect in result.text and result.conversation.id == "Convo1"


async def test_pages_report_cards_and_approval(teams, alerts_body):
    bot, adapter, deps = teams
    sink = TeamsSink(adapter, deps.settings, deps.store, deps.ownership)
    group = await deps.store.run(deps.store.apply, parse_webhook(alerts_body))
    group.channel, group.thread_ts = await sink.post_parent(group)
    await deps.store.run(deps.store.set_thread, group.group_key, group.channel, group.thread_ts)
    assert group.channel == PAGES and adapter.activity_buffer[0].conversation.id == PAGES
    report = Report.model_validate_json((HERE / "reports" / "shop-checkout-oom.json").read_text())
    await sink.post_report(group, report)
    thread = f"{PAGES};messageid={group.thread_ts}"
    sent = adapter.activity_buffer[1:]
    assert {a.conversation.id for a in sent} == {thread}
    for card in cards(adapter.activity_buffer):
        assert_valid_card(card)
    draft_card = cards(sent)[-1]
    approve = next(a for a in draft_card["actions"] if a["title"] == "Approve and post")
    draft_id = approve["data"]["draft"]
    stranger = ChannelAccount(id="29:stranger", name="Stranger", aad_object_id="aad-stranger")
    lead = ChannelAccount(id="29:lead", name="Lead", aad_object_id=LEAD)
    in_thread = ConversationAccount(id=thread, is_group=True)

    (refusal,) = await say(adapter, None, value={"oncall_action": "approve", "draft": draft_id},
                           from_property=stranger, conversation=in_thread)
    assert "Only approvers of team *shop*".replace("*", "**") in refusal.text
    edited = "Checkout errors for some customers; a fix is rolling out. Next update 10:45 UTC."
    (ok,) = await say(adapter, None, value={"oncall_action": "edit", "draft": draft_id, "text": edited},
                      from_property=stranger, conversation=in_thread)
    assert ok.text == "Draft updated." and edited in json.dumps(adapter.updated_activities[-1].attachments[0].content)
    for _ in range(2):  # a double click
        await say(adapter, None, value={"oncall_action": "approve", "draft": draft_id},
                  from_property=lead, conversation=in_thread)
    to_stakeholders = [a for a in adapter.activity_buffer if a.conversation.id == STAKE]
    assert len(to_stakeholders) == 1
    (posted,) = cards(to_stakeholders)
    assert_valid_card(posted)
    assert posted["body"][0]["text"] == edited and "approved by Lead" in posted["body"][1]["text"]
    assert "already posted" in adapter.activity_buffer[-1].text
    decided, draft = adapter.updated_activities[-1], await deps.store.run(deps.approvals.get, draft_id)
    assert decided.id == draft.message_ts and draft.status == "posted" and draft.posted_to == STAKE
    assert decided.attachments[0].content["body"][0]["text"].startswith("✅")
    audit = [a["action"] for a in await deps.store.run(deps.approvals.audit, draft_id)]
    assert audit == ["drafted", "refused", "edited", "approved", "posted"]
    edits = [c for act in adapter.updated_activities for c in cards([act])]
    assert len(edits) >= 2  # the edited draft, then the decided one
    for card in edits:
        assert_valid_card(card)


def assert_cards_are_the_schema_version(activities) -> None:
    found = cards(activities)
    assert found and {c["version"] for c in found} == {SCHEMA_VERSION}
    for card in found:
        assert_valid_card(card)


async def test_status_lists_open_incidents_with_their_thread(teams, alerts_body):
    bot, adapter, deps = teams
    group = await deps.store.run(deps.store.apply, parse_webhook(alerts_body))
    await deps.store.run(deps.store.set_thread, group.group_key, PAGES, "1700")
    (reply,) = await say(adapter, "@oncall status")
    assert "1 open incident" in reply.text and "ErrorBudgetBurn" in reply.text and "1 of 1 firing" in reply.text


async def test_reinvestigate_in_a_thread_answers_with_report_cards(teams, alerts_body):
    """A fresh investigation (Prometheus down: the report names it) comes back as valid 1.5 cards."""
    bot, adapter, deps = teams
    group = await deps.store.run(deps.store.apply, parse_webhook(alerts_body))
    await deps.store.run(deps.store.set_thread, group.group_key, PAGES, "1700")
    replies = await say(adapter, "re-investigate", conversation=ConversationAccount(id=f"{PAGES};messageid=1700"))
    assert replies[0].text.startswith("Re-investigated")
    assert_cards_are_the_schema_version(replies)
    assert "prometheus" in json.dumps(cards(replies)).lower()
    assert len(deps.store.reports(group.group_key)) == 1


async def test_thread_question_answers_from_the_report(teams, alerts_body):
    bot, adapter, deps = teams
    group = await deps.store.run(deps.store.apply, parse_webhook(alerts_body))
    await deps.store.run(deps.store.set_thread, group.group_key, PAGES, "1700")
    report = (HERE / "reports" / "shop-checkout-oom.json").read_text()
    await deps.store.run(deps.store.save_report, group.group_key, report)
    (reply,) = await say(adapter, "why?", conversation=ConversationAccount(id=f"{PAGES};messageid=1700"))
    assert "**oom-killed**" in reply.text


async def test_api_messages_requires_bot_framework_auth(chat_bot):
    off = await chat_bot()
    on = await chat_bot(teams_app_id="app-id", teams_app_password="secret")
    activity = {"type": "message", "text": "help", "channelId": "msteams", "serviceUrl": "http://127.0.0.1:9",
                "from": {"id": "29:x"}, "conversation": {"id": "c1"}, "recipient": {"id": "28:app-id"}}
    async with httpx.AsyncClient() as client:
        assert (await client.post(off.url + "/api/messages", json=activity)).status_code == 503
        assert (await client.post(on.url + "/api/messages", json=activity)).status_code == 401
