"""`oncall agent-run` sweeps: namespaces investigated on a timer, chat told only of news.

Real Prometheus and the Loki/Kubernetes stand-ins replay the public scenarios;
chat is Bolt's real Web API client against the Slack stand-in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat import SlackSink
from bot.replay import scenario_cluster
from bot.watch import Sweeper, over_threshold
from detectors import Severity
from reasoning.workflows.sources import open_sources
from sandbox.slack import channel_id
from tests.replicas import TOKEN, slack_standin

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT.parent / "shared" / "scenarios"


def slack_sink(url: str) -> SlackSink:
    app = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=url),
                   request_verification_enabled=False)
    return SlackSink(app, "#sweeps")


async def test_sweep_posts_once_stays_quiet_then_resolves():
    runner, url, slack = await slack_standin()
    try:
        async with scenario_cluster(SCENARIOS / "shop-checkout-oom") as cluster, \
                open_sources(cluster) as src:
            sweeper = Sweeper(src.prometheus, ["shop"], sink=slack_sink(url),
                              default_channel="#sweeps", investigate_kwargs={"kube": src.kube,
                                                                             "loki": src.loki})
            first = (await sweeper.round())[0]
            assert first.action == "posted"
            assert any(k.startswith("pod-restarts|shop|") and "checkout" in k for k in first.crossed)
            parents = slack.calls_to("chat.postMessage")
            assert parents[0]["channel"] == channel_id("#sweeps") and "thread_ts" not in parents[0]
            assert "FIRING: Sweep of shop" in parents[0]["text"]
            thread_ts = next(iter(slack.messages))
            replies = [m for m in slack.thread(thread_ts) if m.get("thread_ts") == thread_ts]
            assert replies and "checkout" in json.dumps(replies)

            posts = len(slack.calls_to("chat.postMessage"))
            second = (await sweeper.round())[0]
            assert second.action == "quiet" and second.crossed == first.crossed
            assert len(slack.calls_to("chat.postMessage")) == posts  # nothing new, nothing said

            # Hours before the incident the namespace was clean: the thread is resolved.
            before = first.report.generated_at - timedelta(hours=5)
            third = (await sweeper.round(at=before))[0]
            assert third.action == "resolved" and third.crossed == []
            update = slack.calls_to("chat.update")[-1]
            assert update["ts"] == thread_ts and update["text"].startswith("RESOLVED")
    finally:
        await runner.cleanup()


async def test_quiet_namespace_crosses_no_page_threshold():
    async with scenario_cluster(SCENARIOS / "shop-quiet-night") as cluster, \
            open_sources(cluster) as src:
        sweeper = Sweeper(src.prometheus, ["shop"], investigate_kwargs={"kube": src.kube,
                                                                        "loki": src.loki})
        outcome = (await sweeper.round())[0]
        assert outcome.action == "quiet"
        assert over_threshold(outcome.report.findings, Severity.PAGE) == {}


def test_cli_once_prints_the_namespace_report_as_json():
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "agent-run", "--once", "-n", "shop", "--format", "json",
         "--scenario", str(SCENARIOS / "shop-checkout-oom")],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
        env={**os.environ, "ONCALL_RUNBOOKS_ENABLED": "false"})
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["title"].startswith("OncallSweep") and "shop" in report["title"]
    assert report["hypotheses"][0]["cause"] == "oom-killed"
    assert report["hypotheses"][0]["culprit"]["name"].startswith("checkout")


def test_cli_rejects_bad_combinations():
    for args, why in ((["--once", "--interval", "5m", "-n", "x"], "exactly one"),
                      (["--interval", "5m"], "--namespace"),
                      (["--interval", "2s", "-n", "x"], "at least 10s"),
                      (["--interval", "soon", "-n", "x"], "not a duration"),
                      (["--once", "-n", "x", "--threshold", "info"], "warning or page")):
        out = subprocess.run([sys.executable, "-m", "bot.cli", "agent-run", *args], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 2 and why in out.stderr, (args, out.stderr)
