"""Async Prometheus HTTP API client (queries and metadata endpoints) that never raises.

Failures (connection refused, HTTP errors, bad PromQL, deadlines) come back as a
:class:`SourceResult` with an error status so an investigation degrades instead
of crashing. Long queries go out as form-encoded POSTs, as the HTTP API allows.
Auth, a private CA and `X-Scope-OrgID` (:class:`HttpAuth`) let the same client
talk to Thanos, Mimir and Cortex.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence
from urllib.parse import urlencode

import httpx

from adapters import links
from adapters.envelope import SourceResult, Status, TimeRange
from adapters.httpclient import FetchError, HttpSource, Reply
from adapters.httpconf import HttpAuth

_POST_OVER = 2000  # characters: longer queries are sent in the body
_POSTABLE = {"/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels"}


@dataclass(frozen=True)
class Sample:
    """One series of an instant vector."""

    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class Series:
    """One series of a range matrix: (unix seconds, value) points."""

    labels: dict[str, str]
    points: list[tuple[float, float]]


class PrometheusClient:
    """Read-only client for the Prometheus HTTP API (`/api/v1/query*`)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        headers: dict[str, str] | None = None,
        link_url: str | None = None,
        client: httpx.AsyncClient | None = None,
        auth: HttpAuth | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.link_url = (link_url or base_url).rstrip("/")
        self.timeout = timeout
        self._http = HttpSource(self.base_url, auth=auth, timeout=timeout, headers=headers,
                                client=client)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "PrometheusClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def instant(
        self, expr: str, at: datetime | None = None, *, timeout: float | None = None
    ) -> SourceResult:
        at = at or datetime.now(timezone.utc)
        params = {"query": expr, "time": f"{at.timestamp():.3f}"}
        result = await self._call("/api/v1/query", params, expr, timeout)
        result.at = at
        result.link = links.prometheus_graph(self.link_url, expr, end=at)
        if result.ok:
            result.data = [_sample(item) for item in _vector(result.data)]
            if not result.data:
                result.status = Status.EMPTY
        return result

    async def range(
        self,
        expr: str,
        start: datetime,
        end: datetime,
        step: float,
        *,
        timeout: float | None = None,
    ) -> SourceResult:
        params = {
            "query": expr,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": f"{step:g}",
        }
        result = await self._call("/api/v1/query_range", params, expr, timeout)
        result.range = TimeRange(start=start, end=end, step_seconds=step)
        result.link = links.prometheus_graph(
            self.link_url, expr, end=end, range_seconds=(end - start).total_seconds()
        )
        if result.ok:
            result.data = [_series(item) for item in (result.data or {}).get("result", [])]
            if not result.data:
                result.status = Status.EMPTY
        return result

    async def series(
        self, match: Sequence[str], start: datetime | None = None, end: datetime | None = None,
        *, limit: int | None = None, timeout: float | None = None,
    ) -> SourceResult:
        """Label sets of the series matching any selector in `match` (data: list of dicts)."""
        params = [("match[]", m) for m in match] + _window(start, end) + _limit(limit)
        return _listed(await self._meta("/api/v1/series", params, timeout), start, end)

    async def labels(
        self, match: Sequence[str] = (), start: datetime | None = None,
        end: datetime | None = None, *, timeout: float | None = None,
    ) -> SourceResult:
        """Label names (data: list of str), optionally only those of series in `match`."""
        params = [("match[]", m) for m in match] + _window(start, end)
        return _listed(await self._meta("/api/v1/labels", params, timeout), start, end)

    async def label_values(
        self, name: str, match: Sequence[str] = (), start: datetime | None = None,
        end: datetime | None = None, *, timeout: float | None = None,
    ) -> SourceResult:
        """Values of one label (data: list of str)."""
        params = [("match[]", m) for m in match] + _window(start, end)
        path = f"/api/v1/label/{name}/values"
        return _listed(await self._meta(path, params, timeout), start, end)

    async def metadata(
        self, metric: str | None = None, *, limit: int | None = None,
        timeout: float | None = None,
    ) -> SourceResult:
        """Type, help and unit per metric name (data: {name: [{type, help, unit}]})."""
        params = ([("metric", metric)] if metric else []) + _limit(limit)
        return _listed(await self._meta("/api/v1/metadata", params, timeout), None, None)

    async def rules(
        self, kind: str | None = None, *, timeout: float | None = None
    ) -> SourceResult:
        """Recording and alerting rule groups (data: list of groups); kind 'alert' or 'record'."""
        params = [("type", kind)] if kind else []
        result = await self._meta("/api/v1/rules", params, timeout)
        if result.ok:
            result.data = list((result.data or {}).get("groups") or [])
        return _listed(result, None, None)

    async def alerts(self, *, timeout: float | None = None) -> SourceResult:
        """Alerts Prometheus currently holds pending or firing (data: list of alerts)."""
        result = await self._meta("/api/v1/alerts", [], timeout)
        if result.ok:
            result.data = list((result.data or {}).get("alerts") or [])
        return _listed(result, None, None)

    async def _meta(
        self, path: str, params: list[tuple[str, str]], timeout: float | None
    ) -> SourceResult:
        query = urlencode(params)
        shown = f"{'POST' if _use_post(path, query) else 'GET'} {path}" + (
            f"?{query}" if query else "")
        result = await self._call(path, params, shown, timeout)
        result.link = None
        return result

    async def _call(
        self, path: str, params: dict[str, str] | list[tuple[str, str]], expr: str,
        timeout: float | None,
    ) -> SourceResult:
        started = time.perf_counter()
        envelope = SourceResult(source="prometheus", status=Status.OK, query=expr)
        query = urlencode(params)
        try:
            reply = await self._http.fetch(path, query, timeout=timeout,
                                           post=_use_post(path, query))
            body = _json(reply)
            envelope.warnings = list(body.get("warnings") or []) + list(body.get("infos") or [])
            if reply.code in (401, 403):
                envelope.status, envelope.error = Status.FORBIDDEN, f"HTTP {reply.code}"
            elif reply.code >= 400 or body.get("status") != "success":
                envelope.status = Status.ERROR
                envelope.error = body.get("error") or f"HTTP {reply.code}"
            else:
                envelope.data = body.get("data")
        except FetchError as exc:
            envelope.status, envelope.error = exc.status, exc.message
        envelope.elapsed_ms = (time.perf_counter() - started) * 1000
        return envelope


