"""The HTTP round trip under the Prometheus and Loki adapters, kept cheap in client CPU.

An investigation fans out a dozen or more queries at once from one event loop,
so the client's CPU per request, not the network, sets how far the fan-out
trails its slowest query. Measured against a real Prometheus (bench/fanout.py,
issue 3), aiohttp costs 0.2-0.3 ms of CPU per request where httpx costs
0.8-1.4 ms (its connection pool re-checks every idle connection on every
request). Query strings are encoded once here, with the standard
library, so what goes out is exactly what the envelope says ran.

The session is made on first use inside the running loop (aiohttp sessions
belong to one loop), and again if the client is later used from another loop.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence
from urllib.parse import urlencode

import aiohttp
from yarl import URL

from adapters.envelope import Status
from adapters.httpconf import HttpAuth

Params = Mapping[str, str] | Sequence[tuple[str, str]]
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
    """One base URL reached through one pooled aiohttp session."""

    def __init__(self, base_url: str, *, auth: HttpAuth | None = None, timeout: float = 10.0,
                 headers: Mapping[str, str] | None = None,
                 session: aiohttp.ClientSession | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._auth = auth or HttpAuth()
        self._headers = {**(headers or {}), **request_headers(self._auth)}
        self._session = session
        self._owned = session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    async def aclose(self) -> None:
        if self._owned and self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _current(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or (self._owned and (self._session.closed
                                                       or self._loop is not loop)):
            connector = aiohttp.TCPConnector(ssl=self._auth.verify())
            self._session = aiohttp.ClientSession(connector=connector, headers=self._headers)
            self._loop = loop
        return self._session

    async def fetch(self, path: str, params: Params = (), *, timeout: float | None = None,
                    post: bool = False) -> Reply:
        """GET `path?params` (or POST them as a form); FetchError when nothing answered."""
        budget = timeout or self.timeout
        query = urlencode(params)
        url = self.base_url + path
        limit = self._timeouts.get(budget) or self._timeouts.setdefault(
            budget, aiohttp.ClientTimeout(total=budget))
        try:
            if post:
                call = self._current().post(URL(url, encoded=True), data=query.encode(),
                                            headers=_FORM, timeout=limit)
            else:
                call = self._current().get(URL(f"{url}?{query}" if query else url,
                                               encoded=True), timeout=limit)
            async with call as response:
                return Reply(response.status, await response.read())
        except asyncio.TimeoutError:
            raise FetchError(Status.TIMEOUT, f"no answer within {budget:.3g}s") from None
        except aiohttp.ClientConnectorError as exc:
            # Named as before the switch from httpx, so reports read the same.
            raise FetchError(Status.ERROR, f"ConnectError: {exc}") from None
        except aiohttp.ClientError as exc:
            raise FetchError(Status.ERROR, f"{type(exc).__name__}: {exc}") from None


def request_headers(auth: HttpAuth) -> dict[str, str]:
    """Static headers: basic auth as a header unless a bearer token already is one, and
    uncompressed answers unless the source asks for compression."""
    out = auth.all_headers()
    if not auth.compress:
        out.setdefault("Accept-Encoding", "identity")
    if auth.username is not None and "Authorization" not in out:
        out["Authorization"] = aiohttp.encode_basic_auth(auth.username, auth.password or "")
    return out
