"""Loopback stand-in for Grafana Loki's HTTP query API, fed by a scenario's logs.jsonl.

Why: the product's real httpx Loki client must be tested over real HTTP against
answers shaped exactly like Loki 3.8 (see /work/shared/wire-samples/loki-3.8):
streams/matrix/vector bodies with a stats block, the labels Loki adds
(service_name, detected_level) and Loki's 400 text/plain errors.
Test/demo infrastructure only; never imported by the product.
"""

from __future__ import annotations

import functools
import json
import math
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from aiohttp import web
from multidict import MultiDict

from sandbox import logql
from sandbox.logql import Entry, Labels, LogExpr, LogQLError

MAX_ENTRIES = 5000
MAX_POINTS = 11_000
MAX_QUERY_LENGTH_NS = (30 * 86400 + 3600) * 10**9  # 30d1h
_SERVICE_LABELS = ("service_name", "service", "app", "application", "name",
                   "app_kubernetes_io_name", "container", "container_name", "component", "workload",
                   "job")
_LEVEL_FIELDS = ("level", "LEVEL", "Level", "severity", "SEVERITY", "Severity", "lvl", "LVL", "Lvl")
_LEVELS = {"trace": "trace", "trc": "trace", "debug": "debug", "dbg": "debug", "info": "info",
           "inf": "info", "information": "info", "warn": "warn", "wrn": "warn", "warning": "warn",
           "error": "error", "err": "error", "critical": "critical", "fatal": "fatal"}
_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", re.I)


@dataclass(frozen=True)
class LogRecord:
    """One logs.jsonl line with its timestamp in unix nanoseconds."""

    ts_ns: int
    labels: dict[str, str]
    line: str


def parse_rfc3339_ns(value: str) -> int:
    """RFC 3339 (any fraction length, Z or offset) to unix ns without float rounding."""
    m = _RFC3339.match(value.strip())
    if not m:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    zone = "+00:00" if m.group(3).upper() == "Z" else m.group(3)
    secs = int(datetime.fromisoformat(m.group(1) + zone).timestamp())
    return secs * 10**9 + int(((m.group(2) or "") + "000000000")[:9])


