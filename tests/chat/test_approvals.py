"""Status drafts: only approvers post, exactly once, to the stakeholder channel;
edits are what gets posted; every decision is audited."""

from __future__ import annotations

import asyncio
import copy
import json

import httpx

from bot.render.approval_blocks import APPROVE, DISCARD, EDIT, EDIT_VIEW
from sandbox.slack import channel_id
from tests.chat.conftest import APPROVER, GROUPIE, STRANGER, interaction_body

STAKEHOLDERS = "#shop-status"


def draft_messages(bot) -> list[dict]:
    return [m for m in bot.slack.messages.values() if APPROVE in json.dumps(m.get("blocks", []))]


async def paged(bot, alerts_body) -> dict:
    """Page the bot (real worker, dead Prometheus) until the draft shows in the thread."""
    async with httpx.AsyncClient() as client:
        assert (await client.post(bot.url + "/alertmanager", content=alerts_body)).status_code == 200
    await bot.slack.wait_for(lambda s: draft_messages(bot), timeout=30)
    return copy.deepcopy(draft_messages(bot)[0])  # the stand-in edits its own copy on chat.update


def click(draft_msg: dict, action_id: str, user: str) -> bytes:
    value = next(e["value"] for b in draft_msg["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == action_id)
    return interaction_body({
        "type": "block_actions", "team": {"id": "T0SANDBOX", "domain": "sandbox"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0SANDBOX"},
        "api_app_id": "A0ONCALL", "token": "unused", "trigger_id": "1.2.trigger",
        "container": {"type": "message", "message_ts": draft_msg["ts"], "channel_id": draft_msg["channel"]},
        "channel": {"id": draft_msg["channel"], "name": "shop-checkout-oncall"},
        "message": {"ts": draft_msg["ts"], "thread_ts": draft_msg.get("thread_ts"), "text": draft_msg["text"]},
        "response_url": "http://127.0.0.1:9/unused",
        "actions": [{"action_id": action_id, "block_id": "b", "value": value, "type": "button",
                     "action_ts": "1.0"}]})


def submit_edit(draft_id: int, text: str, user: str = APPROVER) -> bytes:
    return interaction_body({
        "type": "view_submission", "team": {"id": "T0SANDBOX", "domain": "sandbox"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0SANDBOX"},
        "api_app_id": "A0ONCALL", "token": "unused", "trigger_id": "1.2.trigger",
        "view": {"id": "V00000001", "type": "modal", "callback_id": EDIT_VIEW, "private_metadata": str(draft_id),
                 "state": {"values": {"draft": {"text": {"type": "plain_text_input", "value": text}}}}}})


async def settle(bot, predicate=None, timeout: float = 10) -> None:
    if predicate is not None:
        await bot.slack.wait_for(predicate, timeout=timeout)
    await asyncio.sleep(0.3)  # let any (wrong) extra post arrive before counting


def draft_id(msg: dict) -> int:
    return int(next(e["value"] for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"]))


async def test_draft_is_shown_in_the_owner_channel_thread_not_posted(chat_bot, alerts_body):
    bot = await chat_bot(run_worker=True)
    msg = await paged(bot, alerts_body)
    assert msg["channel"] == channel_id("#shop-checkout-oncall") and msg.get("thread_ts")
    assert "<@U0APPROVER>" in json.dumps(msg["blocks"]) and "<!subteam^S0LEADS>" in json.dumps(msg["blocks"])
    assert bot.posts_to(STAKEHOLDERS) == []


async def test_approver_posts_exactly_once_and_it_is_audited(chat_bot, alerts_body):
    bot = await chat_bot(run_worker=True)
    msg = await paged(bot, alerts_body)
    assert (await bot.post(click(msg, APPROVE, APPROVER))).status_code == 200
    # the draft's edit waits for its slot in the busy incident channel (bot.chat_rate)
    await settle(bot, lambda s: bot.posts_to(STAKEHOLDERS) and "posted" in s.messages[msg["ts"]]["text"])
    posts = bot.posts_to(STAKEHOLDERS)
    assert len(posts) == 1 and "approved by <@U0APPROVER>" in json.dumps(posts[0]["blocks"])
    flow = bot.app[__import__("bot.chat_routes", fromlist=["CHAT"]).CHAT]
    draft = await bot.store.run(flow.approvals.get, draft_id(msg))
    assert draft.status == "posted" and draft.decided_by == APPROVER and draft.posted_ts
    assert [a["action"] for a in await bot.store.run(flow.approvals.audit, draft.id)] == [
        "drafted", "approved", "posted"]
    updated = bot.slack.messages[msg["ts"]]  # the draft lost its buttons and says who posted it
    assert "Status update posted" in updated["text"] and APPROVE not in json.dumps(updated["blocks"])


async def test_non_approver_is_refused_and_nothing_is_posted(chat_bot, alerts_body):
    bot = await chat_bot(run_worker=True)
    msg = await paged(bot, alerts_body)
    await bot.post(click(msg, APPROVE, STRANGER))
    await bot.post(click(msg, DISCARD, STRANGER))
    await settle(bot, lambda s: len(s.calls_to("chat.postEphemeral")) == 2)
    refusals = bot.slack.calls_to("chat.postEphemeral")
    assert all(r["user"] == STRANGER and "Only approvers" in r["text"] for r in refusals)
    assert bot.posts_to(STAKEHOLDERS) == []
    flow = bot.app[__import__("bot.chat_routes", fromlist=["CHAT"]).CHAT]
    assert (await bot.store.run(flow.approvals.get, draft_id(msg))).status == "pending"
    assert [a["action"] for a in await bot.store.run(flow.approvals.audit, draft_id(msg))][-2:] == [
        "refused", "refused"]


async def test_double_click_posts_once(chat_bot, alerts_body):
    bot = await chat_bot(run_worker=True)
    msg = await paged(bot, alerts_body)
    await bot.post(click(msg, APPROVE, APPROVER))
    await bot.post(click(msg, APPROVE, APPROVER))
    await settle(bot, lambda s: len(s.calls_to("chat.postEphemeral")) == 2)
    assert len(bot.posts_to(STAKEHOLDERS)) == 1
    texts = sorted(e["text"] for e in bot.slack.calls_to("chat.postEphemeral"))
    assert texts == ["Posted to #shop-status.", f"This status draft was already posted by {APPROVER}."]


async def test_concurrent_approvals_on_two_replicas_post_once(chat_bot, alerts_body):
    bot = await chat_bot(run_worker=True)
    replica = await chat_bot()  # same database, its own process state
    msg = await paged(bot, alerts_body)
    body = click(msg, APPROVE, APPROVER)
    answers = await asyncio.gather(*[b.post(body) for b in [bot, replica] * 4])
    assert all(a.status_code == 200 for a in answers)
    await settle(bot, lambda s: len(s.calls_to("chat.postEphemeral")) == 8)
    assert len(bot.posts_to(STAKEHOLDERS)) == 1


async def test_edit_opens_a_modal_and_the_edited_text_is_posted(chat_bot, alerts_body):
    bot = await chat_bot(run_worker=True)
    msg = await paged(bot, alerts_body)
    await bot.post(click(msg, EDIT, STRANGER))  # anyone may improve the wording
    await settle(bot, lambda s: s.calls_to("views.open"))
    view = bot.slack.calls_to("views.open")[0]["view"]
    original = view["blocks"][0]["element"]["initial_value"]
    assert view["private_metadata"] == str(draft_id(msg)) and original
    edited = "Checkout is failing for some customers since 10:02 UTC. Fix in progress; next update 10:45."
    resp = await bot.post(submit_edit(draft_id(msg), edited, STRANGER))
    assert resp.status_code == 200 and resp.text == ""
    await settle(bot, lambda s: edited in json.dumps(s.messages[msg["ts"]]["blocks"]))
    await bot.post(click(msg, APPROVE, APPROVER))
    await settle(bot, lambda s: bot.posts_to(STAKEHOLDERS))
    (post,) = bot.posts_to(STAKEHOLDERS)
    assert post["text"] == edited and original not in json.dumps(post["blocks"])


async def test_empty_edit_and_edit_after_posting_are_rejected_in_the_modal(chat_bot, alerts_body):
    bot = await chat_bot(run_worker=True)
    msg = await paged(bot, alerts_body)
    assert (await bot.post(submit_edit(draft_id(msg), "   "))).json()["response_action"] == "errors"
    await bot.post(click(msg, APPROVE, APPROVER))
    await settle(bot, lambda s: bot.posts_to(STAKEHOLDERS))
    late = (await bot.post(submit_edit(draft_id(msg), "too late"))).json()
    assert "already posted" in late["errors"]["draft"]
    assert len(bot.posts_to(STAKEHOLDERS)) == 1


async def test_discard_then_approve_posts_nothing(chat_bot, alerts_body):
    bot = await chat_bot(run_worker=True)
    msg = await paged(bot, alerts_body)
    await bot.post(click(msg, DISCARD, APPROVER))
    await settle(bot, lambda s: "discarded" in s.messages[msg["ts"]]["text"])
    await bot.post(click(msg, APPROVE, APPROVER))
    await settle(bot, lambda s: s.calls_to("chat.postEphemeral"))
    assert bot.posts_to(STAKEHOLDERS) == []
    assert "already discarded" in bot.slack.calls_to("chat.postEphemeral")[-1]["text"]


async def test_member_of_an_approver_user_group_may_approve(chat_bot, alerts_body):
    bot = await chat_bot(run_worker=True)
    bot.slack.usergroups = {"S0LEADS": ["U0SOMEONE", GROUPIE]}
    msg = await paged(bot, alerts_body)
    await bot.post(click(msg, APPROVE, GROUPIE))
    await settle(bot, lambda s: bot.posts_to(STAKEHOLDERS))
    assert len(bot.posts_to(STAKEHOLDERS)) == 1


def page_of(alerts_body: bytes, i: int) -> bytes:
    """The same page as another Alertmanager group: its own alert name, key and fingerprint."""
    data = json.loads(alerts_body)
    name = f"ErrorBudgetBurn{i}"
    data["groupKey"] = f'{{}}:{{alertname="{name}"}}'
    data["groupLabels"] = {**data.get("groupLabels", {}), "alertname": name}
    data["commonLabels"] = {**data.get("commonLabels", {}), "alertname": name}
    for n, alert in enumerate(data["alerts"]):
        alert["labels"] = {**alert["labels"], "alertname": name}
        alert["fingerprint"] = f"{i:08x}{n:08x}"
    return json.dumps(data).encode()


async def test_approvals_share_the_channel_slots_with_a_storm(chat_bot, alerts_body, tmp_path):
    """Stakeholder posts and draft edits queue in the same per-channel slots as the pages,
    so approving during a storm never sends a channel more than its rate."""
    rate = 4.0
    ownership = tmp_path / "one-channel.yaml"
    ownership.write_text(f'default: {{team: platform, channel: "#incidents", stakeholder_channel: "#incidents", '
                         f'approvers: [{APPROVER}]}}\n')
    bot = await chat_bot(run_worker=True, ownership_file=ownership, chat_rate_per_channel=rate)
    bot.slack.rate_limit = rate  # the stand-in answers 429 past the rate, like Slack
    async with httpx.AsyncClient() as client:
        for i in range(3):
            assert (await client.post(bot.url + "/alertmanager", content=page_of(alerts_body, i))).status_code == 200
        await bot.slack.wait_for(lambda s: len(draft_messages(bot)) == 3, timeout=60)
        drafts = copy.deepcopy(draft_messages(bot))
        # the storm goes on while every draft is approved at once
        pages = [client.post(bot.url + "/alertmanager", content=page_of(alerts_body, i)) for i in range(3, 6)]
        clicks = [bot.post(click(d, APPROVE, APPROVER)) for d in drafts]
        assert all(r.status_code == 200 for r in await asyncio.gather(*pages, *clicks))

    def stakeholder_posts() -> list[dict]:
        return [p for p in bot.posts_to("#incidents") if "approved by" in json.dumps(p)]

    def states(s) -> list[str]:
        return sorted(" ".join(m["text"].split()[:3]) for m in s.messages.values()
                      if m["text"].startswith("Status update"))

    await settle(bot, lambda s: len(stakeholder_posts()) == 3 and states(s) == [
        "Status update draft"] * 3 + ["Status update posted"] * 3, timeout=60)
    assert len(stakeholder_posts()) == 3
    times = [t for t, _, _ in bot.slack.writes(channel_id("#incidents"))]
    busiest = max(sum(1 for u in times if t <= u < t + 1.0) for t in times)
    assert busiest <= rate and bot.slack.limited == [], (busiest, bot.slack.limited)
