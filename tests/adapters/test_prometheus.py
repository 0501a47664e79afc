"""The Prometheus adapter against a real Prometheus holding the OOM scenario's metrics."""

from __future__ import annotations

from datetime import timedelta
from typing import Iterator

import pytest

from adapters.envelope import Status
from adapters.prometheus import PrometheusClient, Sample, Series
from sandbox import procs
from tests.adapters.conftest import END, SCENARIO

pytestmark = pytest.mark.stack
HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory) -> Iterator[str]:
    if not (SCENARIO / "metrics.om").is_file():
        pytest.skip(f"{SCENARIO} not present")
    try:
        procs.find_binary("prometheus")
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    work = tmp_path_factory.mktemp("prom")
    procs.backfill(SCENARIO / "metrics.om", work / "data")
    proc = procs.start_prometheus(work, work / "data", SCENARIO / "rules.yaml", None)
    yield proc.url
    proc.stop()


@pytest.fixture
async def prom(prometheus_url) -> PrometheusClient:
    async with PrometheusClient(prometheus_url, timeout=5) as client:
        yield client


async def test_instant_and_range(prom):
    expr = 'sum by (service) (rate(http_requests_total{namespace="shop",code=~"5.."}[5m]))'
    instant = await prom.instant(expr, END)
    assert instant.status is Status.OK and instant.at == END
    assert all(isinstance(s, Sample) for s in instant.data)
    assert any(s.labels.get("service") == "checkout" and s.value > 0 for s in instant.data)
    assert instant.link.startswith(prom.link_url + "/graph?")
    ranged = await prom.range(expr, END - HOUR, END, 60)
    assert ranged.status is Status.OK and all(isinstance(s, Series) for s in ranged.data)
    assert max(len(s.points) for s in ranged.data) == 61


async def test_long_query_goes_out_as_post_and_still_answers(prom):
    terms = " or ".join(f'up{{job="kubelet",instance="nope-{i}"}}' for i in range(120))
    expr = f'({terms}) or vector(1)'
    assert len(expr) > 2000
    result = await prom.instant(expr, END)
    assert result.status is Status.OK and result.data[0].value == 1


async def test_series_labels_and_values(prom):
    series = await prom.series(['kube_pod_info{namespace="shop"}'], END - HOUR, END)
    assert series.status is Status.OK and series.query.startswith("GET /api/v1/series?match")
    assert series.data and all(s["__name__"] == "kube_pod_info" for s in series.data)
    labels = await prom.labels(start=END - HOUR, end=END)
    assert labels.status is Status.OK and {"__name__", "namespace", "pod"} <= set(labels.data)
    values = await prom.label_values("namespace", start=END - HOUR, end=END)
    assert values.status is Status.OK and "shop" in values.data
    only = await prom.label_values("service", ['http_requests_total{namespace="shop"}'],
                                   END - HOUR, END)
    assert "checkout" in only.data


async def test_metadata_rules_and_alerts(prom):
    meta = await prom.metadata()
    # backfilled blocks carry no scrape metadata: an answer, but an empty one
    assert meta.status in (Status.OK, Status.EMPTY) and meta.error is None
    rules = await prom.rules()
    assert rules.status is Status.OK
    names = {r["name"] for g in rules.data for r in g["rules"]}
    assert "ErrorBudgetBurn" in names
    alerting = await prom.rules("alert")
    assert all(r["type"] == "alerting" for g in alerting.data for r in g["rules"])
    alerts = await prom.alerts()
    assert alerts.status in (Status.OK, Status.EMPTY) and alerts.error is None


async def test_bad_promql_keeps_the_servers_message(prom):
    result = await prom.instant("sum(rate(http_requests_total[5m]", END)
    assert result.status is Status.ERROR and "parse error" in result.error
