"""Async LogQL client for Loki's HTTP API that never raises.

Log queries page past Loki's per-query line limit (5000 by default) up to a
total cap the caller chooses, so "the last 20,000 lines" is one call; metric
queries (`rate`, `count_over_time`, `sum by`) come back as the same
Sample/Series values as PromQL. Loki's errors (400 text/plain, 401/403, 5xx,
timeouts) become error envelopes, never exceptions.
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
from adapters.prometheus import Sample, Series

PAGE_SIZE = 5000  # Loki's default max_entries_limit_per_query


@dataclass(frozen=True)
class LogLine:
    """One log entry with its stream labels; the same shape whichever source served it."""

    ts_ns: int
    labels: dict[str, str]
    line: str

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.ts_ns / 1e9, tz=timezone.utc)

    def key(self) -> tuple[int, tuple[tuple[str, str], ...], str]:
        return self.ts_ns, tuple(sorted(self.labels.items())), self.line


class LokiClient:
    """Read-only client for `/loki/api/v1/{query_range,query,labels,label/*/values,series}`."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        auth: HttpAuth | None = None,
        page_size: int = PAGE_SIZE,
        grafana_url: str | None = None,
        datasource_uid: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.page_size = page_size
        self.grafana_url, self.datasource_uid = grafana_url, datasource_uid
        self._http = HttpSource(self.base_url, auth=auth, timeout=timeout, client=client)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "LokiClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def link(self, expr: str, start: datetime, end: datetime) -> str | None:
        """Grafana Explore on the Loki datasource, when both are configured."""
        if not (self.grafana_url and self.datasource_uid):
            return None
        return links.grafana_explore(self.grafana_url, self.datasource_uid, "loki", expr,
                                     start=start, end=end)

    async def query_range(
        self, expr: str, start: datetime, end: datetime, *, limit: int = 1000,
        direction: str = "backward", step: float | None = None, timeout: float | None = None,
    ) -> SourceResult:
        """Log lines (data: list[LogLine], newest first when backward) or, for a metric
        query, list[Series]. Log queries page until `limit` lines or the range is done."""
        started = time.perf_counter()
        total = _new(expr, start, end, step, self.link(expr, start, end))
        result = await self._pages(total, expr, start, end, limit, direction, step,
                                   timeout or self.timeout)
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        return result

    async def _pages(
        self, total: SourceResult, expr: str, start: datetime, end: datetime, limit: int,
        direction: str, step: float | None, budget: float,
    ) -> SourceResult:
        deadline = time.perf_counter() + budget
        lo, hi = _ns(start), _ns(end)
        lines: list[LogLine] = []
        edge: int | None = None  # the boundary instant the next page asks for again
        at_edge: set[tuple[Any, ...]] = set()  # lines already read at that instant
        overlap = 0  # how many of them the next page will repeat
        while True:
            page_limit = min(self.page_size, limit - len(lines) + overlap)
            params = {"query": expr, "start": str(lo), "end": str(hi), "limit": str(page_limit),
                      "direction": direction}
            if step:
                params["step"] = f"{step:g}"
            remaining = deadline - time.perf_counter()
            page = await self._get("/loki/api/v1/query_range", params, expr, remaining)
            total.warnings += [w for w in page.warnings if w not in total.warnings]
            if not page.ok:
                return _partial(total, page, lines, budget)
            data = page.data or {}
            if data.get("resultType") != "streams":
                total.data = [_series(item) for item in data.get("result") or []]
                return _finish(total)
            # Only the boundary instant can repeat, so only its lines need comparing.
            fresh = [ln for ln in _flatten(data, direction)
                     if ln.ts_ns != edge or ln.key() not in at_edge]
            lines += fresh
            returned = sum(len(s.get("values") or []) for s in data.get("result") or [])
            if returned < page_limit or not fresh:
                break
            if len(lines) >= limit:
                total.warnings.append(f"stopped at the cap of {limit} lines; more exist")
                break
            edge = fresh[-1].ts_ns  # oldest when backward, newest when forward
            repeated = [ln for ln in lines if ln.ts_ns == edge]
            at_edge, overlap = {ln.key() for ln in repeated}, len(repeated)
            if direction == "backward":
                hi = edge + 1  # end is exclusive: the boundary instant is asked again, deduped
            else:
                lo = edge
        total.data = lines[:limit]
        return _finish(total)

    async def instant(
        self, expr: str, at: datetime, *, timeout: float | None = None
    ) -> SourceResult:
        """A metric query at one instant (data: list[Sample])."""
        params = {"query": expr, "time": str(_ns(at))}
        result = await self._get("/loki/api/v1/query", params, expr, timeout or self.timeout)
        result.at = at
        result.link = self.link(expr, at.replace(microsecond=0) - _HOUR, at)
        if result.ok:
            result.data = [Sample(dict(i.get("metric") or {}), float(i["value"][1]))
                           for i in (result.data or {}).get("result") or []]
        return _finish(result)

    async def labels(
        self, start: datetime, end: datetime, *, query: str | None = None,
        timeout: float | None = None,
    ) -> SourceResult:
        """Label names seen in the window (data: list[str])."""
        return await self._meta("/loki/api/v1/labels", start, end, query, timeout)

    async def label_values(
        self, name: str, start: datetime, end: datetime, *, query: str | None = None,
        timeout: float | None = None,
    ) -> SourceResult:
        """Values of one label in the window (data: list[str])."""
        return await self._meta(f"/loki/api/v1/label/{name}/values", start, end, query, timeout)

    async def series(
        self, match: Sequence[str], start: datetime, end: datetime, *,
        timeout: float | None = None,
    ) -> SourceResult:
        """Label sets of the streams matching any selector (data: list[dict])."""
        params: list[tuple[str, str]] = [("match[]", m) for m in match]
        params += [("start", str(_ns(start))), ("end", str(_ns(end)))]
        shown = "series " + " or ".join(match)
        result = await self._get("/loki/api/v1/series", params, shown, timeout or self.timeout)
        result.range = TimeRange(start=start, end=end)
        return _finish(result)

    async def _meta(
        self, path: str, start: datetime, end: datetime, query: str | None,
        timeout: float | None,
    ) -> SourceResult:
        params = {"start": str(_ns(start)), "end": str(_ns(end))}
        if query:
            params["query"] = query
        shown = f"GET {path}" + (f" for {query}" if query else "")
        result = await self._get(path, params, shown, timeout or self.timeout)
        result.range = TimeRange(start=start, end=end)
        return _finish(result)

    async def _get(
        self, path: str, params: dict[str, str] | list[tuple[str, str]], shown: str,
        timeout: float,
    ) -> SourceResult:
        started = time.perf_counter()
        result = SourceResult(source="loki", status=Status.OK, query=shown)
        if timeout <= 0:
            result.status, result.error = Status.TIMEOUT, "deadline passed before the call"
            return result
        try:
            _read(await self._http.fetch(path, urlencode(params), timeout=timeout), result)
        except FetchError as exc:
            result.status, result.error = exc.status, exc.message
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        return result


