"""Deep links a human can open: Prometheus graph, Grafana Explore, Alertmanager silence."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

from adapters import links
from tests.adapters.conftest import END


def test_prometheus_graph_link_is_unchanged():
    url = links.prometheus_graph("http://prom:9090/", "up", end=END, range_seconds=3600)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("http://prom:9090/graph?")
    assert query["g0.expr"] == ["up"] and query["g0.range_input"] == ["1h"]
    assert query["g0.end_input"] == ["2026-11-20 10:00:00"]


def test_grafana_explore_pane_for_prometheus_and_loki():
    start = END - timedelta(hours=1)
    for kind, expr in (("prometheus", 'rate(http_requests_total{code=~"5.."}[5m])'),
                       ("loki", '{app="checkout"} |= "OOM"')):
        url = links.grafana_explore("https://grafana.example/", "uid-" + kind, kind, expr,
                                    start=start, end=END, org_id=3)
        parts = urlsplit(url)
        assert parts.path == "/explore"
        query = parse_qs(parts.query)
        assert query["schemaVersion"] == ["1"] and query["orgId"] == ["3"]
        (pane,) = json.loads(query["panes"][0]).values()
        assert pane["datasource"] == "uid-" + kind
        (q,) = pane["queries"]
        assert q["expr"] == expr and q["datasource"] == {"type": kind, "uid": "uid-" + kind}
        assert pane["range"] == {"from": str(int(start.timestamp() * 1000)),
                                 "to": str(int(END.timestamp() * 1000))}
        assert " " not in url and '"' not in url


def test_alertmanager_silence_prefilled_from_labels():
    url = links.alertmanager_silence("http://am:9093/", {
        "alertname": "ErrorBudgetBurn", "namespace": "shop", "note": 'say "hi"', "empty": ""})
    base, fragment = url.split("#", 1)
    assert base == "http://am:9093/"
    path, _, query = fragment.partition("?")
    assert path == "/silences/new"
    assert unquote(query) == ('filter={alertname="ErrorBudgetBurn",namespace="shop",'
                              'note="say \\"hi\\""}')
