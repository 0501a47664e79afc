"""@mentions in an incident thread act on that incident; pages thread into the
channel the ownership map names, with deep links and the draft."""

from __future__ import annotations

import json

from sandbox.slack import channel_id
from tests.chat.conftest import APPROVER
from tests.chat.test_approvals import paged


def mention(channel: str, text: str, thread_ts: str | None, ts: str = "1795700000.000100") -> bytes:
    event = {"type": "app_mention", "user": APPROVER, "text": f"<@U0ONCALL> {text}", "ts": ts,
             "channel": channel, "event_ts": ts}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return json.dumps({"token": "unused", "team_id": "T0SANDBOX", "api_app_id": "A0ONCALL", "event": event,
                       "type": "event_callback", "event_id": f"Ev{ts.replace('.', '')}",
                       "event_time": 1795700000, "authorizations": []}).encode()


def replies_after(bot, count: int, thread: str) -> list[dict]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if c.get("thread_ts") == thread][count:]


async def test_page_threads_in_the_owner_channel_with_links(chat_bot, alerts_body):
    bot = await chat_bot(run_worker=True)
    draft = await paged(bot, alerts_body)
    parent = next(m for m in bot.slack.messages.values() if not m.get("thread_ts"))
    assert parent["channel"] == channel_id("#shop-checkout-oncall") and draft["thread_ts"] == parent["ts"]
    thread = bot.slack.thread(parent["ts"])
    links = next(m for m in thread if m["text"].startswith("Open in"))
    urls = [e["url"] for b in links["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert any("/graph?g0.expr=" in u for u in urls)
    assert any("/#/silences/new?filter=" in u and "namespace%3D%22shop%22" in u for u in urls)
    report = [m for m in thread if "Status draft" in json.dumps(m.get("blocks", []))]
    assert report == [], "the draft is shown once, with buttons, not inside the report"


async def test_mentions_answer_in_the_incident_thread(chat_bot, alerts_body):
    bot = await chat_bot(run_worker=True)
    draft = await paged(bot, alerts_body)
    channel, thread = draft["channel"], draft["thread_ts"]
    before = len(replies_after(bot, 0, thread))

    assert (await bot.post(mention(channel, "why?", thread), content_type="application/json")).status_code == 200
    await bot.slack.wait_for(lambda s: replies_after(bot, before, thread), timeout=10)
    why = replies_after(bot, before, thread)[0]["text"]
    assert "Why, as far as the evidence goes" in why or "No hypothesis yet" in why

    before = len(replies_after(bot, 0, thread))
    await bot.post(mention(channel, "show logs please", thread, ts="1795700000.000200"),
                   content_type="application/json")
    await bot.slack.wait_for(lambda s: replies_after(bot, before, thread), timeout=10)
    assert "log" in replies_after(bot, before, thread)[0]["text"].lower()

    before = len(replies_after(bot, 0, thread))
    await bot.post(mention(channel, "re-investigate", thread, ts="1795700000.000300"),
                   content_type="application/json")
    await bot.slack.wait_for(lambda s: len(replies_after(bot, before, thread)) >= 2, timeout=20)
    assert replies_after(bot, before, thread)[0]["text"].startswith("Re-investigated")
    group_key = bot.store.groups()[0].group_key
    assert len(bot.store.reports(group_key)) == 2


async def test_mention_outside_an_incident_thread_explains(chat_bot):
    bot = await chat_bot()
    await bot.post(mention("C0RANDOM", "why?", None), content_type="application/json")
    await bot.slack.wait_for(lambda s: s.calls_to("chat.postMessage"), timeout=10)
    assert "only answer inside an incident thread" in bot.slack.calls_to("chat.postMessage")[0]["text"]
