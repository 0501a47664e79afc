"""Loading and time-shifting scenario folders (sandbox.scenario)."""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from sandbox.scenario import (
    load_scenario, materialize, page_of, parse_rfc3339, shift_rfc3339, shift_seconds,
)

END = "2026-03-01T10:00:00Z"
NOW = datetime(2030, 6, 15, 8, 30, 0, tzinfo=timezone.utc)
SHARED = Path("/work/shared/scenarios/shop-checkout-oom")

METRICS = """# HELP http_requests Total number of HTTP requests.
# TYPE http_requests counter
http_requests_total{namespace="ns",service="a b}",code="200"} 10 1772358000
http_requests_total{namespace="ns",service="a b}",code="200"} 12 1772359200
# HELP temp Temperature.
# TYPE temp gauge
temp 21.5 1772359199.250
temp{room="lab"} 1e3 1772359200.5
# EOF
"""


def _write(root: Path) -> Path:
    (root / "kube").mkdir(parents=True)
    (root / "scenario.yaml").write_text(
        f"name: tiny\nend: '{END}'\nnamespace: ns\ndescription: a page\n")
    (root / "truth.yaml").write_text("cause: none\nevidence: []\n")
    (root / "rules.yaml").write_text("groups: []\n")
    (root / "metrics.om").write_text(METRICS)
    logs = [{"ts": "2026-03-01T09:59:58.123456789Z",
             "labels": {"namespace": "ns", "pod": "p", "container": "c", "app": "a"},
             "line": '{"ts": "not-a-time", "msg": "inner ts untouched"}'},
            {"ts": "2026-03-01T10:59:59.5+01:00",
             "labels": {"namespace": "ns", "pod": "p", "container": "c", "app": "a"},
             "line": "plain"}]
    (root / "logs.jsonl").write_text("".join(json.dumps(x) + "\n" for x in logs))
    alerts = {"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "X"}, "annotations": {},
         "startsAt": "2026-03-01T09:41:02.516Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://p/graph?g0.expr=a&b", "fingerprint": "0123456789abcdef"}]}
    (root / "alerts.json").write_text(json.dumps(alerts))
    pods = {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [{
        "metadata": {"name": "p", "creationTimestamp": "2026-02-20T08:00:00Z",
                     "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-02-19T07:00:00Z"}},
        "status": {"startTime": "2026-02-20T08:00:00Z",
                   "conditions": [{"type": "Ready", "lastProbeTime": None,
                                   "lastTransitionTime": "2026-03-01T09:50:00Z"}],
                   "containerStatuses": [{
                       "state": {"running": {"startedAt": "2026-03-01T09:50:00Z"}},
                       "lastState": {"terminated": {"startedAt": "2026-02-20T08:00:05Z",
                                                    "finishedAt": "2026-03-01T09:49:58Z",
                                                    "reason": "OOMKilled"}}}]}}]}
    events = {"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": [
        {"reason": "BackOff", "firstTimestamp": "2026-03-01T09:40:00Z",
         "lastTimestamp": "2026-03-01T09:55:00Z", "eventTime": None,
         "metadata": {"creationTimestamp": "2026-03-01T09:40:00Z"}},
        {"reason": "Scheduled", "firstTimestamp": None, "lastTimestamp": None,
         "eventTime": "2026-03-01T09:45:00.662000Z",
         "series": {"count": 2, "lastObservedTime": "2026-03-01T09:46:00.123456Z"}}]}
    nodes = {"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": [
        {"status": {"conditions": [{"lastHeartbeatTime": "2026-03-01T09:59:47Z",
                                    "lastTransitionTime": "2026-01-01T00:00:00Z"}]},
         "metadata": {"deletionTimestamp": "2026-03-01T09:59:00Z", "name": "n"}}]}
    for name, obj in (("pods", pods), ("events", events), ("nodes", nodes)):
        (root / "kube" / f"{name}.json").write_text(json.dumps(obj))
    return root


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    return _write(tmp_path / "tiny")


