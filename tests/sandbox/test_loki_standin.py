"""Contract tests: the Loki stand-in answers the real httpx client like Loki 3.8 (wire-samples)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestServer

from sandbox.loki import make_loki_app

END = "2026-11-20T10:00:00Z"  # scenario.yaml `end`
END_NS = 1795168800 * 10**9
START_NS = END_NS - 6 * 3600 * 10**9
API = "/loki/api/v1"


@pytest.fixture
async def loki(scenario_dir):
    app = make_loki_app(scenario_dir / "logs.jsonl", clock=lambda: END_NS / 1e9)
    async with TestServer(app, host="127.0.0.1") as server:
        base = f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            yield client


async def query_range(client: httpx.AsyncClient, query: str, **params: Any) -> httpx.Response:
    params = {"start": str(START_NS), "end": str(END_NS), **params, "query": query}
    return await client.get(f"{API}/query_range", params=params)


def entries(body: dict[str, Any]) -> list[tuple[int, str, dict[str, str]]]:
    return [(int(ts), line, s["stream"])
            for s in body["data"]["result"] for ts, line in s["values"]]


def window(rows, lo: int, hi: int, pred=lambda r: True) -> list[dict[str, Any]]:
    return [r for r in rows if lo < r["ns"] <= hi and pred(r)]


async def test_ready(loki):
    r = await loki.get("/ready")
    assert r.status_code == 200 and r.text.strip() == "ready"


async def test_log_query_has_the_captured_shape(loki, capture, shape):
    cap = capture("loki-3.8/query_range_logs.json")
    r = await query_range(loki, '{app="checkout"} |= "ERROR"', limit="50")
    assert r.status_code == cap["status"]
    assert r.headers["content-type"] == cap["content_type"]
    body = r.json()
    assert shape(body) == shape(cap["body"])
    assert shape(body["data"]["stats"]) == shape(cap["body"]["data"]["stats"])
    for stream in body["data"]["result"]:
        assert all(isinstance(v, str) for v in stream["stream"].values())
        assert all(re.fullmatch(r"\d{19}", ts) for ts, _ in stream["values"])


async def test_loki_adds_service_name_and_detected_level(loki):
    r = await query_range(loki, '{namespace="shop"}', limit="5000")
    streams = r.json()["data"]["result"]
    assert all(s["stream"]["service_name"] == s["stream"]["app"] for s in streams)
    for ts, line, labels in entries(r.json()):
        if " ERROR 1 --- " in line:
            assert labels["detected_level"] == "error"
        elif '"level":"warn"' in line:  # zap JSON field wins over keywords
            assert labels["detected_level"] == "warn"
    # detected_level is structured metadata: one pushed stream comes back as several
    pods = [s["stream"]["pod"] for s in streams]
    assert len(pods) > len(set(pods))


async def test_backward_limit_caps_entries_across_streams(loki, log_rows):
    r = await query_range(loki, '{app="checkout"} |= "ERROR"', limit="25")
    got = entries(r.json())
    assert len(got) == 25 and len(r.json()["data"]["result"]) > 1
    truth = window(log_rows, START_NS - 1, END_NS - 1,
                   lambda x: x["labels"]["app"] == "checkout" and "ERROR" in x["line"])
    assert {(ts, line) for ts, line, _ in got} == {(x["ns"], x["line"]) for x in truth[-25:]}
    for stream in r.json()["data"]["result"]:
        stamps = [int(ts) for ts, _ in stream["values"]]
        assert stamps == sorted(stamps, reverse=True)


async def test_forward_direction_returns_oldest_first(loki, log_rows, capture, shape):
    r = await query_range(loki, '{app="checkout"} |= "ERROR"', limit="10", direction="forward")
    assert shape(r.json()) == shape(capture("loki-3.8/query_range_logs_forward.json")["body"])
    got = entries(r.json())
    truth = window(log_rows, START_NS - 1, END_NS - 1,
                   lambda x: x["labels"]["app"] == "checkout" and "ERROR" in x["line"])[:10]
    assert sorted((ts, line) for ts, line, _ in got) == [(x["ns"], x["line"]) for x in truth]
    for stream in r.json()["data"]["result"]:
        stamps = [int(ts) for ts, _ in stream["values"]]
        assert stamps == sorted(stamps)


async def test_chained_line_filters(loki, log_rows):
    q = '{app="checkout"} |= "ERROR" != "OrderMailer" |~ "(?i)timeout" !~ "Payment.*declined"'
    r = await query_range(loki, q, limit="5000")
    def keep(x: dict[str, Any]) -> bool:
        line = x["line"]
        return (x["labels"]["app"] == "checkout" and "ERROR" in line and "OrderMailer" not in line
                and bool(re.search("(?i)timeout", line))
                and not re.search("Payment.*declined", line))

    want = window(log_rows, START_NS - 1, END_NS - 1, keep)
    assert want and len(entries(r.json())) == len(want)


@pytest.mark.parametrize("query,apps", [
    ('{app=~"check"}', set()),  # regex is fully anchored
    ('{app=~"check.*"}', {"checkout"}),
    ('{namespace="shop", app!~"check.*|front.*"}', {"cart", "cart-redis"}),
    ('{namespace="shop", app!="frontend", app=~"c.+"}', {"cart", "cart-redis", "checkout"}),
    ('{service_name="cart-redis"}', {"cart-redis"}),
])
async def test_stream_selector_matchers(loki, query, apps):
    r = await query_range(loki, query, limit="5000")
    assert r.status_code == 200
    assert {s["stream"]["app"] for s in r.json()["data"]["result"]} == apps


async def test_metric_range_matrix_values(loki, log_rows, capture, shape):
    q = 'sum by (app) (count_over_time({namespace="shop"} |= "ERROR" [5m]))'
    r = await query_range(loki, q, step="300")
    assert shape(r.json()) == shape(capture("loki-3.8/query_range_metric.json")["body"])
    data = r.json()["data"]
    assert data["resultType"] == "matrix" and data["result"]
    for series in data["result"]:
        for t, value in series["values"]:
            assert isinstance(t, int) and t % 300 == 0 and isinstance(value, str)
            app = series["metric"]["app"]
            hits = window(log_rows, (t - 300) * 10**9, t * 10**9,
                          lambda x: x["labels"]["app"] == app and "ERROR" in x["line"])
            assert value == str(len(hits))


async def test_metric_instant_vector(loki, log_rows, capture, shape):
    q = 'sum(count_over_time({app="checkout"}[10m]))'
    r = await loki.get(f"{API}/query", params={"query": q, "time": "1795168799.5"})
    assert shape(r.json()) == shape(capture("loki-3.8/query_instant_metric.json")["body"])
    (sample,) = r.json()["data"]["result"]
    assert sample["metric"] == {} and sample["value"][0] == 1795168799.5
    at = END_NS - 5 * 10**8
    want = window(log_rows, at - 600 * 10**9, at, lambda x: x["labels"]["app"] == "checkout")
    assert sample["value"][1] == str(len(want))


async def test_rate_with_suffix_grouping(loki, log_rows):
    r = await loki.get(f"{API}/query", params={
        "query": 'sum(rate({app="checkout"}[10m])) by (pod)', "time": END})
    result = {s["metric"]["pod"]: float(s["value"][1]) for s in r.json()["data"]["result"]}
    assert set(result) == {f"checkout-5255lpzzwd-{s}" for s in ("58tv8", "7jcxn", "gqrld")}
    for pod, rate in result.items():
        n = len(window(log_rows, END_NS - 600 * 10**9, END_NS, lambda x: x["labels"]["pod"] == pod))
        assert rate == pytest.approx(n / 600)


async def test_bytes_and_count_aggregations(loki, log_rows):
    pod = "checkout-5255lpzzwd-gqrld"
    r = await loki.get(f"{API}/query", params={
        "query": f'sum(bytes_over_time({{pod="{pod}"}} |= "ERROR" [1h]))', "time": END})
    hits = window(log_rows, END_NS - 3600 * 10**9, END_NS,
                  lambda x: x["labels"]["pod"] == pod and "ERROR" in x["line"])
    want = sum(len(x["line"].encode()) for x in hits)
    assert r.json()["data"]["result"][0]["value"][1] == str(want)
    r = await loki.get(f"{API}/query", params={
        "query": 'count(sum by (pod) (count_over_time({app="checkout"}[1h])))', "time": END})
    assert r.json()["data"]["result"][0]["value"][1] == "3"


async def test_no_match_gives_empty_result(loki, capture, shape):
    r = await query_range(loki, '{app="nope"}')
    assert shape(r.json()) == shape(capture("loki-3.8/query_range_logs_no_results.json")["body"])
    r = await query_range(loki, 'sum(count_over_time({app="nope"}[5m]))', step="60")
    assert shape(r.json()) == shape(capture("loki-3.8/query_range_metric_no_results.json")["body"])
    assert r.json()["data"]["result"] == []


@pytest.mark.parametrize("name,query,params", [
    ("query_range_bad_logql.json", '{app="checkout" |= "error"}', {}),
    ("query_range_empty_matcher.json", '{app=~".*"}', {}),
    ("query_range_too_many_points.json", 'count_over_time({app="checkout"}[1m])', {"step": "1"}),
    ("query_range_limit_6000.txt", '{app="checkout"}', {"limit": "6000"}),
    ("query_range_800h.txt", '{app="checkout"}', {"start": str(END_NS - 800 * 3600 * 10**9)}),
])
async def test_errors_match_captures(loki, capture, name, query, params):
    r = await query_range(loki, query, **params)
    assert r.status_code == 400
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    want = capture(f"loki-3.8/{name}")
    assert r.text == (want if isinstance(want, str) else want["body_text"])


async def test_instant_log_query_is_rejected(loki):
    r = await loki.get(f"{API}/query", params={"query": '{app="checkout"}', "time": END})
    assert r.status_code == 400
    assert r.text.startswith("log queries are not supported as an instant query type")


async def test_labels_values_and_series(loki, capture, shape):
    rng = {"start": str(START_NS), "end": str(END_NS)}
    r = await loki.get(f"{API}/labels", params=rng)
    assert shape(r.json()) == shape(capture("loki-3.8/labels.json")["body"])
    assert r.json()["data"] == ["app", "container", "namespace", "pod", "service_name"]
    r = await loki.get(f"{API}/label/app/values", params=rng)
    assert shape(r.json()) == shape(capture("loki-3.8/label_app_values.json")["body"])
    assert r.json()["data"] == ["cart", "cart-redis", "checkout", "frontend"]
    r = await loki.get(f"{API}/series", params={**rng, "match[]": '{app="checkout"}'})
    cap = capture("loki-3.8/series.json")["body"]
    assert r.json().keys() == cap.keys() and r.json()["status"] == cap["status"]
    assert all(isinstance(v, str) for s in r.json()["data"] for v in s.values())
    assert sorted(s["pod"] for s in r.json()["data"]) == [
        "checkout-5255lpzzwd-58tv8", "checkout-5255lpzzwd-7jcxn", "checkout-5255lpzzwd-gqrld"]
    old = {"start": "1700000000", "end": "1700003600"}
    assert (await loki.get(f"{API}/labels", params=old)).json() == {"status": "success"}
    assert (await loki.get(f"{API}/series", params={**old, "match[]": '{app="x"}'})).json() == {
        "status": "success", "data": []}


async def test_time_formats_are_equivalent(loki):
    q = '{pod="checkout-5255lpzzwd-7jcxn"} |= "ERROR"'
    lo, hi = END_NS - 1800 * 10**9, END_NS
    variants = [(str(lo), str(hi)), (str(lo // 10**9), str(hi // 10**9)),
                (f"{lo / 1e9:.3f}", f"{hi / 1e9:.3f}"),
                ("2026-11-20T09:30:00Z", "2026-11-20T10:00:00.000000000Z")]
    bodies = [(await query_range(loki, q, start=a, end=b, limit="500")).json()["data"]["result"]
              for a, b in variants]
    assert bodies[0] and all(b == bodies[0] for b in bodies)


async def test_post_form_and_default_range(loki):
    q = '{app="cart"} |= "error"'
    got = await loki.post(f"{API}/query_range", data={"query": q, "limit": "5000"})
    assert got.status_code == 200
    stamps = [ts for ts, _, _ in entries(got.json())]
    assert stamps and min(stamps) >= END_NS - 3600 * 10**9  # default start = end - 1h, end = clock
    same = await loki.get(f"{API}/query_range", params={"query": q, "limit": "5000"})
    assert same.json()["data"]["result"] == got.json()["data"]["result"]


async def test_json_parser_and_label_filter(loki, log_rows):
    q = '{app="cart"} | json | level="error" | caller=~"events/.*"'
    r = await query_range(loki, q, limit="5000")
    want = window(log_rows, START_NS - 1, END_NS - 1, lambda x: x["labels"]["app"] == "cart"
                  and '"level":"error"' in x["line"] and '"caller":"events/' in x["line"])
    got = entries(r.json())
    assert want and len(got) == len(want)
    assert all(labels["msg"] and labels["level"] == "error" for _, _, labels in got)
