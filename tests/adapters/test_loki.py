"""The Loki adapter over real HTTP against the Loki 3.8 stand-in (and a recording server)."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from adapters.envelope import Status
from adapters.httpconf import HttpAuth
from adapters.loki import LogLine, LokiClient
from adapters.prometheus import Sample, Series
from tests.adapters.conftest import END, fault_app

HOUR = timedelta(hours=1)


def truth(scenario, start, end, **labels) -> list[dict]:
    rows = [json.loads(line) for line in (scenario / "logs.jsonl").read_text().splitlines()]
    lo, hi = start.isoformat().replace("+00:00", ""), end.isoformat().replace("+00:00", "")
    return [r for r in rows if lo <= r["ts"][:26] < hi
            and all(r["labels"].get(k) == v for k, v in labels.items())]


async def test_query_range_backward_newest_first(loki, scenario):
    result = await loki.query_range('{app="checkout"} |= "Checkout failed"', END - 6 * HOUR,
                                    END, limit=100)
    assert result.status is Status.OK and result.source == "loki"
    assert result.query == '{app="checkout"} |= "Checkout failed"'
    assert result.range.start == END - 6 * HOUR and result.elapsed_ms > 0
    lines = result.data
    assert lines and all(isinstance(ln, LogLine) for ln in lines)
    assert [ln.ts_ns for ln in lines] == sorted((ln.ts_ns for ln in lines), reverse=True)
    assert all("Checkout failed" in ln.line and ln.labels["app"] == "checkout" for ln in lines)


async def test_pagination_returns_every_line_once(loki_url, scenario):
    start = END - 2 * HOUR
    expected = truth(scenario, start, END, app="checkout")
    assert len(expected) > 1000
    async with LokiClient(loki_url, page_size=300) as small_pages:
        for direction in ("backward", "forward"):
            result = await small_pages.query_range('{app="checkout"}', start, END,
                                                   limit=100_000, direction=direction)
            assert result.status is Status.OK and not result.warnings
            assert len(result.data) == len(expected)
            assert len({ln.key() for ln in result.data}) == len(expected)
            times = [ln.ts_ns for ln in result.data]
            assert times == sorted(times, reverse=direction == "backward")


async def test_total_cap_stops_paging_and_says_so(loki_url):
    async with LokiClient(loki_url, page_size=200) as client:
        result = await client.query_range('{namespace="shop"}', END - 6 * HOUR, END, limit=750)
    assert result.status is Status.OK and len(result.data) == 750
    assert any("cap of 750" in w for w in result.warnings)
    newest = max(ln.ts_ns for ln in result.data)
    assert result.data[0].ts_ns == newest  # the newest 750, not an arbitrary 750


async def test_metric_range_and_instant(loki):
    expr = 'sum by (app) (count_over_time({namespace="shop"} |= "ERROR" [5m]))'
    ranged = await loki.query_range(expr, END - HOUR, END, step=300)
    assert ranged.status is Status.OK and ranged.range.step_seconds == 300
    assert all(isinstance(s, Series) for s in ranged.data)
    assert {s.labels["app"] for s in ranged.data} >= {"checkout"}
    instant = await loki.instant('sum by (app) (rate({namespace="shop"} |= "ERROR" [10m]))', END)
    assert instant.status is Status.OK and instant.at == END
    assert all(isinstance(s, Sample) and s.value > 0 for s in instant.data)


async def test_labels_values_and_series(loki):
    labels = await loki.labels(END - HOUR, END)
    assert labels.status is Status.OK and {"app", "namespace", "pod"} <= set(labels.data)
    values = await loki.label_values("app", END - HOUR, END)
    assert values.status is Status.OK and "checkout" in values.data
    series = await loki.series(['{app="checkout"}'], END - HOUR, END)
    assert series.status is Status.OK
    assert series.data and all(s["app"] == "checkout" for s in series.data)


async def test_no_match_is_empty_and_bad_logql_is_an_error(loki):
    empty = await loki.query_range('{app="no-such-app"}', END - HOUR, END)
    assert empty.status is Status.EMPTY and empty.data == []
    bad = await loki.query_range('{app=~".*"}', END - HOUR, END)
    assert bad.status is Status.ERROR and "HTTP 400" in bad.error
    assert "empty-compatible" in bad.error  # Loki's own text/plain message is kept
    too_many = await loki.query_range('count_over_time({app="checkout"}[1m])', END - 24 * HOUR,
                                      END, step=1)
    assert too_many.status is Status.ERROR and "11,000 points" in too_many.error


async def test_tenant_and_auth_headers_are_sent(serve):
    seen: list = []
    url = await serve(fault_app("ok", seen=seen))
    async with LokiClient(url, auth=HttpAuth(tenant="team-a", bearer_token="tok")) as client:
        await client.labels(END - HOUR, END)
    async with LokiClient(url, auth=HttpAuth(username="u", password="p", tenant="t2")) as client:
        await client.query_range('{app="x"}', END - HOUR, END, limit=10, direction="forward")
    assert seen[0]["headers"]["X-Scope-OrgID"] == "team-a"
    assert seen[0]["headers"]["Authorization"] == "Bearer tok"
    assert seen[1]["headers"]["X-Scope-OrgID"] == "t2"
    assert seen[1]["headers"]["Authorization"].startswith("Basic ")
    query = parse_qs(urlsplit(seen[1]["path"]).query)
    assert query["limit"] == ["10"] and query["direction"] == ["forward"]


async def test_explore_link_when_grafana_is_configured(loki_url):
    async with LokiClient(loki_url, grafana_url="https://grafana.example", datasource_uid="lk1") as c:
        result = await c.query_range('{app="checkout"}', END - HOUR, END, limit=5)
    assert result.link.startswith("https://grafana.example/explore?schemaVersion=1&panes=")
    async with LokiClient(loki_url) as plain:
        assert (await plain.query_range('{app="checkout"}', END - HOUR, END, limit=5)).link is None
