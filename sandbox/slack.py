"""Loopback stand-in for the few Slack Web API methods the bot calls.

Answers in Slack's shapes (`{"ok": true, ...}`, `{"ok": false, "error": ...}`),
checks the bot token, and records every call so tests and the demo can see
exactly what the real SDK sent. With `rate_limit` it enforces Slack's posting
limit like Slack does: past `rate_limit` messages per second in a channel
(`chat.postMessage` and `chat.update`, trailing one-second window) it answers
HTTP 429 `ratelimited` with a `Retry-After` header.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sandbox.slack_interactive import interactive_method


@dataclass
class SlackRecorder:
    token: str
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    call_times: list[float] = field(default_factory=list)  # time.time() of each call
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # ts -> message
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    rate_limit: float | None = None  # messages per second per channel; None: unlimited
    limited: list[tuple[float, str, float]] = field(default_factory=list)  # (time, channel, retry_after)
    sent: dict[str, deque] = field(default_factory=dict)  # channel -> times of accepted writes
    _seq: int = 0

    def next_ts(self) -> str:
        self._seq += 1
        return f"{int(time.time())}.{self._seq:06d}"

    def over_limit(self, channel: str, now: float) -> float | None:
        """Seconds to wait if a write to `channel` now would exceed the rate, else None."""
        if not self.rate_limit:
            return None
        window = self.sent.setdefault(channel, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.rate_limit:
            return max(0.001, window[0] + 1.0 - now)
        window.append(now)
        return None

    def writes(self, channel: str | None = None) -> list[tuple[float, str, str]]:
        """(time, method, channel ID) of every post/update received, accepted or not."""
        out = []
        for (method, args), at in zip(self.calls, self.call_times):
            if method in ("chat.postMessage", "chat.update"):
                ch = channel_id(str(args.get("channel", "")))
                if channel is None or ch == channel:
                    out.append((at, method, ch))
        return out

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


def make_slack_app(token: str = "xoxb-sandbox", rate_limit: float | None = None) -> web.Application:
    recorder = SlackRecorder(token=token, rate_limit=rate_limit)
    app = web.Application()
    app[RECORDER] = recorder

    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = dict(request.query) if request.method == "GET" else await _args(request)
        now = time.time()
        recorder.calls.append((method, args))
        recorder.call_times.append(now)
        recorder.changed.set()
        if request.headers.get("Authorization") != f"Bearer {recorder.token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method in ("chat.postMessage", "chat.update") and args.get("channel"):
            wait = recorder.over_limit(channel_id(args["channel"]), now)
            if wait is not None:
                retry_after = math.ceil(wait)  # Slack sends whole seconds
                recorder.limited.append((now, channel_id(args["channel"]), retry_after))
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                         headers={"Retry-After": str(retry_after)})
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
        if (answer := interactive_method(recorder, method, args)) is not None:
            return web.json_response(answer)
        if method == "conversations.replies":
            oldest = float(args.get("oldest") or 0)
            return web.json_response({"ok": True, "messages": [
                m for m in recorder.thread(args.get("ts", "")) if float(m["ts"]) >= oldest]})
        if method == "conversations.history":
            oldest, channel = float(args.get("oldest") or 0), channel_id(args.get("channel", ""))
            found = [m for m in recorder.messages.values() if m["channel"] == channel
                     and not m.get("thread_ts") and float(m["ts"]) >= oldest]
            return web.json_response({"ok": True, "messages": found[::-1], "has_more": False})
        return web.json_response({"ok": False, "error": "unknown_method"}, status=404)

    app.router.add_post("/api/{method}", api)
    app.router.add_get("/api/{method}", api)
    return app
