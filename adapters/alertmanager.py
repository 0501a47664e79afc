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
from adapters.httpconf import HttpAuth


class AlertmanagerClient:
    """`GET /api/v2/alerts` against one Alertmanager."""

    def __init__(self, base_url: str, *, timeout: float = 10.0, auth: HttpAuth | None = None,
                 client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._client = client or (auth or HttpAuth()).client(timeout)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> "AlertmanagerClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def alerts(self, *, active: bool = True, silenced: bool = False,
                     inhibited: bool = False, timeout: float | None = None) -> SourceResult:
        """Alerts (data: list of v2 alert objects); by default only unsilenced firing ones."""
        params = {"active": _flag(active), "silenced": _flag(silenced),
                  "inhibited": _flag(inhibited), "unprocessed": "false"}
        query = "GET /api/v2/alerts?" + "&".join(f"{k}={v}" for k, v in params.items())
        result = SourceResult(source="alertmanager", status=Status.OK, query=query,
                              link=f"{self.base_url}/#/alerts")
        started = time.perf_counter()
        try:
            response = await self._client.get(f"{self.base_url}/api/v2/alerts", params=params,
                                               timeout=timeout or self.timeout)
            if response.status_code in (401, 403):
                result.status, result.error = Status.FORBIDDEN, f"HTTP {response.status_code}"
            elif response.status_code >= 400:
                result.status = Status.ERROR
                result.error = f"HTTP {response.status_code}: {response.text[:200]}"
            else:
                result.data = _alerts(response)
                result.status = Status.OK if result.data else Status.EMPTY
        except httpx.TimeoutException:
            result.status = Status.TIMEOUT
            result.error = f"no answer within {timeout or self.timeout:g}s"
        except (httpx.HTTPError, ValueError) as exc:
            result.status, result.error = Status.ERROR, f"{type(exc).__name__}: {exc}"
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        return result


def _alerts(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    if not isinstance(body, list):
        raise ValueError("unexpected body: not a list of alerts")
    return [a for a in body if isinstance(a, dict)]


def _flag(value: bool) -> str:
    return "true" if value else "false"
