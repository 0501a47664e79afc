"""The scenario sandbox: a recorded incident replayed as live services on loopback.

Real Prometheus (backfilled with promtool, evaluating the scenario's rules) and
real Alertmanager (routed to the bot's webhook), plus small stand-ins for Loki,
the Kubernetes API and Slack. The demo, `oncall sandbox up` and the tests all
use this one class.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path

from aiohttp import web

from sandbox import procs
from sandbox.kube import make_kube_app
from sandbox.loki import make_loki_app
from sandbox.scenario import load_scenario, materialize
from sandbox.slack import RECORDER, SlackRecorder, make_slack_app

SLACK_TOKEN = "xoxb-sandbox-token"


class Sandbox:
    def __init__(self, scenario_dir: Path, *, webhook_url: str = "", webhook_token: str | None = None,
                 end_ago: float = 0.0, for_seconds: int | None = 0, slack: bool = True,
                 alerting: bool = True, workdir: Path | None = None) -> None:
        self.scenario_dir = Path(scenario_dir)
        self.webhook_url, self.webhook_token = webhook_url, webhook_token
        self.end_ago, self.for_seconds, self.with_slack = end_ago, for_seconds, slack
        self.alerting = alerting  # False: no rules, no Alertmanager (just the data)
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="oncall-sandbox-"))
        self.prometheus: procs.Process | None = None
        self.alertmanager: procs.Process | None = None
        self._runners: list[web.AppRunner] = []
        self.urls: dict[str, str] = {}
        self.slack: SlackRecorder | None = None

    async def __aenter__(self) -> "Sandbox":
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        scenario = load_scenario(self.scenario_dir)
        shifted = await asyncio.to_thread(
            materialize, scenario, self.workdir / "scenario", end_ago=self.end_ago)
        await asyncio.to_thread(procs.backfill, shifted / "metrics.om", self.workdir / "tsdb")
        self.shifted = shifted
        rules = None
        if self.alerting and (shifted / "rules.yaml").exists():
            rules = self.workdir / "rules.yaml"
            procs.compress_for(shifted / "rules.yaml", rules, self.for_seconds)
        if self.alerting:
            self.alertmanager = await asyncio.to_thread(
                procs.start_alertmanager, self.workdir, self.webhook_url, token=self.webhook_token)
        self.prometheus = await asyncio.to_thread(
            procs.start_prometheus, self.workdir, self.workdir / "tsdb", rules,
            self.alertmanager.url if self.alertmanager else None)
        self.started_at = time.time()  # Prometheus evaluates its rules from here on
        self.urls = {"prometheus": self.prometheus.url}
        if self.alertmanager:
            self.urls["alertmanager"] = self.alertmanager.url
        self.urls["loki"] = await self._serve(make_loki_app(shifted / "logs.jsonl"))
        self.urls["kube"] = await self._serve(make_kube_app(shifted / "kube"))
        if self.with_slack:
            app = make_slack_app(SLACK_TOKEN)
            self.slack = app[RECORDER]
            self.urls["slack"] = await self._serve(app) + "/api/"

    async def _serve(self, app: web.Application) -> str:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}"

    def env(self) -> dict[str, str]:
        """`ONCALL_*` variables that point the bot at this sandbox."""
        env = {
            "ONCALL_PROMETHEUS_URL": self.urls["prometheus"],
            "ONCALL_LOKI_URL": self.urls["loki"],
            "ONCALL_KUBE_API_URL": self.urls["kube"],
        }
        if "alertmanager" in self.urls:
            env["ONCALL_ALERTMANAGER_URL"] = self.urls["alertmanager"]
        if "slack" in self.urls:
            env |= {"ONCALL_SLACK_API_URL": self.urls["slack"], "ONCALL_SLACK_BOT_TOKEN": SLACK_TOKEN}
        if self.webhook_token:
            env["ONCALL_WEBHOOK_TOKEN"] = self.webhook_token
        return env

    async def stop(self) -> None:
        for proc in (self.prometheus, self.alertmanager):
            if proc is not None:
                await asyncio.to_thread(proc.stop)
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
