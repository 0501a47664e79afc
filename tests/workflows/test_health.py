"""`oncall health` against the sandbox: every name and number it prints in JSON is
checked against the scenario's own kube/*.json and metrics.om."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app
from sandbox.builder import build_scenario
from sandbox.catalogue import catalogue_spec
from tests.conftest import shared_scenario
from tests.workflows.stack import ThreadedSandbox, increase, kube, parse_time, samples

pytestmark = pytest.mark.stack
PUBLIC = ["shop-checkout-oom", "shop-payments-bad-deploy", "shop-quiet-night"]
BUILT = ["webshop-checkout-scaleout", "payments-node-lost"]  # Pending pods, a lost node


@pytest.fixture(scope="module", params=PUBLIC + BUILT)
def stack(request, tmp_path_factory):
    if request.param in PUBLIC:
        scenario = shared_scenario(request.param)
    else:
        scenario = build_scenario(catalogue_spec(request.param), tmp_path_factory.mktemp("sc"))
    with ThreadedSandbox(scenario) as sb:
        sb.ns = yaml.safe_load((scenario / "scenario.yaml").read_text())["namespace"]
        sb.doc = sb.json("health", "--namespace", sb.ns)
        yield sb


def _ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in pod["status"].get("conditions", []))


def test_pods_not_ready_and_pending_match_the_pod_list(stack):
    pods = kube(stack.scenario, "pods")
    unready = {p["metadata"]["name"] for p in pods
               if p["status"]["phase"] in ("Running", "Failed", "Unknown") and not _ready(p)}
    pending = {p["metadata"]["name"] for p in pods if p["status"]["phase"] == "Pending"}
    assert {p["pod"] for p in stack.doc["pods_not_ready"]} == unready
    assert {p["pod"] for p in stack.doc["pending"]} == pending
    scheduler = {e["involvedObject"]["name"]: e["message"] for e in kube(stack.scenario, "events")
                 if e["reason"] == "FailedScheduling"}
    for p in stack.doc["pending"]:
        assert p["reason"] == "FailedScheduling" and p["message"] == scheduler[p["pod"]]
        assert p["workload"] == "Deployment/checkout"


def test_restarts_in_the_last_hour_with_reasons(stack):
    """Containers whose restart counter rose in the last hour of metrics.om, with the API's
    last termination (OOMKilled on shop-checkout-oom) and both counts."""
    end = stack.end.timestamp() - stack.shift
    counters = samples(stack.scenario, "kube_pod_container_status_restarts_total")
    rose = {(dict(k)["pod"], dict(k)["container"]): increase(v, end - 3600, end)
            for k, v in counters.items() if dict(k).get("namespace") == stack.ns}
    rose = {k: v for k, v in rose.items() if v > 0}
    got = {(r["pod"], r["container"]): r for r in stack.doc["restarts"]}
    assert got.keys() == rose.keys()
    statuses = {(p["metadata"]["name"], c["name"]): c for p in kube(stack.scenario, "pods")
                for c in p["status"].get("containerStatuses", [])}
    for key, row in got.items():
        last = statuses[key].get("lastState", {}).get("terminated", {})
        assert row["restarts"] == rose[key]
        assert row["restart_count"] == statuses[key]["restartCount"]
        assert row["last_reason"] == last.get("reason") and row["exit_code"] == last.get("exitCode")
        assert parse_time(row["finished_at"]) - timedelta(seconds=stack.shift) == \
            parse_time(last["finishedAt"])
    if stack.scenario.name == "shop-checkout-oom":
        assert {r["pod"]: (r["restarts"], r["last_reason"]) for r in stack.doc["restarts"]} == {
            "checkout-5255lpzzwd-7jcxn": (2, "OOMKilled"),
            "checkout-5255lpzzwd-58tv8": (1, "OOMKilled"),
            "checkout-5255lpzzwd-gqrld": (1, "OOMKilled")}
        assert "OOMKilled x3" in stack.doc["summary"]
        first = stack.doc["next_checks"][0]["command"]
        assert first == "kubectl -n shop describe deployment checkout"


def test_nodes_and_workloads_match_the_api_objects(stack):
    pods = kube(stack.scenario, "pods")
    on = {p["spec"].get("nodeName") for p in pods}
    sick = set()
    for n in kube(stack.scenario, "nodes"):
        conds = {c["type"]: c["status"] for c in n["status"]["conditions"]}
        if n["metadata"]["name"] in on and (conds.get("Ready") != "True" or any(
                conds.get(c) == "True" for c in ("MemoryPressure", "DiskPressure", "PIDPressure"))):
            sick.add(n["metadata"]["name"])
    assert {n["node"] for n in stack.doc["nodes"]} == sick
    short = {}
    for kind, key in (("deployments", "availableReplicas"), ("statefulsets", "readyReplicas")):
        for o in kube(stack.scenario, kind):
            want, have = o["spec"].get("replicas", 1), o["status"].get(key, 0)
            if have < want:
                short[o["metadata"]["name"]] = want - have
    assert {w["name"]: w["unavailable"] for w in stack.doc["workloads"]} == short
    if sick:
        assert any(c["command"].startswith("kubectl describe node") for c in
                   stack.doc["next_checks"][:3])


def test_missing_alertmanager_is_a_reported_failure(stack):
    assert stack.doc["alerts"] == []
    assert any(f.startswith("alertmanager: error") for f in stack.doc["failures"])
    problems = any(stack.doc[k] for k in ("pods_not_ready", "restarts", "pending", "nodes",
                                          "workloads", "event_surges"))
    assert stack.doc["healthy"] is (not problems)
    assert stack.doc["next_checks"], "always something to run"
    assert all(e["status"] in ("ok", "empty") for e in stack.doc["evidence"]
               if e["source"] != "alertmanager")


def test_text_and_markdown(stack):
    for fmt, head in (("text", "Healthy: " if stack.doc["healthy"] else "Unhealthy: "),
                      ("md", "## ")):
        out = stack.invoke("health", "-n", stack.ns, "--format", fmt, "--at",
                           stack.end.isoformat())
        assert out.exit_code == 0, out.output
        assert out.stdout.startswith(head) and "Next checks" in out.stdout


def test_scenario_flag_reads_the_page_from_a_real_alertmanager():
    scenario = shared_scenario("shop-checkout-oom")
    result = CliRunner().invoke(app, ["health", "--scenario", str(scenario), "-n", "shop",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    page = json.loads((scenario / "alerts.json").read_text())["alerts"]
    assert {a["alertname"] for a in doc["alerts"]} == {a["labels"]["alertname"] for a in page}
    assert doc["alerts"][0]["severity"] == "page" and doc["failures"] == []
    assert any(c["why"].startswith("alert ErrorBudgetBurn") for c in doc["next_checks"])


def test_nothing_reachable_is_one_line_and_exit_1():
    dead = {"ONCALL_PROMETHEUS_URL": "http://127.0.0.1:9", "ONCALL_KUBE_API_URL":
            "http://127.0.0.1:9", "ONCALL_LOKI_URL": ""}
    result = CliRunner().invoke(app, ["health"], env=dead)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "neither the Kubernetes API nor Prometheus" in \
        result.output and "Traceback" not in result.output


def test_help_lists_every_option():
    out = CliRunner().invoke(app, ["health", "--help"], env={"COLUMNS": "200"}).stdout
    assert all(o in out for o in ("--namespace", "--at", "--scenario", "--format"))
