"""One thread per Alertmanager group, with the real Alertmanager delivering.

Alerts are posted to Alertmanager's API v2 (as Prometheus does); Alertmanager
groups them (group_wait and group_interval 1 s, sandbox.procs) and sends its
webhooks to the bot, which threads them in the Slack stand-in. Fire, a second
alert joining, a partial resolve, a re-fire, the full resolve and a re-fire
after it must all land in the one thread, the parent edited each time.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from sandbox import procs
from sandbox.slack import channel_id

pytestmark = pytest.mark.stack
GROUP = {"alertname": "ErrorBudgetBurn", "namespace": "shop", "service": "checkout", "severity": "page"}


@pytest.fixture
def alertmanager(tmp_path):
    started: list[procs.Process] = []

    def start(webhook_url: str) -> procs.Process:
        started.append(procs.start_alertmanager(tmp_path, webhook_url))
        return started[-1]

    yield start
    for proc in started:
        proc.stop()


async def post_alert(am: procs.Process, *pods: str, firing: bool, starts: datetime) -> None:
    """Alerts of the group, as Prometheus sends them: endsAt ahead while firing, now to resolve."""
    now = datetime.now(timezone.utc)
    ends = now + timedelta(hours=1) if firing else now
    alerts = [{"labels": {**GROUP, "pod": pod},
               "annotations": {"summary": f"checkout burns its error budget ({pod})"},
               "startsAt": starts.isoformat(), "endsAt": ends.isoformat(),
               "generatorURL": "http://prometheus.example/graph?g0.expr=slo_burn"} for pod in pods]
    async with httpx.AsyncClient(timeout=10) as client:
        resp = await client.post(f"{am.url}/api/v2/alerts", json=alerts)
    assert resp.status_code == 200, resp.text


async def test_fire_join_resolve_and_refire_stay_in_one_thread(chat_bot, alertmanager):
    bot = await chat_bot(run_worker=True)
    am = alertmanager(bot.url + "/alertmanager")
    slack = bot.slack
    channel = channel_id("#shop-checkout-oncall")

    def parents() -> list[dict]:
        return [c for c in slack.calls_to("chat.postMessage") if not c.get("thread_ts")]

    def parent_texts() -> list[str]:
        """The parent's state as posted, then as each chat.update left it."""
        return [p["text"] for p in parents()] + [u["text"] for u in slack.calls_to("chat.update")
                                                 if "FIRING" in u["text"] or "RESOLVED" in u["text"]]

    async def step(expect: str, reports: int) -> None:
        def reached(_) -> bool:
            return (parent_texts() and expect in parent_texts()[-1]
                    and len(bot.store.reports(bot.store.groups()[0].group_key)) == reports)
        await slack.wait_for(reached, timeout=30)

    t_a = datetime.now(timezone.utc)
    await post_alert(am, "checkout-a", firing=True, starts=t_a)
    await step("1 of 1 alerts firing", reports=1)

    await post_alert(am, "checkout-b", firing=True, starts=datetime.now(timezone.utc))
    await step("2 of 2 alerts firing", reports=2)  # joined: parent edited, its report in the thread

    await post_alert(am, "checkout-a", firing=False, starts=t_a)
    await step("1 of 2 alerts firing", reports=2)  # a partial resolve edits the parent only

    t_a = datetime.now(timezone.utc)
    await post_alert(am, "checkout-a", firing=True, starts=t_a)
    await step("2 of 2 alerts firing", reports=3)  # re-fire: a new report in the same thread

    await post_alert(am, "checkout-a", "checkout-b", firing=False, starts=t_a)
    await step("RESOLVED after", reports=3)
    await slack.wait_for(lambda s: any("Resolved after" in r.get("text", "") for r in s.calls_to(
        "chat.postMessage") if r.get("thread_ts")), timeout=30)

    await post_alert(am, "checkout-a", firing=True, starts=datetime.now(timezone.utc))
    await step("1 of 2 alerts firing", reports=4)  # re-fire after resolution: same thread again

    [parent] = parents()
    parent_ts = next(ts for ts, m in slack.messages.items() if not m.get("thread_ts"))
    assert parent["channel"] == channel and "FIRING" in parent["text"]
    replies = [c for c in slack.calls_to("chat.postMessage") if c.get("thread_ts")]
    assert replies and all(r["thread_ts"] == parent_ts and r["channel"] == channel for r in replies)
    updates = slack.calls_to("chat.update")
    assert updates and all(u["ts"] == parent_ts for u in updates)
    states = ["RESOLVED" if t.startswith("RESOLVED after") else t.split(", ")[-1] for t in parent_texts()]
    # one edit per Alertmanager notification, in order (the first is the parent itself)
    assert states == ["1 of 1 alerts firing", "2 of 2 alerts firing", "1 of 2 alerts firing",
                      "2 of 2 alerts firing", "RESOLVED", "1 of 2 alerts firing"]
    # Slack ends up showing the last state on the parent itself
    assert "FIRING" in slack.messages[parent_ts]["text"] and "1 of 2" in slack.messages[parent_ts]["text"]
    [group] = bot.store.groups()
    assert group.thread_ts == parent_ts and group.status == "firing"
    notes = [r["text"] for r in replies if r.get("text", "").startswith("Resolved after")]
    assert len(notes) == 1, json.dumps(notes)