def test_load_scenario_reads_metadata(tiny: Path) -> None:
    s = load_scenario(tiny)
    assert (s.name, s.namespace, s.description) == ("tiny", "ns", "a page")
    assert s.end == datetime(2026, 3, 1, 10, tzinfo=timezone.utc)
    assert s.path == tiny


@pytest.mark.parametrize("missing", ["scenario.yaml", "metrics.om", "alerts.json", "truth.yaml"])
def test_load_scenario_names_missing_file(tiny: Path, missing: str) -> None:
    (tiny / missing).unlink()
    with pytest.raises(ValueError, match=missing):
        load_scenario(tiny)


def test_load_scenario_names_missing_field(tiny: Path) -> None:
    (tiny / "scenario.yaml").write_text(f"name: tiny\nend: '{END}'\n")
    with pytest.raises(ValueError, match="namespace"):
        load_scenario(tiny)


def test_load_scenario_accepts_unquoted_end(tiny: Path) -> None:
    (tiny / "scenario.yaml").write_text("name: t\nend: 2026-03-01T10:00:00Z\nnamespace: ns\n")
    assert load_scenario(tiny).end == parse_rfc3339(END)


def test_shift_keeps_precision_and_zero_time() -> None:
    assert shift_rfc3339("2026-11-04T20:54:45Z", 60) == "2026-11-04T20:55:45Z"
    assert shift_rfc3339("2026-11-04T20:54:45.123456Z", 60) == "2026-11-04T20:55:45.123456Z"
    assert shift_rfc3339("2026-11-04T20:54:45.123456789Z", 1) == "2026-11-04T20:54:46.123456789Z"
    assert shift_rfc3339("0001-01-01T00:00:00Z", 999) == "0001-01-01T00:00:00Z"
    assert shift_rfc3339("2026-01-01T01:00:00+01:00", 0) == "2026-01-01T00:00:00Z"


