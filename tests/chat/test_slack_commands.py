"""/oncall through Bolt's real signature verification, against the Slack stand-in:
every subcommand acknowledged well under 3 s, results posted, bad input answered
with usage, and forged/stale/tampered requests refused with no side effect."""

from __future__ import annotations

import time

import pytest

from bot.webhook import parse_webhook
from tests.chat.conftest import SECRET, sign, slash_body

ACK_BUDGET = 1.0  # seconds; Slack allows 3


async def timed(bot, text: str):
    started = time.perf_counter()
    resp = await bot.command(text)
    return resp, time.perf_counter() - started


def results(bot) -> list[dict]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if "ran `/oncall" in c.get("text", "")]


@pytest.mark.parametrize("text, workflow, expect", [
    ("health shop", "health", "pods not ready"),
    ("triage deployment/checkout --lines 50 -n shop", "triage", "OOMKilled 3 times (last 50 lines read)"),
    ("triage checkout-5255lpzzwd-58tv8", "triage", "Triage* of checkout-5255lpzzwd-58tv8"),
    ('slo checkout', "slo", "burn rate 1h"),
    ('canary track="canary" track="stable" --window 15m', "canary", "Hold"),
    ("cost shop", "cost", "monthly estimate usd"),
])
async def test_workflow_subcommands_ack_at_once_then_post_the_result(chat_bot, fake_workflows, text,
                                                                     workflow, expect):
    bot = await chat_bot()
    resp, took = await timed(bot, text)
    assert resp.status_code == 200 and took < ACK_BUDGET
    ack = resp.json()
    assert ack["response_type"] == "ephemeral" and "Working on" in ack["text"]
    await bot.slack.wait_for(lambda s: results(bot), timeout=10)
    posted = results(bot)[0]
    assert posted["channel"] == "C0ONCALL" and expect in str(posted["blocks"])
    assert [name for name, _ in fake_workflows] == [workflow]


async def test_arguments_reach_the_workflow(chat_bot, fake_workflows):
    bot = await chat_bot()
    await bot.command("canary track=\u201ccanary\u201d app=\u201cweb\u201d,track=\u201cstable\u201d")
    await bot.slack.wait_for(lambda s: results(bot), timeout=10)
    assert fake_workflows == [("canary", {"canary": 'track="canary"', "baseline": 'app="web",track="stable"',
                                          "window": "30m"})]


async def test_help_and_status_answer_in_the_ack(chat_bot, alerts_body):
    bot = await chat_bot()
    resp, took = await timed(bot, "help")
    assert took < ACK_BUDGET and "/oncall triage" in resp.json()["text"]
    assert "No open incidents" in (await bot.command("status")).json()["text"]
    await bot.store.run(bot.store.apply, parse_webhook(alerts_body))
    text = (await bot.command("status")).json()["text"]
    assert "1 open incident" in text and "ErrorBudgetBurn" in text


@pytest.mark.parametrize("text, expect", [
    ("frobnicate", "unknown subcommand 'frobnicate'"),
    ("triage", "missing <target>. Usage: `/oncall triage"),
    ("triage pod/x --lines many", "--lines must be a int"),
    ("triage pod/x --lines 0", "--lines must be between 1 and 5000"),
    ("health a b", "unexpected argument 'b'"),
    ("slo", "missing <service>"),
    ('canary "unbalanced', "unbalanced quotes"),
    ("health --since 5m", "unknown option --since"),
])
async def test_bad_input_gets_usage_never_a_trace(chat_bot, fake_workflows, text, expect):
    bot = await chat_bot()
    resp = await bot.command(text)
    assert resp.status_code == 200 and expect in resp.json()["text"]
    assert "Traceback" not in resp.text and fake_workflows == []


async def test_missing_workflow_says_not_available_yet(chat_bot, monkeypatch):
    from bot import workflow_calls

    monkeypatch.setitem(workflow_calls.WORKFLOWS, "cost", ("reasoning.workflows.no_such_module", "cost"))
    monkeypatch.setitem(workflow_calls.WORKFLOWS, "slo", ("tests.chat.fake_workflows", "no_such_func"))
    bot = await chat_bot()
    assert "not available yet" in (await bot.command("cost")).json()["text"]
    assert "not available yet" in (await bot.command("slo checkout")).json()["text"]


async def test_failing_workflow_is_one_line_to_the_asker(chat_bot, monkeypatch, fake_workflows):
    from tests.chat import fake_workflows as module

    def boom(namespace=None):
        raise RuntimeError("prometheus exploded")

    monkeypatch.setattr(module, "cost", boom)
    bot = await chat_bot()
    await bot.command("cost shop")
    await bot.slack.wait_for(lambda s: s.calls_to("chat.postEphemeral"), timeout=10)
    text = bot.slack.calls_to("chat.postEphemeral")[0]["text"]
    assert text.startswith("`cost` failed: RuntimeError: prometheus exploded") and "Traceback" not in text


@pytest.mark.parametrize("case", ["forged", "stale", "tampered", "unsigned", "future"])
async def test_bad_signatures_are_refused_with_no_side_effect(chat_bot, fake_workflows, case):
    bot = await chat_bot()
    body = slash_body("health shop")
    headers = {
        "forged": sign(body, secret="not-the-secret"),
        "stale": sign(body, ts=int(time.time()) - 600),
        "future": sign(body, ts=int(time.time()) + 600),
        "tampered": sign(slash_body("health kube-system")),
        "unsigned": {},
    }[case]
    resp = await bot.post(body, headers=headers)
    assert resp.status_code == 401
    await __import__("asyncio").sleep(0.2)
    assert fake_workflows == [] and bot.slack.calls == []


async def test_signed_with_the_right_secret_is_accepted(chat_bot):
    bot = await chat_bot()
    body = slash_body("help")
    assert (await bot.post(body, headers=sign(body, secret=SECRET))).status_code == 200


async def test_without_a_signing_secret_http_slack_is_refused(chat_bot):
    bot = await chat_bot(slack_signing_secret=None)
    resp = await bot.post(slash_body("help"), headers={})
    assert resp.status_code == 503 and "ONCALL_SLACK_SIGNING_SECRET" in resp.text


async def test_one_keep_alive_session_and_results_still_posted_after_a_stop(chat_bot, monkeypatch, fake_workflows):
    """Answers acknowledged before a stop are posted before the Web API session closes."""
    import asyncio

    from bot.server import SLACK
    from tests.chat import fake_workflows as module

    async def slow_cost(namespace=None):
        await asyncio.sleep(0.5)
        return {"namespace": namespace, "monthly_estimate_usd": 7.0}

    monkeypatch.setattr(module, "cost", slow_cost)
    bot = await chat_bot()
    client = bot.app[SLACK].client
    session = client.session
    assert session is not None and not session.closed  # one pooled session while serving
    for ns in ("shop", "cart", "web"):
        assert (await bot.command(f"cost {ns}")).status_code == 200
    assert results(bot) == []  # still working when the stop begins
    await bot.stop()
    assert sorted(c["text"].split("`")[1] for c in results(bot)) == [
        "/oncall cost cart", "/oncall cost shop", "/oncall cost web"]
    assert session.closed and client.session is None