_HOUR = timedelta(hours=1)


def _read(reply: Reply, result: SourceResult) -> None:
    """Fill `result` from one HTTP answer: Loki errors are text/plain, successes JSON."""
    code = reply.code
    if code in (401, 403):
        result.status = Status.FORBIDDEN
        result.error = f"HTTP {code}: {reply.text().strip()[:300]}"
        return
    if code >= 400:
        result.status, result.error = Status.ERROR, f"HTTP {code}: {reply.text().strip()[:500]}"
        return
    try:
        body = reply.json()
    except ValueError:
        result.status, result.error = Status.ERROR, f"HTTP {code}: not JSON: {reply.text()[:200]}"
        return
    if not isinstance(body, dict) or body.get("status") not in ("success", None):
        result.status = Status.ERROR
        result.error = str(body.get("error") if isinstance(body, dict) else "unexpected body")
        return
    result.warnings = list(body.get("warnings") or [])
    result.data = body.get("data")


def _new(expr: str, start: datetime, end: datetime, step: float | None,
         link: str | None) -> SourceResult:
    return SourceResult(source="loki", status=Status.OK, query=expr, link=link,
                        range=TimeRange(start=start, end=end, step_seconds=step))


def _partial(total: SourceResult, page: SourceResult, lines: list[LogLine],
             budget: float) -> SourceResult:
    """A later page failed: keep the lines already read, say why the rest is missing."""
    if lines:
        total.data = lines
        total.warnings.append(f"paging stopped early ({page.status.value}: {page.error})")
        return _finish(total)
    total.status, total.error = page.status, page.error
    if page.status is Status.TIMEOUT:
        total.error = f"no answer within {budget:.3g}s"
    return total


def _finish(result: SourceResult) -> SourceResult:
    if result.ok and not result.data:
        result.status = Status.EMPTY
    return result


def _flatten(data: dict[str, Any], direction: str) -> list[LogLine]:
    out = [LogLine(int(ts), labels, line)  # one labels dict per stream, shared by its lines
           for stream in data.get("result") or [] for labels in [dict(stream.get("stream") or {})]
           for ts, line in stream.get("values") or []]
    out.sort(key=lambda ln: ln.ts_ns, reverse=direction == "backward")
    return out


def _series(item: dict[str, Any]) -> Series:
    points = [(float(t), float(v)) for t, v in item.get("values") or []]
    return Series(labels=dict(item.get("metric") or {}), points=points)


def _ns(when: datetime) -> int:
    return int(when.timestamp()) * 10**9 + when.microsecond * 1000
