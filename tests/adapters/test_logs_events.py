"""Pod-log fallback (no Loki) and Kubernetes events merged from the API and Loki."""

from __future__ import annotations

import json
from datetime import timedelta

from adapters import events as ev
from adapters.envelope import Status
from adapters.event_sources import EventReader
from adapters.loki import LogLine, LokiClient
from adapters.logs import LogReader, logql
from sandbox.loki import make_loki_app
from tests.adapters.conftest import END, RESTARTED_POD, event_exporter_lines

HOUR = timedelta(hours=1)


async def test_fallback_serves_the_same_envelope_as_loki(kube, loki):
    start = END - 30 * timedelta(minutes=1)
    args = dict(labels={"app": "checkout"}, contains="Checkout failed", limit=200)
    from_loki = await LogReader(loki, None).logs("shop", start, END, **args)
    from_api = await LogReader(None, kube).logs("shop", start, END, **args)
    for result in (from_loki, from_api):
        assert result.status is Status.OK and result.range.start == start
        assert result.data and all(isinstance(ln, LogLine) for ln in result.data)
        assert all("Checkout failed" in ln.line for ln in result.data)
        times = [ln.ts_ns for ln in result.data]
        assert times == sorted(times, reverse=True)
    assert from_loki.source == "loki" and from_loki.query == logql("shop", {"app": "checkout"},
                                                                  None, "Checkout failed")
    assert from_api.source == "kubernetes" and "pods/log" in from_api.query
    # the API serves the same lines the log store holds for those pods and window
    assert {(ln.ts_ns, ln.line) for ln in from_api.data} <= {
        (ln.ts_ns, ln.line) for ln in (await LogReader(loki, None).logs(
            "shop", start, END, labels={"app": "checkout"}, limit=5000)).data}


async def test_fallback_reads_the_previous_container_of_a_restarted_pod(kube):
    killed_at = END - timedelta(minutes=16, seconds=22)  # 09:43:38, the OOM kill
    result = await LogReader(None, kube).logs("shop", killed_at - timedelta(minutes=2),
                                              killed_at + timedelta(minutes=2),
                                              pod=RESTARTED_POD, direction="forward")
    assert result.status is Status.OK
    before = [ln for ln in result.data if ln.time <= killed_at]
    after = [ln for ln in result.data if ln.time > killed_at]
    assert before and after  # last words of the killed container and the new one's start


async def test_fallback_failure_is_an_error_envelope(kube_dir_without_logs, serve):
    from adapters.kube import KubeClient
    from adapters.kube_config import KubeTarget
    from sandbox.kube import make_kube_app

    url = await serve(make_kube_app(kube_dir_without_logs))
    reader = LogReader(None, KubeClient.connect(KubeTarget(url=url)))
    result = await reader.logs("shop", END - HOUR, END, pod=RESTARTED_POD)
    assert result.status is Status.ERROR and "kubelet" in result.error
    assert result.warnings and "kubelet" in result.warnings[0]
    nothing = await LogReader(None, None).logs("shop", END - HOUR, END)
    assert nothing.status is Status.ERROR


def test_parsers_read_api_json_exporter_json_and_logfmt(scenario):
    items = json.loads((scenario / "kube" / "events.json").read_text())["items"]
    api = [ev.from_api(i) for i in items]
    assert all(e.sources == ["api"] and e.reason and e.last for e in api)
    line = json.dumps(items[0])
    again = ev.from_log_line(line, {"job": "kubernetes-event-exporter"}, 1)
    assert again.key == api[0].key and again.sources == ["loki"]
    alloy = ev.from_log_line('name=web-1 kind=Pod type=Warning reason=Unhealthy '
                             'msg="Readiness probe failed: 503"', {"namespace": "shop"},
                             1_795_000_000 * 10**9)
    assert (alloy.namespace, alloy.object, alloy.reason) == ("shop", "Pod/web-1", "Unhealthy")
    assert alloy.message == "Readiness probe failed: 503"
    assert ev.from_log_line("level=info msg=\"watching events\"", {}, 1) is None
    assert ev.from_log_line("{not json", {}, 1) is None


def test_merge_deduplicates_and_keeps_the_widest_span():
    base = dict(namespace="shop", kind="Pod", name="p", reason="BackOff", message="m")
    api = ev.KubeEvent(**base, count=7, first=END - HOUR, last=END, sources=["api"])
    bump1 = ev.KubeEvent(**base, count=3, first=END - 2 * HOUR, last=END - HOUR,
                         sources=["loki"])
    other = ev.KubeEvent(**{**base, "reason": "Killing"}, sources=["loki"], last=END)
    merged = ev.merge([api, bump1, other])
    assert len(merged) == 2
    backoff = next(e for e in merged if e.reason == "BackOff")
    assert backoff.count == 7 and backoff.first == END - 2 * HOUR and backoff.last == END
    assert backoff.sources == ["api", "loki"]


async def test_events_from_api_and_loki_merge_into_a_six_hour_baseline(
        scenario, kube, tmp_path, serve):
    rows = [json.loads(x) for x in (scenario / "logs.jsonl").read_text().splitlines()]
    rows += event_exporter_lines(scenario)
    logs = tmp_path / "logs.jsonl"
    logs.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    url = await serve(make_loki_app(logs, clock=END.timestamp))
    async with LokiClient(url) as loki:
        api_only = await EventReader(kube, None).events("shop", END - 6 * HOUR, END)
        merged = await EventReader(kube, loki).events("shop", END - 6 * HOUR, END)
        loki_only = await EventReader(None, loki).events("shop", END - 6 * HOUR, END)
    assert api_only.status is merged.status is loki_only.status is Status.OK
    assert "job=~" in merged.query and "/api/v1/namespaces/shop/events" in merged.query
    api_keys = {e.key for e in api_only.data}
    # each API event appears once, seen in both places; older ones come only from Loki
    assert api_keys <= {e.key for e in merged.data}
    assert len(merged.data) == len({e.key for e in merged.data})
    both = [e for e in merged.data if e.key in api_keys]
    assert all(e.sources == ["api", "loki"] for e in both)
    old = [e for e in merged.data if e.name == "cart-7f9c-old"]
    assert len(old) == 1 and old[0].count == 5 and old[0].first <= END - 5 * HOUR
    assert min(e.first for e in merged.data) < min(e.first for e in api_only.data)


async def test_events_say_which_source_failed(kube):
    dead = LokiClient("http://127.0.0.1:9", timeout=1)
    result = await EventReader(kube, dead).events("shop", END - HOUR, END)
    await dead.aclose()
    assert result.status is Status.OK
    assert any(w.startswith("events from loki unavailable: error") for w in result.warnings)