def test_materialize_moves_every_timestamp_by_one_delta(tiny: Path, tmp_path: Path) -> None:
    s = load_scenario(tiny)
    out = materialize(s, tmp_path / "out", now=NOW, end_ago=90)
    delta = shift_seconds(s, NOW, 90)
    assert delta == int((NOW - timedelta(seconds=90) - s.end).total_seconds())
    d = timedelta(seconds=delta)

    def moved(old: str, new: str) -> None:
        assert parse_rfc3339(new) - parse_rfc3339(old) == d, (old, new)

    assert not (out / "truth.yaml").exists()
    meta = yaml.safe_load((out / "scenario.yaml").read_text())
    assert parse_rfc3339(meta["end"]) == NOW - timedelta(seconds=90)
    lines = (out / "metrics.om").read_text().splitlines()
    assert lines[:2] == METRICS.splitlines()[:2] and lines[-1] == "# EOF"
    samples = [ln for ln in lines if not ln.startswith("#")]
    olds = [ln for ln in METRICS.splitlines() if ln and not ln.startswith("#")]
    for old, new in zip(olds, samples):
        o_head, _, o_ts = old.rpartition(" ")
        n_head, _, n_ts = new.rpartition(" ")
        assert o_head == n_head
        assert float(n_ts) - float(o_ts) == pytest.approx(delta)
        assert ("." in n_ts) == ("." in o_ts)
        assert len(n_ts.partition(".")[2]) == len(o_ts.partition(".")[2])
    logs = [json.loads(x) for x in (out / "logs.jsonl").read_text().splitlines()]
    moved("2026-03-01T09:59:58.123456789Z", logs[0]["ts"])
    assert logs[0]["ts"].endswith(".123456789Z")
    assert json.loads(logs[0]["line"])["ts"] == "not-a-time"
    assert logs[1]["ts"].endswith("Z") and logs[1]["ts"].startswith("2030-")
    alert = json.loads((out / "alerts.json").read_text())["alerts"][0]
    moved("2026-03-01T09:41:02.516Z", alert["startsAt"])
    assert alert["startsAt"].endswith(".516Z")
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"
    pod = json.loads((out / "kube" / "pods.json").read_text())["items"][0]
    cs = pod["status"]["containerStatuses"][0]
    moved("2026-03-01T09:50:00Z", cs["state"]["running"]["startedAt"])
    moved("2026-03-01T09:49:58Z", cs["lastState"]["terminated"]["finishedAt"])
    moved("2026-02-20T08:00:00Z", pod["metadata"]["creationTimestamp"])
    moved("2026-02-20T08:00:00Z", pod["status"]["startTime"])
    restarted = pod["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
    moved("2026-02-19T07:00:00Z", restarted)
    assert pod["status"]["conditions"][0]["lastProbeTime"] is None
    ev = json.loads((out / "kube" / "events.json").read_text())["items"]
    moved("2026-03-01T09:40:00Z", ev[0]["firstTimestamp"])
    moved("2026-03-01T09:55:00Z", ev[0]["lastTimestamp"])
    assert ev[1]["firstTimestamp"] is None
    moved("2026-03-01T09:45:00.662000Z", ev[1]["eventTime"])
    assert ev[1]["eventTime"].endswith(".662000Z")
    moved("2026-03-01T09:46:00.123456Z", ev[1]["series"]["lastObservedTime"])
    node = json.loads((out / "kube" / "nodes.json").read_text())["items"][0]
    moved("2026-03-01T09:59:47Z", node["status"]["conditions"][0]["lastHeartbeatTime"])
    moved("2026-03-01T09:59:00Z", node["metadata"]["deletionTimestamp"])
    assert (out / "rules.yaml").read_text() == "groups: []\n"


def test_materialize_defaults_to_now_and_clears_stale_files(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "truth.yaml").write_text("cause: leaked\n")
    (tiny / "logs.jsonl").unlink()
    (out / "logs.jsonl").write_text("stale\n")
    before = datetime.now(timezone.utc)
    materialize(load_scenario(tiny), out)
    end = parse_rfc3339(yaml.safe_load((out / "scenario.yaml").read_text())["end"])
    assert before - timedelta(seconds=2) <= end <= datetime.now(timezone.utc)
    assert not (out / "truth.yaml").exists() and not (out / "logs.jsonl").exists()


def test_metrics_without_timestamp_are_rejected(tiny: Path, tmp_path: Path) -> None:
    (tiny / "metrics.om").write_text("# TYPE up gauge\nup 1\n# EOF\n")
    with pytest.raises(ValueError, match="timestamp"):
        materialize(load_scenario(tiny), tmp_path / "out", now=NOW)


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared scenarios not available")
def test_materialize_shared_scenario(tmp_path: Path) -> None:
    s = load_scenario(SHARED)
    started = time.perf_counter()
    out = materialize(s, tmp_path / "oom", now=NOW, end_ago=30)
    elapsed = time.perf_counter() - started
    assert elapsed < 6.0  # target is < 1.5 s on a normal machine; generous for CI noise
    delta = shift_seconds(s, NOW, 30)
    src_lines = (SHARED / "metrics.om").read_text().splitlines()
    new_lines = (out / "metrics.om").read_text().splitlines()
    assert len(src_lines) == len(new_lines)
    for old, new in zip(src_lines[2:5] + src_lines[-3:-1], new_lines[2:5] + new_lines[-3:-1]):
        assert int(new.rsplit(" ", 1)[1]) - int(old.rsplit(" ", 1)[1]) == delta
    newest = max(int(x.rsplit(" ", 1)[1]) for x in new_lines if not x.startswith("#"))
    assert newest <= (NOW - timedelta(seconds=30)).timestamp()
    assert sorted(p.name for p in (out / "kube").iterdir()) == sorted(
        p.name for p in (SHARED / "kube").iterdir())
    assert not (out / "truth.yaml").exists()
    shutil.rmtree(out)


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared scenarios not available")
def test_page_of_is_the_first_alert_and_its_group() -> None:
    alert, group = page_of(SHARED)
    body = json.loads((SHARED / "alerts.json").read_text())
    assert alert == body["alerts"][0] and alert["labels"]["alertname"]
    assert group == body["groupLabels"] and set(group) <= set(alert["labels"])
