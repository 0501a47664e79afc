"""The HTTP round trip under the Prometheus and Loki adapters: httpx, kept cheap in CPU.

An investigation fans out a dozen or more queries at once from one event loop,
so the client's CPU per request, not the network, sets how far the fan-out
trails its slowest query (bench/fanout.py, issue 3). What is cheap here:
query strings are encoded once, with the standard library, so what goes out
is exactly what the envelope says ran; the client (`HttpAuth.client`, shared
with the Alertmanager adapter) is built once per source, runs httpx over
aiohttp's connection pool, and asks for uncompressed answers unless the source
sets `compress` (compressing cost Prometheus ~10 ms of CPU per fan-out here).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

import httpx

from adapters.envelope import Status
from adapters.httpconf import HttpAuth

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass(frozen=True)
class Reply:
    """A whole HTTP answer: status code and body bytes."""

    code: int
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON; ValueError when it is not JSON."""
        return json.loads(self.body)


class FetchError(Exception):
    """No HTTP answer at all: the envelope status and a message naming why."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class HttpSource:
    """One base URL reached through one pooled httpx client."""

    def __init__(self, base_url: str, *, auth: HttpAuth | None = None, timeout: float = 10.0,
                 headers: Mapping[str, str] | None = None,
                 client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._owned = client is None
        self._client = client or (auth or HttpAuth()).client(self.base_url, timeout,
                                                                  dict(headers or {}))

    async def aclose(self) -> None:
        if self._owned:
            await self._client.aclose()

    async def fetch(self, path: str, query: str = "", *, timeout: float | None = None,
                    post: bool = False) -> Reply:
        """GET `path?query` (or POST the query as a form); FetchError when nothing answered.
        `query` comes urlencoded, so callers can also measure it and show it."""
        budget = timeout or self.timeout
        url = self.base_url + path
        try:
            if post:
                response = await self._client.post(url, content=query.encode(), headers=_FORM,
                                                   timeout=budget)
            else:
                response = await self._client.get(f"{url}?{query}" if query else url,
                                                  timeout=budget)
            return Reply(response.status_code, response.content)
        except httpx.TimeoutException as exc:
            if _refused(exc):
                raise FetchError(Status.ERROR, f"ConnectError: {exc}") from None
            raise FetchError(Status.TIMEOUT, f"no answer within {budget:.3g}s") from None
        except httpx.HTTPError as exc:
            raise FetchError(Status.ERROR, f"{type(exc).__name__}: {exc}") from None


def _refused(exc: httpx.TimeoutException) -> bool:
    """A refused or unreachable connection that the aiohttp transport reports as a
    connect timeout: the cause is an OSError that is not itself a timeout."""
    cause = exc.__cause__
    return isinstance(cause, OSError) and not isinstance(cause, TimeoutError)
