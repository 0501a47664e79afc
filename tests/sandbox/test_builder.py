"""The scenario builder (sandbox.builder): format, consistency and incident facts."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from sandbox.builder import build_demo_scenario, build_scenario, default_spec, main
from sandbox.builder_alerts import fingerprint
from sandbox.builder_spec import with_incident
from sandbox.scenario import iter_samples, load_scenario, materialize, parse_rfc3339

PROMTOOL = shutil.which("promtool")
LABELS = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_scenario(tmp_path_factory.mktemp("b") / "demo")


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_scenario(default_spec("none"), tmp_path_factory.mktemp("b") / "quiet")


Parsed = dict[str, tuple[dict[str, str], list[tuple[float, float]]]]


@functools.lru_cache(maxsize=8)
def _parse(path: Path) -> dict[str, Parsed]:
    """metric name -> series key -> (labels, samples); parsed once per file."""
    out: dict[str, Parsed] = {}
    for key, value, ts in iter_samples(path / "metrics.om"):
        by_key = out.setdefault(key.split("{", 1)[0], {})
        if key not in by_key:
            by_key[key] = (dict(LABELS.findall(key)), [])
        by_key[key][1].append((ts, value))
    return out


def _series(path: Path, metric: str) -> Parsed:
    return _parse(path).get(metric, {})


def _increase(samples: list[tuple[float, float]], since: float) -> float:
    """Counter increase over the samples after ``since`` (resets count from zero)."""
    pts = [v for t, v in samples if t >= since]
    total = 0.0
    for prev, cur in zip(pts, pts[1:]):
        total += cur - prev if cur >= prev else cur
    return total


def _ratio_5xx(path: Path, service: str, window: float) -> float:
    end = load_scenario(path).end.timestamp()
    bad = total = 0.0
    for labels, samples in _series(path, "http_requests_total").values():
        if labels["service"] != service:
            continue
        inc = _increase(samples, end - window)
        total += inc
        bad += inc if labels["code"].startswith("5") else 0.0
    return bad / total


def _kube(path: Path, name: str) -> dict:
    return json.loads((path / "kube" / f"{name}.json").read_text())


def test_output_loads_and_has_layout(demo: Path) -> None:
    s = load_scenario(demo)
    assert s.namespace == "store" and s.name == "store-checkout-oom-killed"
    assert s.end == datetime(2026, 1, 5, 12, tzinfo=timezone.utc)
    assert "OOM" not in s.description and "memory" not in s.description.lower()
    for f in ("metrics.om", "logs.jsonl", "alerts.json", "rules.yaml", "truth.yaml"):
        assert (demo / f).is_file()
    size = (demo / "metrics.om").stat().st_size
    assert 1_500_000 < size < 5_000_000


def test_metrics_families_and_labels_match_the_shared_shape(demo: Path) -> None:
    text = (demo / "metrics.om").read_text()
    assert text.endswith("# EOF\n")
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    assert types["http_requests"] == "counter"
    assert types["http_request_duration_seconds"] == "histogram"
    assert types["kube_pod_container_status_restarts"] == "counter"
    expected = {
        "http_requests_total": {"namespace", "service", "pod", "code", "method"},
        "http_request_duration_seconds_bucket": {"namespace", "service", "le"},
        "container_memory_working_set_bytes": {"namespace", "pod", "container"},
        "container_cpu_cfs_throttled_periods_total": {"namespace", "pod", "container"},
        "kube_pod_info": {"namespace", "pod", "node", "created_by_kind", "created_by_name"},
        "kube_pod_status_ready": {"namespace", "pod", "condition"},
        "kube_pod_container_resource_limits": {"namespace", "pod", "container", "resource",
                                               "unit"},
        "kube_pod_container_status_last_terminated_reason": {"namespace", "pod", "container",
                                                             "reason"},
        "kube_deployment_status_replicas_available": {"namespace", "deployment"},
        "kube_statefulset_status_replicas_ready": {"namespace", "statefulset"},
        "kube_node_status_condition": {"node", "condition", "status"},
        "kube_node_status_allocatable": {"node", "resource", "unit"},
        "up": {"job", "instance", "node"},
    }
    for metric, names in expected.items():
        found = _series(demo, metric)
        assert found, metric
        assert all(set(lab) == names for lab, _ in found.values()), metric
    end = load_scenario(demo).end.timestamp()
    assert max(ts for _, _, ts in iter_samples(demo / "metrics.om")) <= end


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed")
def test_promtool_backfills_metrics_and_checks_rules(demo: Path, quiet: Path,
                                                     tmp_path: Path) -> None:
    for folder in (demo, quiet):
        done = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics",
                               str(folder / "metrics.om"), str(tmp_path / folder.name)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        rules = subprocess.run([PROMTOOL, "check", "rules", str(folder / "rules.yaml")],
                               capture_output=True, text=True, timeout=30)
        assert rules.returncode == 0, rules.stdout + rules.stderr


def test_kube_lists_have_the_right_kinds(demo: Path) -> None:
    kinds = {"pods": ("v1", "PodList", "Pod"), "events": ("v1", "EventList", "Event"),
             "nodes": ("v1", "NodeList", "Node"),
             "deployments": ("apps/v1", "DeploymentList", "Deployment"),
             "replicasets": ("apps/v1", "ReplicaSetList", "ReplicaSet"),
             "statefulsets": ("apps/v1", "StatefulSetList", "StatefulSet")}
    for name, (api, kind, item) in kinds.items():
        obj = _kube(demo, name)
        assert (obj["apiVersion"], obj["kind"]) == (api, kind)
        assert obj["items"] and all(i["kind"] == item for i in obj["items"])
        assert "resourceVersion" in obj["metadata"]
    pods = _kube(demo, "pods")["items"]
    rs_names = {r["metadata"]["name"] for r in _kube(demo, "replicasets")["items"]}
    for p in pods:
        owner = p["metadata"]["ownerReferences"][0]
        assert owner["kind"] in ("ReplicaSet", "StatefulSet")
        if owner["kind"] == "ReplicaSet":
            assert owner["name"] in rs_names
    assert {n["metadata"]["name"] for n in _kube(demo, "nodes")["items"]} >= {
        p["spec"]["nodeName"] for p in pods}


def test_alerts_json_is_an_alertmanager_v4_body(demo: Path) -> None:
    body = json.loads((demo / "alerts.json").read_text())
    assert list(body) == ["receiver", "status", "alerts", "groupLabels", "commonLabels",
                          "commonAnnotations", "externalURL", "version", "groupKey",
                          "truncatedAlerts"]
    assert body["version"] == "4" and body["status"] == "firing"
    assert body["truncatedAlerts"] == 0
    (alert,) = body["alerts"]
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"
    assert re.fullmatch(r"[0-9a-f]{16}", alert["fingerprint"])
    assert alert["fingerprint"] == fingerprint(alert["labels"])
    labels = alert["labels"]
    assert labels["alertname"] == "ErrorBudgetBurn" and labels["service"] == "checkout"
    assert {"cluster", "prometheus", "namespace", "severity"} <= set(labels)
    assert body["groupLabels"] == {"alertname": "ErrorBudgetBurn", "service": "checkout"}
    assert body["commonLabels"] == labels
    assert body["groupKey"] == (
        '{}/{severity="page"}:{alertname="ErrorBudgetBurn", service="checkout"}')
    assert "g0.expr=" in alert["generatorURL"] and "{{" not in json.dumps(alert["annotations"])
    starts = parse_rfc3339(alert["startsAt"])
    assert starts <= load_scenario(demo).end
    assert re.fullmatch(r".*T\d\d:\d\d:\d\d\.\d{3}Z", alert["startsAt"])
    assert "\\u0026" in (demo / "alerts.json").read_text()  # Go-style escaping of '&'
    rule = yaml.safe_load((demo / "rules.yaml").read_text())["groups"][0]["rules"][0]
    assert rule["alert"] == "ErrorBudgetBurn" and "service=\"checkout\"" in rule["expr"]


def test_oom_facts_are_present(demo: Path) -> None:
    pods = [p for p in _kube(demo, "pods")["items"] if p["metadata"]["name"].startswith("checkout-")
            and "checkout-db" not in p["metadata"]["name"]]
    assert len(pods) == 3
    for p in pods:
        cs = p["status"]["containerStatuses"][0]
        term = cs["lastState"]["terminated"]
        assert (term["reason"], term["exitCode"]) == ("OOMKilled", 137)
        assert cs["restartCount"] > 0
        assert parse_rfc3339(term["startedAt"]) < parse_rfc3339(term["finishedAt"])
        assert p["spec"]["containers"][0]["resources"]["limits"]["memory"] == "512Mi"
    restarts = _series(demo, "kube_pod_container_status_restarts_total")
    assert sum(s[-1][1] for lab, s in restarts.values() if lab["pod"].startswith("checkout-")) >= 3
    reasons = _series(demo, "kube_pod_container_status_last_terminated_reason")
    assert {lab["reason"] for lab, _ in reasons.values()} == {"OOMKilled"}
    limit = 512 * 1024 * 1024
    mem = _series(demo, "container_memory_working_set_bytes")
    peaks = [max(v for _, v in s) for lab, s in mem.values() if lab["container"] == "checkout"]
    assert all(pk > 0.9 * limit for pk in peaks) and all(pk <= limit for pk in peaks)
    reasons_ev = {e["reason"] for e in _kube(demo, "events")["items"]}
    assert {"OOMKilling", "BackOff", "Started"} <= reasons_ev
    truth = yaml.safe_load((demo / "truth.yaml").read_text())
    assert truth["cause"] == "oom-killed"
    assert truth["culprit"] == {"namespace": "store", "kind": "Deployment", "name": "checkout"}


def test_burn_rule_would_fire_for_the_paged_service(demo: Path) -> None:
    assert _ratio_5xx(demo, "checkout", 300) > 0.0144
    assert _ratio_5xx(demo, "checkout", 3600) > 0.0144
    assert 0 < _ratio_5xx(demo, "web", 3600)  # the edge service shows the symptom
    assert _ratio_5xx(demo, "inventory", 3600) < 0.0144


def test_logs_are_sorted_labelled_and_tell_the_story(demo: Path) -> None:
    s = load_scenario(demo)
    records = [json.loads(x) for x in (demo / "logs.jsonl").read_text().splitlines()]
    stamps = [x["ts"] for x in records]
    assert stamps == sorted(stamps)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", t) for t in stamps)
    assert parse_rfc3339(stamps[-1]) <= s.end
    assert {tuple(x["labels"]) for x in records} == {("namespace", "pod", "container", "app")}
    apps = {x["labels"]["app"] for x in records}
    assert apps == {"web", "checkout", "inventory", "checkout-db"}
    lines = [x["line"] for x in records]
    assert any("Started CheckoutApplication" in ln for ln in lines)
    assert any("ERROR 1 --- [checkout]" in ln for ln in lines)
    assert any('"level":50' in ln and "checkout" in ln for ln in lines)


def test_builder_is_deterministic(demo: Path, tmp_path: Path) -> None:
    again = build_demo_scenario(tmp_path / "again")
    for name in ("metrics.om", "logs.jsonl", "alerts.json", "kube/pods.json", "kube/events.json"):
        assert hashlib.sha256((demo / name).read_bytes()).digest() == hashlib.sha256(
            (again / name).read_bytes()).digest(), name


def test_quiet_scenario_is_healthy_with_a_noise_page(quiet: Path) -> None:
    truth = yaml.safe_load((quiet / "truth.yaml").read_text())
    assert truth["cause"] == "none" and "culprit" not in truth
    body = json.loads((quiet / "alerts.json").read_text())
    assert body["alerts"][0]["labels"]["alertname"] == "HighRequestLatency"
    pods = _kube(quiet, "pods")["items"]
    assert all(p["status"]["containerStatuses"][0]["restartCount"] == 0 for p in pods)
    assert not _series(quiet, "kube_pod_container_status_last_terminated_reason")
    assert _ratio_5xx(quiet, "checkout", 3600) < 0.0144


def test_cli_and_other_seeds(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    assert main(["--kind", "oom-killed", "--out", str(out), "--seed", "11",
                 "--end", "2026-02-01T03:00:00Z"]) == 0
    s = load_scenario(out)
    assert s.end == datetime(2026, 2, 1, 3, tzinfo=timezone.utc)
    assert _ratio_5xx(out, "checkout", 300) > 0.0144


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    spec = with_incident(default_spec("oom-killed"), kind="meteor-strike")
    with pytest.raises(NotImplementedError, match="meteor-strike"):
        build_scenario(spec, tmp_path / "x")


def test_built_scenario_materializes(demo: Path, tmp_path: Path) -> None:
    now = datetime(2031, 1, 1, tzinfo=timezone.utc)
    out = materialize(load_scenario(demo), tmp_path / "live", now=now)
    assert not (out / "truth.yaml").exists()
    alert = json.loads((out / "alerts.json").read_text())["alerts"][0]
    assert alert["startsAt"].startswith("2030-12-31T2")
