"""Saturation and Holt-Winters detectors against a real Prometheus.

One Prometheus holds the shared OOM scenario (checkout's memory climbing to its
limit, latency up); another holds a small synthetic set written here: a PVC and
a node filesystem filling up, certificates about to expire, and resources that
are fine, so both what is reported and what is left out are checked.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from adapters.prometheus import PrometheusClient
from detectors.context import InvestigationContext
from detectors.holt_winters import HoltWintersDetector
from detectors.registry import all_detectors
from detectors.saturation import SaturationDetector
from sandbox import procs
from tests.conftest import SCENARIOS

pytestmark = pytest.mark.stack

END = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
BEFORE = END - timedelta(hours=2)  # the scenario's quiet morning
GiB = 1024**3
DAY = 86400


def _prometheus(work: Path, metrics: Path) -> procs.Process:
    try:
        procs.find_binary("prometheus")
        procs.find_binary("promtool")
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    procs.backfill(metrics, work / "data")
    return procs.start_prometheus(work, work / "data", None, None)


@pytest.fixture(scope="module")
def oom_url(tmp_path_factory) -> Iterator[str]:
    metrics = SCENARIOS / "shop-checkout-oom" / "metrics.om"
    if not metrics.is_file():
        pytest.skip(f"{metrics} not present")
    proc = _prometheus(tmp_path_factory.mktemp("oom"), metrics)
    yield proc.url
    proc.stop()


def synthetic_metrics(end: int) -> str:
    """Six hours at 1-minute steps of volumes, filesystems and certificates."""
    steps = range(end - 6 * 3600, end + 1, 60)
    fill = lambda a, b: lambda t: a + (b - a) * (t - steps[0]) / (end - steps[0])  # noqa: E731
    families = {
        "kubelet_volume_stats_capacity_bytes": [
            ('namespace="storage",persistentvolumeclaim="data-db-0"', lambda t: 10 * GiB),
            ('namespace="storage",persistentvolumeclaim="logs-0"', lambda t: 10 * GiB)],
        "kubelet_volume_stats_available_bytes": [
            ('namespace="storage",persistentvolumeclaim="data-db-0"', fill(4 * GiB, 1.5 * GiB)),
            ('namespace="storage",persistentvolumeclaim="logs-0"', lambda t: 8 * GiB)],
        "node_filesystem_size_bytes": [
            ('instance="node-a:9100",mountpoint="/",fstype="ext4"', lambda t: 100 * GiB),
            ('instance="node-a:9100",mountpoint="/run",fstype="tmpfs"', lambda t: 1 * GiB),
            ('instance="node-b:9100",mountpoint="/",fstype="ext4"', lambda t: 100 * GiB)],
        "node_filesystem_avail_bytes": [
            ('instance="node-a:9100",mountpoint="/",fstype="ext4"', fill(60 * GiB, 40 * GiB)),
            ('instance="node-a:9100",mountpoint="/run",fstype="tmpfs"', fill(0.9 * GiB, 0.01 * GiB)),
            ('instance="node-b:9100",mountpoint="/",fstype="ext4"', lambda t: 70 * GiB)],
        "probe_ssl_earliest_cert_expiry": [
            ('instance="https://shop.example.com"', lambda t: end + DAY)],
        "certmanager_certificate_expiration_timestamp_seconds": [
            ('namespace="storage",name="api-tls"', lambda t: end + 10 * DAY),
            ('namespace="storage",name="fresh-tls"', lambda t: end + 80 * DAY)],
    }
    lines = []
    for name, series in families.items():
        lines.append(f"# TYPE {name} gauge")
        for labels, value in series:
            lines += [f"{name}{{{labels}}} {value(t):.0f} {t}" for t in steps]
    return "\n".join(lines) + "\n# EOF\n"


@pytest.fixture(scope="module")
def synthetic_url(tmp_path_factory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("synthetic")
    metrics = work / "metrics.om"
    metrics.write_text(synthetic_metrics(int(END.timestamp())))
    proc = _prometheus(work, metrics)
    yield proc.url
    proc.stop()


async def run(detector, url: str, namespace: str | None, service: str | None = None,
              at: datetime = END):
    async with PrometheusClient(url, timeout=5) as client:
        ctx = InvestigationContext(namespace=namespace, service=service, at=at, prometheus=client)
        started = time.perf_counter()
        findings = await detector.detect(ctx)
        return findings, time.perf_counter() - started, ctx


def test_both_detectors_are_registered():
    names = all_detectors()
    assert names["saturation"] is SaturationDetector
    assert names["holt-winters"] is HoltWintersDetector


async def test_checkout_memory_heading_to_its_limit(oom_url):
    findings, _, ctx = await run(SaturationDetector(), oom_url, "shop", "checkout")
    [memory] = findings
    assert (memory.subject.kind, memory.subject.name) == ("Deployment", "checkout")
    assert memory.signal == "memory-near-limit" and memory.severity.value == "page"
    assert memory.facts["max_ratio"] > 0.95
    assert 0 < memory.facts["seconds_to_full"] < 3600
    assert len(memory.details) == 3 and "768.0 MiB" in memory.title
    assert any("predict_linear" in e.query for e in memory.evidence)
    assert ctx.source_failures == {}


async def test_nothing_saturated_before_the_incident(oom_url):
    findings, elapsed, _ = await run(SaturationDetector(), oom_url, "shop", "checkout", BEFORE)
    assert findings == [] and elapsed < 2.0


async def test_holt_winters_sees_checkout_latency_leave_its_expectation(oom_url):
    findings, _, _ = await run(HoltWintersDetector(), oom_url, "shop", "checkout")
    [latency] = findings
    assert latency.signal == "latency-up" and latency.subject.name == "checkout"
    assert latency.facts["factor"] > 4 and latency.facts["z"] > 10
    assert latency.severity.value == "warning"
    assert any(e.query.startswith("holt_winters(") for e in latency.evidence)


@pytest.mark.parametrize("at", [BEFORE, END - timedelta(hours=3), END - timedelta(hours=4)])
async def test_holt_winters_is_quiet_on_a_normal_morning_ramp(oom_url, at):
    findings, elapsed, _ = await run(HoltWintersDetector(), oom_url, "shop", "checkout", at)
    assert findings == [] and elapsed < 2.0


@pytest.mark.parametrize("detector", [SaturationDetector(), HoltWintersDetector()])
async def test_absent_metrics_mean_no_findings(oom_url, detector):
    findings, elapsed, ctx = await run(detector, oom_url, "nowhere", "nothing")
    assert findings == [] and elapsed < 2.0 and ctx.source_failures == {}


@pytest.mark.parametrize("detector", [SaturationDetector(), HoltWintersDetector()])
async def test_unreachable_prometheus_means_no_findings(detector):
    findings, elapsed, ctx = await run(detector, f"http://127.0.0.1:{procs.free_port()}", "shop",
                                       "checkout")
    assert findings == [] and elapsed < 2.0 and "prometheus" in ctx.source_failures


async def test_volume_filesystem_and_certificates(synthetic_url):
    findings, _, _ = await run(SaturationDetector(), synthetic_url, "storage")
    by_name = {f.subject.name: f for f in findings}
    assert set(by_name) == {"data-db-0", "node-a:9100", "https://shop.example.com", "api-tls"}

    pvc = by_name["data-db-0"]
    assert pvc.subject.kind == "PersistentVolumeClaim" and pvc.signal == "disk-filling"
    # 2.5 GiB used in 6 h, 1.5 GiB left: about 3.6 h to full
    assert pvc.facts["seconds_to_full"] == pytest.approx(3.6 * 3600, rel=0.05)

    node = by_name["node-a:9100"]
    assert node.subject.kind == "Node" and "filesystem /" in node.title
    assert node.facts["seconds_to_full"] == pytest.approx(12 * 3600, rel=0.05)  # 40 GiB at 20/6h
    assert node.severity.value == "warning"

    endpoint, cert = by_name["https://shop.example.com"], by_name["api-tls"]
    assert endpoint.signal == cert.signal == "cert-expiring"
    assert endpoint.severity.value == "page" and "expires in 1 d" in endpoint.title
    assert cert.severity.value == "warning" and cert.subject.namespace == "storage"
