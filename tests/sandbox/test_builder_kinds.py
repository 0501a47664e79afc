"""Every incident kind of the scenario builder: it builds fast and small, the files load
in promtool, the page fires, the kube lists are well-formed, and the kind's own facts
(the things an engineer would look for) are in the data."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.builder import build_scenario
from sandbox.builder_spec import INCIDENT_KINDS
from sandbox.builder_topologies import topology_spec
from sandbox.scenario import parse_rfc3339
from tests.sandbox.test_builder_support import Built

PROMTOOL = shutil.which("promtool") or ("/usr/bin/promtool"
                                        if Path("/usr/bin/promtool").exists() else None)
TOPOLOGY = {kind: ("store", "bank", "media")[i % 3] for i, kind in enumerate(INCIDENT_KINDS)}
KUBE = {"pods": ("v1", "PodList", "Pod"), "events": ("v1", "EventList", "Event"),
        "nodes": ("v1", "NodeList", "Node"),
        "deployments": ("apps/v1", "DeploymentList", "Deployment"),
        "replicasets": ("apps/v1", "ReplicaSetList", "ReplicaSet"),
        "statefulsets": ("apps/v1", "StatefulSetList", "StatefulSet"),
        "horizontalpodautoscalers": ("autoscaling/v2", "HorizontalPodAutoscalerList",
                                     "HorizontalPodAutoscaler"),
        "persistentvolumeclaims": ("v1", "PersistentVolumeClaimList", "PersistentVolumeClaim"),
        "jobs": ("batch/v1", "JobList", "Job"), "cronjobs": ("batch/v1", "CronJobList", "CronJob")}
PAGE = {"bad-deploy": "ErrorBudgetBurn", "oom-killed": "ErrorBudgetBurn",
        "crashloop-config": "KubePodCrashLooping", "image-pull": "KubeDeploymentRolloutStuck",
        "scheduling-capacity": "KubeDeploymentReplicasMismatch", "node-failure": "ErrorBudgetBurn",
        "dependency-down": "ErrorBudgetBurn", "cpu-throttling": "HighRequestLatency",
        "disk-full": "ErrorBudgetBurn", "traffic-surge": "HighRequestLatency",
        "cert-expiry": "ErrorBudgetBurn", "none": "HighRequestLatency"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    root = tmp_path_factory.mktemp("kinds")
    out = {}
    for kind in INCIDENT_KINDS:
        t0 = time.perf_counter()
        path = build_scenario(topology_spec(TOPOLOGY[kind], kind, seed=77), root / kind)
        out[kind] = Built(path, time.perf_counter() - t0)
    return out


def test_every_kind_builds_fast_and_small(built: dict[str, Built]) -> None:
    for kind, b in built.items():
        assert b.seconds < 3.0, kind
        assert (b.path / "metrics.om").stat().st_size < 5_000_000, kind
        assert b.truth["cause"] == kind
        assert b.truth["evidence"] and all(isinstance(w, str) for w in b.truth["evidence"])
        meta = yaml.safe_load((b.path / "scenario.yaml").read_text())
        assert kind not in meta["description"]  # the description never names the cause


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed")
def test_promtool_loads_metrics_and_rules(built: dict[str, Built], tmp_path: Path) -> None:
    assert PROMTOOL is not None
    procs = [(kind, subprocess.Popen(
        [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", str(b.path / "metrics.om"),
         str(tmp_path / kind)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        for kind, b in built.items()]
    for kind, proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"{kind}: {err}"
    for kind, b in built.items():
        done = subprocess.run([PROMTOOL, "check", "rules", str(b.path / "rules.yaml")],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, f"{kind}: {done.stdout}{done.stderr}"


def test_the_page_fires_from_the_rule(built: dict[str, Built]) -> None:
    for kind, b in built.items():
        assert b.alerts, kind
        alert = b.alerts[0]
        assert alert["labels"]["alertname"] == PAGE[kind], kind
        rule = yaml.safe_load((b.path / "rules.yaml").read_text())["groups"][0]["rules"][0]
        assert rule["alert"] == PAGE[kind]
        starts = parse_rfc3339(alert["startsAt"]).timestamp()
        assert b.end - 3 * 3600 < starts <= b.end, kind


def test_kube_lists_have_the_right_kinds(built: dict[str, Built]) -> None:
    for kind, b in built.items():
        for path in (b.path / "kube").glob("*.json"):
            api, list_kind, item = KUBE[path.stem]
            obj = json.loads(path.read_text())
            assert (obj["apiVersion"], obj["kind"]) == (api, list_kind), (kind, path.stem)
            assert all(i["kind"] == item for i in obj["items"]), (kind, path.stem)
        nodes = {n["metadata"]["name"] for n in b.items("nodes")}
        assert all(p["spec"].get("nodeName", next(iter(nodes))) in nodes
                   for p in b.items("pods"))


def _newest(rs: list[dict[str, Any]], app: str) -> list[dict[str, Any]]:
    mine = [r for r in rs if r["metadata"]["labels"]["app"] == app]
    return sorted(mine, key=lambda r: int(r["metadata"]["annotations"][
        "deployment.kubernetes.io/revision"]))


def _waiting(b: Built) -> set[str]:
    return {cs["state"]["waiting"]["reason"] for p in b.items("pods")
            for cs in p["status"].get("containerStatuses", []) if "waiting" in cs["state"]}


def _culprit(b: Built) -> str:
    return str(b.truth["culprit"]["name"])


def test_bad_deploy_facts(built: dict[str, Built]) -> None:
    b = built["bad-deploy"]
    old, new = _newest(b.items("replicasets"), _culprit(b))[-2:]
    image = new["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image != old["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith(":" + b.truth["evidence"][0])
    assert parse_rfc3339(new["metadata"]["creationTimestamp"]).timestamp() > b.end - 3600
    assert new["spec"]["replicas"] > 0 and old["spec"]["replicas"] == 0
    rev = new["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
    dep = next(d for d in b.items("deployments") if d["metadata"]["name"] == _culprit(b))
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == rev
    new_hash = new["metadata"]["labels"]["pod-template-hash"]
    signature = b.truth["evidence"][1]
    pods = {x["labels"]["pod"] for x in b.logs() if signature in x["line"]}
    assert pods and all(new_hash in p for p in pods)  # only the new version logs it


def test_crashloop_config_facts(built: dict[str, Built]) -> None:
    b = built["crashloop-config"]
    assert "CrashLoopBackOff" in _waiting(b)
    pod = next(p for p in b.items("pods") if p["status"]["containerStatuses"][0]
               ["restartCount"] > 2)
    term = pod["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert (term["reason"], term["exitCode"]) == ("Error", 1)
    assert any(e["reason"] == "BackOff" for e in b.items("events"))
    assert b.last("kube_pod_container_status_waiting_reason", reason="CrashLoopBackOff")
    assert any(b.truth["evidence"][1] in x["line"] for x in b.logs())
    old, new = _newest(b.items("replicasets"), _culprit(b))[-2:]
    spec = new["spec"]["template"]["spec"]["containers"][0]
    assert spec["image"] == old["spec"]["template"]["spec"]["containers"][0]["image"]
    assert spec["envFrom"][0]["configMapRef"]["name"]


def test_image_pull_facts(built: dict[str, Built]) -> None:
    b = built["image-pull"]
    assert _waiting(b) & {"ImagePullBackOff", "ErrImagePull"}
    assert any(p["status"]["phase"] == "Pending" for p in b.items("pods"))
    failed = [e for e in b.items("events") if e["reason"] == "Failed"]
    assert any(b.truth["evidence"][1] in e["message"] for e in failed)
    dep = next(d for d in b.items("deployments") if d["metadata"]["name"] == _culprit(b))
    cond = {c["type"]: c for c in dep["status"]["conditions"]}
    assert cond["Progressing"]["reason"] == "ProgressDeadlineExceeded"
    assert b.last("kube_deployment_status_replicas_unavailable", deployment=_culprit(b)) == [1.0]


def test_scheduling_capacity_facts(built: dict[str, Built]) -> None:
    b = built["scheduling-capacity"]
    pending = [p for p in b.items("pods") if p["status"]["phase"] == "Pending"]
    assert len(pending) >= 2 and all("nodeName" not in p["spec"] for p in pending)
    cond = pending[0]["status"]["conditions"][0]
    assert (cond["type"], cond["reason"]) == ("PodScheduled", "Unschedulable")
    failed = [e for e in b.items("events") if e["reason"] == "FailedScheduling"]
    assert failed and all(e["eventTime"] and e["lastTimestamp"] is None for e in failed)
    assert re.match(r"0/\d+ nodes are available: \d+ Insufficient (cpu|memory)",
                    failed[0]["message"])
    assert failed[0]["series"]["count"] > 3
    assert b.last("kube_pod_status_phase", phase="Pending")
    assert len(b.last("kube_pod_status_unschedulable")) == len(pending)


def test_node_failure_facts(built: dict[str, Built]) -> None:
    b = built["node-failure"]
    name = _culprit(b)
    assert b.truth["culprit"] == {"namespace": None, "kind": "Node", "name": name}
    node = next(n for n in b.items("nodes") if n["metadata"]["name"] == name)
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "Unknown" and node["spec"]["taints"]
    assert b.last("kube_node_status_condition", node=name, status="true") == [0.0]
    assert b.last("kube_node_status_condition", node=name, status="unknown") == [1.0]
    assert b.last("up", node=name) == [0.0]
    assert any(e["reason"] == "NodeNotReady" for e in b.items("events"))
    lost = [p for p in b.items("pods") if p["spec"].get("nodeName") == name]
    assert lost and all("deletionTimestamp" in p["metadata"] for p in lost)
    assert any(c["type"] == "DisruptionTarget" for c in lost[0]["status"]["conditions"])


def test_dependency_down_facts(built: dict[str, Built]) -> None:
    b = built["dependency-down"]
    dep = _culprit(b)
    sts = next(s for s in b.items("statefulsets") if s["metadata"]["name"] == dep)
    assert sts["status"]["readyReplicas"] == 0
    paged = b.alerts[0]["labels"]["service"]
    callers = [p for p in b.items("pods") if p["metadata"]["name"].startswith(paged + "-")]
    assert all(p["status"]["containerStatuses"][0]["restartCount"] == 0 for p in callers)
    assert any(x["labels"]["app"] == paged and "refused" in x["line"].lower() for x in b.logs())


def _ratio(b: Built, num: str, den: str, pod: str, at: float) -> float:
    def inc(metric: str) -> float:
        s = next(s for lab, s in b.series(metric) if lab["pod"] == pod)
        window = [v for t, v in s if at - 300 <= t <= at]
        return window[-1] - window[0]
    return inc(num) / inc(den)


def test_cpu_throttling_facts(built: dict[str, Built]) -> None:
    b = built["cpu-throttling"]
    pods = [lab["pod"] for lab, _ in b.series("container_cpu_cfs_periods_total")
            if lab["container"] == _culprit(b)]
    assert pods
    for pod in pods:
        num, den = "container_cpu_cfs_throttled_periods_total", "container_cpu_cfs_periods_total"
        assert _ratio(b, num, den, pod, b.end) > 0.5
        assert _ratio(b, num, den, pod, b.end - 5400) < 0.1
    assert not any(b.last("kube_pod_container_status_restarts_total", container=_culprit(b))
                   [i] for i in range(len(pods)))


def test_disk_full_facts(built: dict[str, Built]) -> None:
    b = built["disk-full"]
    claim = b.truth["evidence"][1]
    avail = b.last("kubelet_volume_stats_available_bytes", persistentvolumeclaim=claim)
    cap = b.last("kubelet_volume_stats_capacity_bytes", persistentvolumeclaim=claim)
    assert avail[0] / cap[0] < 0.01
    assert any(p["metadata"]["name"] == claim for p in b.items("persistentvolumeclaims"))
    assert any("No space left on device" in x["line"] for x in b.logs())


def test_traffic_surge_facts(built: dict[str, Built]) -> None:
    b = built["traffic-surge"]
    svc = _culprit(b)
    reqs = [s for lab, s in b.series("http_requests_total") if lab["service"] == svc]

    def total(at: float) -> float:
        return sum(max((v for t, v in s if t <= at), default=0.0) for s in reqs)
    now = total(b.end) - total(b.end - 300)
    before = total(b.end - 3600) - total(b.end - 3900)
    assert now > 3 * before
    hpa = next(h for h in b.items("horizontalpodautoscalers") if h["metadata"]["name"] == svc)
    assert hpa["status"]["currentReplicas"] == hpa["spec"]["maxReplicas"]
    assert b.last("kube_horizontalpodautoscaler_status_current_replicas",
                  horizontalpodautoscaler=svc) == b.last(
        "kube_horizontalpodautoscaler_spec_max_replicas", horizontalpodautoscaler=svc)
    assert all(p["status"]["containerStatuses"][0]["restartCount"] == 0
               for p in b.items("pods") if p["metadata"]["name"].startswith(svc + "-"))


def test_cert_expiry_facts(built: dict[str, Built]) -> None:
    b = built["cert-expiry"]
    svc = _culprit(b)
    expiry = [s[-1][1] for lab, s in b.series("probe_ssl_earliest_cert_expiry")
              if f"//{svc}." in lab["instance"]]
    assert expiry and expiry[0] <= b.end
    assert [s[-1][1] for lab, s in b.series("probe_success")
            if f"//{svc}." in lab["instance"]] == [0.0]
    assert any("expired" in x["line"].lower() and x["labels"]["app"] != svc for x in b.logs())


def test_none_and_oom_stay_as_they_were(built: dict[str, Built]) -> None:
    assert "culprit" not in built["none"].truth
    oom = built["oom-killed"]
    reasons = {lab["reason"] for lab, _ in oom.series(
        "kube_pod_container_status_last_terminated_reason")}
    assert reasons == {"OOMKilled"}


def test_non_legacy_build_is_deterministic(built: dict[str, Built], tmp_path: Path) -> None:
    again = build_scenario(topology_spec(TOPOLOGY["image-pull"], "image-pull", seed=77),
                           tmp_path / "again")
    for name in ("metrics.om", "logs.jsonl", "alerts.json", "kube/events.json"):
        assert (again / name).read_bytes() == (built["image-pull"].path / name).read_bytes()