def format_rfc3339_ns(ts_ns: int) -> str:
    """Go's RFC3339Nano: trailing fraction zeros trimmed, UTC 'Z'."""
    base = datetime.fromtimestamp(ts_ns // 10**9, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{ts_ns % 10**9:09d}".rstrip("0")
    return f"{base}.{frac}Z" if frac else f"{base}Z"


def read_logs_jsonl(path: Path) -> list[LogRecord]:
    """Load a scenario's logs.jsonl sorted by time."""
    out: list[LogRecord] = []
    with path.open(encoding="utf-8") as fh:
        for raw in fh:
            if raw.strip():
                d = json.loads(raw)
                out.append(LogRecord(parse_rfc3339_ns(d["ts"]), dict(d["labels"]), d["line"]))
    out.sort(key=lambda r: r.ts_ns)
    return out


def detect_level(labels: Labels, line: str) -> str:
    """Approximate Loki's distributor level detection (label, json/logfmt field, keywords)."""
    for key in _LEVEL_FIELDS:
        if key in labels:
            return _LEVELS.get(labels[key].lower(), labels[key])
    value = None
    stripped = line.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        try:
            doc = json.loads(stripped)
            value = next((doc[k] for k in _LEVEL_FIELDS if isinstance(doc.get(k), str)), None)
        except ValueError:
            pass
    elif "=" in line:
        m = re.search(r'(?:^|\s)(?:level|severity|lvl)="?([A-Za-z]+)', line, re.I)
        value = m.group(1) if m else None
    if value and value.lower() in _LEVELS:
        return _LEVELS[value.lower()]
    for level, words in (("info", ("info", "INFO")), ("error", ("err:", "ERR:", "error", "ERROR")),
                         ("warn", ("warn:", "WARN:", "warning", "WARNING")),
                         ("critical", ("critical:", "CRITICAL:")), ("debug", ("debug", "DEBUG"))):
        if any(w in line for w in words):
            return level
    return "unknown"


def build_streams(records: list[LogRecord]) -> list[tuple[Labels, list[Entry]]]:
    """Group records into Loki streams: service_name joins the stream, detected_level each entry."""
    streams: dict[str, tuple[Labels, list[Entry]]] = {}
    shared: dict[tuple[str, str], Labels] = {}
    for rec in records:
        labels = dict(rec.labels)
        if "service_name" not in labels:
            labels["service_name"] = next((labels[k] for k in _SERVICE_LABELS if labels.get(k)),
                                          "unknown_service")
        key = logql.label_key(labels)
        stream = streams.setdefault(key, (labels, []))
        level = detect_level(labels, rec.line)
        full = shared.setdefault((key, level), {**labels, "detected_level": level})
        stream[1].append((rec.ts_ns, full, rec.line))
    return list(streams.values())


@functools.lru_cache(maxsize=8)
def _cached_streams(path: Path, mtime_ns: int, size: int) -> list[tuple[Labels, list[Entry]]]:
    """Parse each logs.jsonl once per content version (tests build many apps from one file)."""
    return build_streams(read_logs_jsonl(path))


class _BadRequest(Exception):
    """Any 400 the stand-in answers; the message is the text/plain body."""


def _parse_time(value: str | None, default_ns: int) -> int:
    """Loki's parseTimestamp: float seconds, int seconds (<=10 digits), int ns, or RFC 3339."""
    if not value:
        return default_ns
    if "." in value:
        try:
            secs, frac = divmod(float(value), 1)
            return int(secs) * 10**9 + int(round(frac * 1000)) * 10**6
        except ValueError:
            pass
    try:
        n = int(value)
        return n * 10**9 if len(value) <= 10 else n
    except ValueError:
        try:
            return parse_rfc3339_ns(value)
        except ValueError:
            raise _BadRequest(f'cannot parse "{value}" to a valid timestamp') from None


def _seconds(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        try:
            return logql.parse_duration(value)
        except ValueError:
            raise _BadRequest(f'cannot parse "{value}" to a valid duration') from None


def _go_duration(ns: int) -> str:
    """Go's time.Duration.String() for whole-second-or-more values (e.g. 800h0m0s)."""
    if ns < 10**9:
        return f"{ns / 1e6:g}ms" if ns else "0s"
    h, rem = divmod(ns, 3600 * 10**9)
    m, rem = divmod(rem, 60 * 10**9)
    s = f"{rem / 1e9:.9f}".rstrip("0").rstrip(".")
    return (f"{h}h{m}m" if h else f"{m}m" if m else "") + f"{s}s"


def _sec_value(ts_ns: int) -> float | int:
    """Sample timestamp as Loki prints it: seconds with ms precision, int when whole."""
    ms = ts_ns // 10**6
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def _bounds(p: MultiDict[str], now_ns: int) -> tuple[int, int]:
    end = _parse_time(p.get("end"), now_ns)
    since = int(_seconds(p["since"]) * 1e9) if p.get("since") else 3600 * 10**9
    start = _parse_time(p.get("start"), end - since)
    if end < start:
        raise _BadRequest("end timestamp must not be before or equal to start time")
    return start, end


def _limit(p: MultiDict[str]) -> int:
    try:
        limit = int(p.get("limit") or 100)
    except ValueError:
        raise _BadRequest(f'cannot parse "{p.get("limit")}" to a valid limit') from None
    if limit <= 0:
        raise _BadRequest("limit must be a positive value")
    return limit


def _direction(p: MultiDict[str]) -> str:
    direction = (p.get("direction") or "backward").lower()
    if direction not in ("backward", "forward"):
        raise _BadRequest("invalid direction")
    return direction


def _zeros(names: str) -> dict[str, Any]:
    return dict.fromkeys(names.split(), 0)


def _stats(entries: int, lines: int) -> dict[str, Any]:
    """Loki 3.8's stats block shape (as in the captures): zeros but for a few counters."""
    chunk = ("headChunkBytes headChunkLines decompressedBytes decompressedLines compressedBytes "
             "totalDuplicates postFilterLines headChunkStructuredMetadataBytes "
             "decompressedStructuredMetadataBytes")
    dataobj = ("prePredicateDecompressedRows prePredicateDecompressedBytes "
               "prePredicateDecompressedStructuredMetadataBytes postPredicateRows "
               "postPredicateDecompressedBytes postPredicateStructuredMetadataBytes postFilterRows "
               "pagesScanned pagesDownloaded pagesDownloadedBytes pageBatches totalRowsAvailable "
               "totalPageDownloadTime wireBytesTransferred")

    def store() -> dict[str, Any]:
        return {**_zeros("totalChunksRef totalChunksDownloaded chunksDownloadTime"),
                "queryReferencedStructuredMetadata": False, "queryUsedV2Engine": False,
                "chunk": _zeros(chunk),
                **_zeros("chunkRefsFetchTime congestionControlLatency "
                         "pipelineWrapperFilteredLines"),
                "dataobj": _zeros(dataobj)}

    cache = ("entriesFound entriesRequested entriesStored bytesReceived bytesSent requests "
             "downloadTime queryLengthServed")
    caches = ("chunk index result statsResult volumeResult seriesResult labelResult "
              "instantMetricResult logResult taskResult")
    summary = _zeros("bytesProcessedPerSecond linesProcessedPerSecond totalBytesProcessed "
                     "totalLinesProcessed execTime queueTime subqueries totalEntriesReturned "
                     "splits "
                     "shards totalPostFilterLines totalStructuredMetadataBytesProcessed")
    summary.update(totalLinesProcessed=lines, totalPostFilterLines=lines,
                   totalEntriesReturned=entries, execTime=0.0, queueTime=0.0, shards=1)
    return {
        "summary": summary,
        "querier": {"store": store(), "querierExecTime": 0.0},
        "ingester": {**_zeros("totalReached totalChunksMatched totalBatches totalLinesSent"),
                     "store": store(), "recvWaitTime": 0.0},
        "cache": {c: _zeros(cache) for c in caches.split()},
        "index": {**_zeros("totalChunks postFilterChunks shardsDuration"),
                  "usedBloomFilters": False,
                  **_zeros("totalStreams chunkRefsLookupTime bloomFilterTime")},
    }


def _json(body: Any) -> web.Response:
    return web.Response(text=json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n",
                        content_type="application/json", charset="UTF-8")


def _streams_body(entries: list[Entry], limit: int, direction: str) -> dict[str, Any]:
    chosen = sorted(entries, key=lambda e: e[0], reverse=direction == "backward")[:limit]
    groups: dict[str, tuple[Labels, list[list[str]]]] = {}
    for ts, labels, line in chosen:
        groups.setdefault(logql.label_key(labels), (labels, []))[1].append([str(ts), line])
    result = [{"stream": dict(sorted(groups[k][0].items())), "values": groups[k][1]}
              for k in sorted(groups)]
    return {"resultType": "streams", "result": result, "stats": _stats(len(chosen), len(entries))}


def _ordered(series: logql.Series) -> logql.Series:
    return sorted(series, key=lambda s: logql.label_key(s[0]))


def make_loki_app(logs_path: Path, *, clock: Callable[[], float] = time.time) -> web.Application:
    """Build the aiohttp app serving logs_path like Loki 3.8; `clock` is its 'now' (unix s)."""
    st = Path(logs_path).resolve().stat()
    streams = _cached_streams(Path(logs_path).resolve(), st.st_mtime_ns, st.st_size)
    app = web.Application()

    async def params(request: web.Request) -> MultiDict[str]:
        p: MultiDict[str] = MultiDict(request.query)
        if request.method == "POST":
            p.extend({k: str(v) for k, v in (await request.post()).items()})
        return p

    def now_ns() -> int:
        return int(clock() * 1e9)

    def in_range(start: int, end: int) -> list[Labels]:
        return [lbl for lbl, ents in streams if any(start <= e[0] <= end for e in ents)]

    def handler(fn: Callable[[MultiDict[str]], Any]) -> Callable[[web.Request], Any]:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                p = await params(request)
                p.add("__name__", request.match_info.get("name", ""))  # label/{name}/values
                return _json(fn(p))
            except (_BadRequest, LogQLError) as exc:
                return web.Response(status=400, text=str(exc), content_type="text/plain",
                                    charset="utf-8")
        return wrapped

    def query_range(p: MultiDict[str]) -> dict[str, Any]:
        start, end = _bounds(p, now_ns())
        limit, direction = _limit(p), _direction(p)
        step = (_seconds(p["step"]) if p.get("step")
                else max(math.floor((end - start) / 1e9 / 250), 1))
        if step <= 0:
            raise _BadRequest("zero or negative query resolution step widths are not accepted. "
                              "Try a positive integer")
        if (end - start) / 1e9 / step > MAX_POINTS:
            raise _BadRequest("exceeded maximum resolution of 11,000 points per time series. "
                              "Try increasing the value of the step parameter")
        expr = logql.parse(p.get("query") or "")
        if isinstance(expr, LogExpr) and limit > MAX_ENTRIES:
            raise _BadRequest("max entries limit per query exceeded, limit > "
                              f"max_entries_limit_per_query ({limit} > {MAX_ENTRIES})")
        if end - start > MAX_QUERY_LENGTH_NS:
            raise _BadRequest(f"the query time range exceeds the limit (query length: "
                              f"{_go_duration(end - start)}, limit: 30d1h)")
        if isinstance(expr, LogExpr):
            found = logql.select(expr, streams, start, end, hi_inclusive=False)
            data = _streams_body(found, limit, direction)
            return {"status": "success", "data": data}
        step_ns = int(step * 1e9)
        first, last = start - start % step_ns, end + (-end % step_ns)
        series = logql.evaluate(expr, streams, list(range(first, last + 1, step_ns)))
        result = [{"metric": dict(sorted(lbl.items())),
                   "values": [[_sec_value(t), logql.format_value(v)]
                              for t, v in sorted(pts.items())]}
                  for lbl, pts in _ordered(series)]
        return {"status": "success", "data": {"resultType": "matrix", "result": result,
                                              "stats": _stats(len(result), 0)}}

    def query(p: MultiDict[str]) -> dict[str, Any]:
        at = _parse_time(p.get("time"), now_ns())
        _limit(p)  # validated like Loki, though a metric answer has no entries to cap
        _direction(p)
        expr = logql.parse(p.get("query") or "")
        if isinstance(expr, LogExpr):
            raise _BadRequest("log queries are not supported as an instant query type, "
                              "please change your query to a range query type")
        series = logql.evaluate(expr, streams, [at])
        result = [{"metric": dict(sorted(lbl.items())),
                   "value": [_sec_value(at), logql.format_value(pts[at])]}
                  for lbl, pts in _ordered(series)]
        return {"status": "success", "data": {"resultType": "vector", "result": result,
                                              "stats": _stats(len(result), 0)}}

    def selected(p: MultiDict[str], key: str) -> list[Labels]:
        found = in_range(*_bounds(p, now_ns()))
        selectors = [logql.parse(q) for q in p.getall(key, [])]
        if any(not isinstance(s, LogExpr) or s.stages for s in selectors):
            raise _BadRequest("only label matchers are supported")
        return [lbl for lbl in found if not selectors
                or any(logql.selector_matches(s, lbl) for s in selectors)]  # type: ignore[arg-type]

    def labels(p: MultiDict[str]) -> dict[str, Any]:
        names = sorted({k for lbl in selected(p, "query") for k in lbl})
        return {"status": "success", "data": names} if names else {"status": "success"}

    def label_values(p: MultiDict[str]) -> dict[str, Any]:
        name = p["__name__"]
        values = sorted({lbl[name] for lbl in selected(p, "query") if name in lbl})
        return {"status": "success", "data": values} if values else {"status": "success"}

    def series(p: MultiDict[str]) -> dict[str, Any]:
        key = "match[]" if "match[]" in p else "match"
        return {"status": "success",
                "data": [dict(sorted(lbl.items())) for lbl in selected(p, key)]}

    def index_stats(p: MultiDict[str]) -> dict[str, Any]:
        start, end = _bounds(p, now_ns())
        expr = logql.parse(p.get("query") or "")
        if not isinstance(expr, LogExpr):
            raise _BadRequest("only label matchers are supported")
        hits = logql.select(LogExpr(expr.matchers), streams, start, end, hi_inclusive=True)
        names = {logql.label_key({k: v for k, v in lbl.items() if k != "detected_level"})
                 for _, lbl, _ in hits}
        return {"streams": len(names), "chunks": len(names),
                "bytes": sum(len(line.encode()) for *_, line in hits), "entries": len(hits)}

    async def ready(_: web.Request) -> web.Response:
        return web.Response(text="ready\n", content_type="text/plain", charset="utf-8")

    for path, fn in (("query_range", query_range), ("query", query), ("labels", labels),
                     ("label/{name}/values", label_values), ("series", series),
                     ("index/stats", index_stats)):
        h = handler(fn)
        app.router.add_get(f"/loki/api/v1/{path}", h)
        app.router.add_post(f"/loki/api/v1/{path}", h)
    app.router.add_get("/ready", ready)
    return app
