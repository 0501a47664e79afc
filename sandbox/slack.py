"""Loopback stand-in for the few Slack Web API methods the bot calls.

Answers in Slack's shapes (`{"ok": true, ...}`, `{"ok": false, "error": ...}`),
checks the bot token, and records every call so tests and the demo can see
exactly what the real SDK sent.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class SlackRecorder:
    token: str
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    call_times: list[float] = field(default_factory=list)  # time.time() of each call
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # ts -> message
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    _seq: int = 0

    def next_ts(self) -> str:
        self._seq += 1
        return f"{int(time.time())}.{self._seq:06d}"

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [args for m, args in self.calls if m == method]

    def thread(self, ts: str) -> list[dict[str, Any]]:
        """Parent first, then replies in order."""
        return [m for m in self.messages.values() if m["ts"] == ts or m.get("thread_ts") == ts]

    async def wait_for(self, predicate, timeout: float = 30.0) -> None:
        """Wait until `predicate(self)` holds, or raise TimeoutError."""
        async def loop() -> None:
            while not predicate(self):
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(loop(), timeout)


def channel_id(name: str) -> str:
    """Slack answers with channel IDs even when posting by `#name`."""
    if not name.startswith("#"):
        return name
    return "C" + format(zlib.crc32(name.encode()), "08X")


async def _args(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return await request.json()
    form = dict(await request.post())
    for key in ("blocks", "attachments"):
        if isinstance(form.get(key), str):
            form[key] = json.loads(form[key])
    return form


RECORDER = web.AppKey("recorder", SlackRecorder)


def make_slack_app(token: str = "xoxb-sandbox") -> web.Application:
    recorder = SlackRecorder(token=token)
    app = web.Application()
    app[RECORDER] = recorder

    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _args(request)
        recorder.calls.append((method, args))
        recorder.call_times.append(time.time())
        recorder.changed.set()
        if request.headers.get("Authorization") != f"Bearer {recorder.token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method == "auth.test":
            return web.json_response({"ok": True, "url": "https://sandbox.slack.com/", "team": "sandbox",
                                      "user": "oncall", "team_id": "T0SANDBOX", "user_id": "U0ONCALL",
                                      "bot_id": "B0ONCALL"})
        if method == "chat.postMessage":
            if not args.get("channel"):
                return web.json_response({"ok": False, "error": "channel_not_found"})
            args["channel"] = channel_id(args["channel"])
            if args.get("thread_ts") and args["thread_ts"] not in recorder.messages:
                return web.json_response({"ok": False, "error": "thread_not_found"})
            ts = recorder.next_ts()
            msg = {**args, "ts": ts, "type": "message"}
            recorder.messages[ts] = msg
            return web.json_response({"ok": True, "channel": args["channel"], "ts": ts, "message": msg})
        if method == "chat.update":
            msg = recorder.messages.get(args.get("ts", ""))
            if msg is not None and args.get("channel") != msg["channel"]:
                msg = None  # like Slack: updates need the channel ID it returned, not a name
            if msg is None:
                return web.json_response({"ok": False, "error": "message_not_found"})
            msg.update({k: v for k, v in args.items() if k not in ("ts", "channel")})
            return web.json_response({"ok": True, "channel": args["channel"], "ts": msg["ts"]})
        if method == "conversations.replies":
            return web.json_response({"ok": True, "messages": recorder.thread(args.get("ts", ""))})
        return web.json_response({"ok": False, "error": "unknown_method"}, status=404)

    app.router.add_post("/api/{method}", api)
    return app
