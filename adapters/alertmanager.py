"""Read-only Alertmanager API v2 client: the alerts firing now, as an envelope.

`oncall health` lists what is already paging next to what it finds itself, so
an engineer sees both at once; a missing or failing Alertmanager is a status on
the envelope (reported, never raised), like every other source.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from adapters.envelope import SourceResult, Status
from adapters.httpclient import FetchError, HttpSource
from adapters.httpconf import HttpAuth


class AlertmanagerClient:
    """`GET /api/v2/alerts` against one Alertmanager."""

    def __init__(self, base_url: str, *, timeout: float = 10.0, auth: HttpAuth | None = None,
                 client: httpx.AsyncClient | None = None) -> None:
        self._http = HttpSource(base_url, auth=auth, timeout=timeout, client=client)
        self.base_url, self.timeout = self._http.base_url, timeout

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "AlertmanagerClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def alerts(self, *, active: bool = True, silenced: bool = False,
                     inhibited: bool = False, timeout: float | None = None) -> SourceResult:
        """Alerts (data: list of v2 alert objects); by default only unsilenced firing ones."""
        params = {"active": _flag(active), "silenced": _flag(silenced),
                  "inhibited": _flag(inhibited), "unprocessed": "false"}
        encoded = "&".join(f"{k}={v}" for k, v in params.items())
        result = SourceResult(source="alertmanager", status=Status.OK,
                              query=f"GET /api/v2/alerts?{encoded}", link=f"{self.base_url}/#/alerts")
        started = time.perf_counter()
        try:
            reply = await self._http.fetch("/api/v2/alerts", encoded, timeout=timeout)
            if reply.code in (401, 403):
                result.status, result.error = Status.FORBIDDEN, f"HTTP {reply.code}"
            elif reply.code >= 400:
                result.status, result.error = Status.ERROR, f"HTTP {reply.code}: {reply.text()[:200]}"
            else:
                result.data = _alerts(reply.json())
                result.status = Status.OK if result.data else Status.EMPTY
        except FetchError as exc:
            result.status, result.error = exc.status, exc.message
        except ValueError as exc:
            result.status, result.error = Status.ERROR, f"{type(exc).__name__}: {exc}"
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        return result


def _alerts(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, list):
        raise ValueError("unexpected body: not a list of alerts")
    return [a for a in body if isinstance(a, dict)]


def _flag(value: bool) -> str:
    return "true" if value else "false"
