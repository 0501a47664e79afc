"""Chat fixtures: the Slack Web API stand-in, a bot whose Bolt app verifies real
signatures, signed Slack requests, and stand-in workflows."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from aiohttp import web

from bot import workflow_calls
from bot.server import STORE, make_app
from bot.settings import Settings
from sandbox import procs
from sandbox.slack import RECORDER, SlackRecorder, channel_id
from sandbox.slack import make_slack_app as make_slack_standin

HERE = Path(__file__).resolve().parent
TOKEN, SECRET = "xoxb-chat-tests", "chat-tests-signing-secret"
APPROVER, STRANGER, GROUPIE = "U0APPROVER", "U0STRANGER", "U0GROUPIE"
OWNERSHIP = f"""
default: {{team: platform, channel: "", stakeholder_channel: "#incidents", approvers: [{APPROVER}]}}
owners:
  - match: {{namespace: shop, service: checkout}}
    team: checkout
    channel: "#shop-checkout-oncall"
    stakeholder_channel: "#shop-status"
    approvers: [{APPROVER}, lead.person]
    approver_groups: [S0LEADS]
"""


def sign(body: bytes, secret: str = SECRET, ts: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def slash_body(text: str, user: str = APPROVER, channel: str = "C0ONCALL") -> bytes:
    return urlencode({"token": "unused", "team_id": "T0SANDBOX", "team_domain": "sandbox",
                      "channel_id": channel, "channel_name": "oncall", "user_id": user,
                      "user_name": user.lower(), "command": "/oncall", "text": text,
                      "api_app_id": "A0ONCALL", "response_url": "http://127.0.0.1:9/unused",
                      "trigger_id": "1.2.trigger"}).encode()


def interaction_body(payload: dict) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


@dataclass
class ChatBot:
    url: str
    app: web.Application
    slack: SlackRecorder
    settings: Settings
    runner: web.AppRunner | None = None
    runners: list | None = None  # the fixture's, which cleans up whatever is left

    async def stop(self) -> None:
        """Stop serving, as on SIGTERM: aiohttp's shutdown and every cleanup context."""
        if self.runner is not None and self.runners is not None and self.runner in self.runners:
            self.runners.remove(self.runner)
            await self.runner.cleanup()

    @property
    def store(self):
        return self.app[STORE]

    async def post(self, body: bytes, *, content_type: str = "application/x-www-form-urlencoded",
                   headers: dict[str, str] | None = None) -> httpx.Response:
        hdrs = {"Content-Type": content_type, **(sign(body) if headers is None else headers)}
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(self.url + "/slack/events", content=body, headers=hdrs)

    async def command(self, text: str, user: str = APPROVER) -> httpx.Response:
        return await self.post(slash_body(text, user))

    def posts_to(self, channel: str) -> list[dict]:
        return [c for c in self.slack.calls_to("chat.postMessage") if c["channel"] == channel_id(channel)]


async def serve(app: web.Application, runners: list, port: int | None = None) -> str:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port or 0)
    await site.start()
    runners.append(runner)
    return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]


@pytest.fixture
async def slack_standin():
    runners: list[web.AppRunner] = []
    app = make_slack_standin(TOKEN)
    url = await serve(app, runners)
    yield app[RECORDER], url + "/api/"
    for r in runners:
        await r.cleanup()


@pytest.fixture
def ownership_file(tmp_path) -> Path:
    path = tmp_path / "ownership.yaml"
    path.write_text(OWNERSHIP)
    return path


@pytest.fixture
async def chat_bot(tmp_path, slack_standin, ownership_file):
    """Factory: a bot (worker off unless asked) on the stand-in; same DB for every replica."""
    recorder, api_url = slack_standin
    runners: list[web.AppRunner] = []

    async def start(*, run_worker: bool = False, **overrides) -> ChatBot:
        values = dict(database_url=f"sqlite:///{tmp_path}/chat.db", slack_bot_token=TOKEN,
                      slack_signing_secret=SECRET, slack_api_url=api_url, ownership_file=ownership_file,
                      slack_channel="#oncall-default", prometheus_url="http://127.0.0.1:9",
                      investigation_deadline=1.0, worker_poll=0.05)
        values.update(overrides)
        settings = Settings(_env_file=None, **values)
        app = make_app(settings, run_worker=run_worker)
        url = await serve(app, runners, procs.free_port())
        return ChatBot(url, app, recorder, settings, runners[-1], runners)

    yield start
    for r in reversed(runners):
        await r.cleanup()


@pytest.fixture
def fake_workflows(monkeypatch):
    """Point every chat subcommand at tests.chat.fake_workflows (records its calls)."""
    from tests.chat import fake_workflows as module

    module.CALLS.clear()
    monkeypatch.setattr(workflow_calls, "WORKFLOWS", {
        name: ("tests.chat.fake_workflows", func) for name, func in
        {"health": "health", "triage": "triage", "slo": "slo_status", "canary": "canary_prom",
         "cost": "cost"}.items()})
    return module.CALLS
