"""End to end: a recorded incident in real Prometheus pages through real
Alertmanager; the bot stores, acks, investigates and threads in the Slack
stand-in; when the rule stops firing the parent message is edited to resolved."""

from __future__ import annotations

import asyncio
import json

import pytest

from sandbox.runner import Sandbox
from tests.conftest import shared_scenario

pytestmark = pytest.mark.stack


def _text(msg: dict) -> str:
    blocks = list(msg.get("blocks") or [])
    for att in msg.get("attachments") or []:
        blocks += att.get("blocks") or []
    parts = [msg.get("text", "")]
    for b in blocks:
        parts.append(json.dumps(b))
    return "\n".join(parts)


async def run_incident(scenario, start_bot, *, end_ago: float, expect_resolve: bool):
    from sandbox import procs

    port = procs.free_port()
    async with Sandbox(scenario, webhook_url=f"http://127.0.0.1:{port}/alertmanager",
                       webhook_token="e2e-token", end_ago=end_ago) as sandbox:
        env = {k.removeprefix("ONCALL_").lower(): v for k, v in sandbox.env().items()}
        bot = await start_bot(port=port, slack_channel="#oncall-e2e", **env)
        slack = sandbox.slack

        def parents():
            return [c for c in slack.calls_to("chat.postMessage") if not c.get("thread_ts")]

        def replies():
            return [c for c in slack.calls_to("chat.postMessage") if c.get("thread_ts")]

        await slack.wait_for(lambda s: replies(), timeout=60)
        if expect_resolve:
            await slack.wait_for(lambda s: any("Resolved after" in r.get("text", "") for r in replies()),
                                 timeout=90)
        return bot, slack, parents(), replies()


async def test_page_becomes_thread_then_resolves(start_bot):
    scenario = shared_scenario("shop-checkout-oom")
    bot, slack, parents, replies = await run_incident(scenario, start_bot, end_ago=255,
                                                      expect_resolve=True)
    # one parent in the channel, everything else threaded under it
    assert len(parents) == 1
    parent_ts = next(ts for ts, m in slack.messages.items() if not m.get("thread_ts"))
    assert all(r["thread_ts"] == parent_ts for r in replies)
    assert "FIRING" in parents[0]["text"] and "ErrorBudgetBurn" in parents[0]["text"]

    report = "\n".join(_text(r) for r in replies)
    assert "OOMKilled" in report and "memory limit" in report
    for pod in ("checkout-5255lpzzwd-58tv8", "checkout-5255lpzzwd-7jcxn", "checkout-5255lpzzwd-gqrld"):
        assert pod in report
    assert "kube_pod_container_status_last_terminated_reason" in report  # the PromQL evidence
    assert "/graph?g0.expr=" in report  # deep links

    updates = slack.calls_to("chat.update")
    assert updates and all(u["ts"] == parent_ts for u in updates)
    assert "RESOLVED" in updates[-1]["text"]
    assert "RESOLVED" in slack.messages[parent_ts]["text"]

    for _ in range(50):  # the worker marks the notification done just after its last post
        if {n["state"] for n in bot.store.notifications()} == {"done"}:
            break
        await asyncio.sleep(0.1)
    groups = bot.store.groups()
    assert len(groups) == 1 and groups[0].status == "resolved" and groups[0].thread_ts == parent_ts
    assert len(bot.store.reports(groups[0].group_key)) == 1
    assert {n["state"] for n in bot.store.notifications()} == {"done"}
