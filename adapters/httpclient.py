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
from typing import Any, Mapping

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

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
        self._proxy: Any = None
        self._proxy_auth: aiohttp.BasicAuth | None = None

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
            # HTTP(S)_PROXY / NO_PROXY as httpx honoured them, looked up once: aiohttp's
            # trust_env does it on every request, ~0.3 ms of CPU each.
            try:
                self._proxy, self._proxy_auth = get_env_proxy_for_url(URL(self.base_url))
            except LookupError:
                self._proxy, self._proxy_auth = None, None
        return self._session

    async def fetch(self, path: str, query: str = "", *, timeout: float | None = None,
                    post: bool = False) -> Reply:
        """GET `path?query` (or POST the query as a form); FetchError when nothing answered.
        `query` comes urlencoded, so callers can also measure it and show it."""
        budget = timeout or self.timeout
        url = self.base_url + path
        session = self._current()
        options = {"timeout": aiohttp.ClientTimeout(total=budget), "proxy": self._proxy,
                   "proxy_auth": self._proxy_auth}
        try:
            if post:
                call = session.post(URL(url, encoded=True), data=query.encode(), headers=_FORM,
                                    **options)
            else:
                call = session.get(URL(f"{url}?{query}" if query else url, encoded=True),
                                   **options)
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
