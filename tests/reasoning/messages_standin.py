"""A loopback stand-in of the Anthropic Messages API that plays scripted turns.

The real `anthropic` client talks to it through `base_url`, so the tests cover
the SDK's own request building, retries, timeouts and error mapping. Every raw
request body is kept, for assertions about what would have left the process.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Callable

from aiohttp import web
from aiohttp.test_utils import TestServer

Turn = Callable[[dict[str, Any], int], Awaitable[web.StreamResponse]]


class MessagesStandIn:
    def __init__(self, turns: list[Turn]) -> None:
        self.turns = list(turns)
        self.bodies: list[bytes] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}"

    async def start(self) -> "MessagesStandIn":
        app = web.Application()
        app.router.add_post("/v1/messages", self._handle)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        return self

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        self.bodies.append(raw)
        self.headers.append(dict(request.headers))
        auth = request.headers.get("Authorization", "")
        if not (request.headers.get("x-api-key") or auth.startswith("Bearer ") and auth[7:]):
            return _error(401, "authentication_error", "x-api-key header is required")
        if "anthropic-version" not in request.headers:
            return _error(400, "invalid_request_error", "anthropic-version header is required")
        body = json.loads(raw)
        self.requests.append(body)
        if not self.turns:
            return _error(500, "api_error", "stand-in script exhausted")
        return await self.turns.pop(0)(body, len(raw))


def _error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"type": "error", "error": {"type": kind, "message": message}},
                             status=status, headers=headers)


def tool_use(name: str, args: dict[str, Any], uid: str | None = None) -> dict[str, Any]:
    return {"type": "tool_use", "id": uid or f"toolu_{name}_{abs(hash(json.dumps(args))) % 10**8}",
            "name": name, "input": args}


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def reply(*blocks: dict[str, Any], stop_reason: str | None = None, output_tokens: int = 120) -> Turn:
    """A 200 Message; input tokens are counted from the request size like a tokenizer would."""
    async def turn(body: dict[str, Any], size: int) -> web.StreamResponse:
        uses = any(b["type"] == "tool_use" for b in blocks)
        return web.json_response({
            "id": f"msg_{size}", "type": "message", "role": "assistant", "model": body["model"],
            "content": list(blocks), "stop_reason": stop_reason or ("tool_use" if uses else "end_turn"),
            "stop_sequence": None,
            "usage": {"input_tokens": size // 4, "output_tokens": output_tokens}})
    return turn


def overloaded(retry_after_ms: int | None = None) -> Turn:
    async def turn(body: dict[str, Any], size: int) -> web.StreamResponse:
        headers = {"retry-after-ms": str(retry_after_ms)} if retry_after_ms is not None else None
        return _error(529, "overloaded_error", "Overloaded", headers)
    return turn


def stall(seconds: float, then: Turn | None = None) -> Turn:
    async def turn(body: dict[str, Any], size: int) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return await (then or reply(text("late")))(body, size)
    return turn


def garbage() -> Turn:
    async def turn(body: dict[str, Any], size: int) -> web.StreamResponse:
        return web.Response(text="<html>502 Bad Gateway</html>", content_type="text/html")
    return turn