def _json(reply: Reply) -> dict[str, Any]:
    try:
        body = reply.json()
    except ValueError:
        return {"status": "error", "error": f"HTTP {reply.code}: not JSON: {reply.text()[:200]}"}
    return body if isinstance(body, dict) else {"status": "error", "error": "unexpected JSON body"}


def _vector(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, dict):
        return []
    if data.get("resultType") == "scalar":
        return [{"metric": {}, "value": data.get("result")}]
    return list(data.get("result") or [])


def _sample(item: dict[str, Any]) -> Sample:
    return Sample(labels=dict(item.get("metric") or {}), value=float(item["value"][1]))


def _series(item: dict[str, Any]) -> Series:
    points = [(float(t), float(v)) for t, v in item.get("values") or []]
    return Series(labels=dict(item.get("metric") or {}), points=points)


def _use_post(path: str, query: str) -> bool:
    """Long parameter lists go in a form body (URLs over ~8 kB are refused by proxies)."""
    return path in _POSTABLE and len(query) > _POST_OVER


def _window(start: datetime | None, end: datetime | None) -> list[tuple[str, str]]:
    out = [("start", f"{start.timestamp():.3f}")] if start else []
    return out + ([("end", f"{end.timestamp():.3f}")] if end else [])


def _limit(limit: int | None) -> list[tuple[str, str]]:
    return [("limit", str(limit))] if limit else []


def _listed(result: SourceResult, start: datetime | None, end: datetime | None) -> SourceResult:
    """Metadata answers: EMPTY when nothing came back, the window kept when one was asked."""
    if start and end:
        result.range = TimeRange(start=start, end=end)
    if result.ok and not result.data:
        result.status = Status.EMPTY
    return result


def ago(seconds: float, at: datetime | None = None) -> datetime:
    """Convenience for range starts: `seconds` before `at` (default now)."""
    return (at or datetime.now(timezone.utc)) - timedelta(seconds=seconds)
