"""`oncall cost` against the sandbox: waste, missing limits, ratios, idle requests and
scheduling failures, with the figures recomputed from kube/*.json and metrics.om."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from typer.testing import CliRunner

from bot.cli import app
from reasoning.workflows.cost_policy import load_cost_policy
from sandbox.builder import build_scenario
from sandbox.catalogue import catalogue_spec
from tests.conftest import shared_scenario
from tests.workflows.stack import ThreadedSandbox, kube, parse_time, samples

pytestmark = pytest.mark.stack
POLICY = load_cost_policy()  # the shipped policies/cost.yaml
GiB = 2**30
UNIT = {"m": 1e-3, "": 1.0, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def qty(text: str) -> float:
    num = text.rstrip("mKiMG")
    return float(num) * UNIT[text[len(num):]]


@pytest.fixture(scope="module", params=["shop-checkout-oom", "shop-quiet-night",
                                        "webshop-checkout-scaleout"])
def stack(request, tmp_path_factory):
    if request.param.startswith("shop-"):
        scenario = shared_scenario(request.param)
    else:  # Pending pods and FailedScheduling events
        scenario = build_scenario(catalogue_spec(request.param), tmp_path_factory.mktemp("sc"))
    with ThreadedSandbox(scenario) as sb:
        sb.ns = "webshop" if "webshop" in request.param else "shop"
        sb.doc = sb.json("cost", "--namespace", sb.ns)
        yield sb


def _requests(pod: dict) -> tuple[float, float]:
    res = [c.get("resources", {}).get("requests", {}) for c in pod["spec"]["containers"]]
    return (sum(qty(r.get("cpu", "0")) for r in res),
            sum(qty(r.get("memory", "0")) for r in res) / GiB)


def _crashed(pod: dict, end: float) -> bool:
    """Restarted in the last hour with a crash reason (or waiting in CrashLoopBackOff)."""
    for c in pod["status"].get("containerStatuses", []):
        last = c.get("lastState", {}).get("terminated", {})
        if c.get("state", {}).get("waiting", {}).get("reason") == "CrashLoopBackOff":
            return True
        finished = parse_time(last.get("finishedAt"))
        recent = finished is not None and finished.timestamp() > end - 3600
        if recent and last["reason"] in POLICY.crash_reasons:
            return True
    return False


def test_crash_looping_and_pending_pods_waste_their_requests(stack):
    end = stack.end.timestamp() - stack.shift
    pods = kube(stack.scenario, "pods")
    crashed = {p["metadata"]["name"]: _requests(p) for p in pods if _crashed(p, end)}
    pending = {p["metadata"]["name"]: _requests(p) for p in pods
               if p["status"]["phase"] == "Pending"}
    waste = {w["pod"]: w for w in stack.doc["waste"]}
    assert {k for k, w in waste.items() if w["state"] == "crash-looping"} == set(crashed)
    assert {k for k, w in waste.items() if w["state"] == "pending"} == set(pending)
    phase = samples(stack.scenario, "kube_pod_status_phase")
    for name, (cores, gib) in {**crashed, **pending}.items():
        w = waste[name]
        assert (w["cpu_cores"], w["memory_gib"]) == pytest.approx((cores, gib))
        if name in crashed:
            assert w["hours"] == 1.0
        else:  # the minutes metrics.om shows it Pending in the last hour
            minutes = {int(t // 60) for key, pts in phase.items() if dict(key)["pod"] == name
                       and dict(key)["phase"] == "Pending" for t, v in pts
                       if v == 1 and end - 3600 < t <= end}
            assert w["hours"] == pytest.approx(len(minutes) / 60, abs=2 / 60)
        assert w["core_hours"] == pytest.approx(cores * w["hours"], abs=1e-6)
        assert w["cost"] == pytest.approx((cores * POLICY.cpu_core_hour
                                           + gib * POLICY.memory_gib_hour) * w["hours"], abs=1e-6)
    cores = sum(w["cpu_cores"] for w in waste.values())
    gib = sum(w["memory_gib"] for w in waste.values())
    total = stack.doc["waste_total"]
    assert (total["cpu_cores"], total["memory_gib"]) == pytest.approx((cores, gib), abs=1e-4)
    assert total["monthly_cost"] == pytest.approx(
        (cores * POLICY.cpu_core_hour + gib * POLICY.memory_gib_hour) * 730, abs=0.01)
    if stack.scenario.name == "shop-checkout-oom":  # the acceptance figures
        assert sorted(crashed) == ["checkout-5255lpzzwd-58tv8", "checkout-5255lpzzwd-7jcxn",
                                   "checkout-5255lpzzwd-gqrld"]
        assert (total["cpu_cores"], total["memory_gib"]) == (1.5, 2.25)
        assert all(w["workload"] == "Deployment/checkout" for w in waste.values())


def test_containers_without_requests_or_limits(stack):
    want = defaultdict(set)
    for p in kube(stack.scenario, "pods"):
        if p["status"]["phase"] in ("Succeeded", "Failed"):
            continue
        for c in p["spec"]["containers"]:
            res = c.get("resources", {})
            gaps = tuple([f"requests.{r}" for r in POLICY.require_requests
                          if r not in res.get("requests", {})]
                         + [f"limits.{r}" for r in POLICY.require_limits
                            if r not in res.get("limits", {})])
            if gaps:
                want[(c["name"], gaps)].add(p["metadata"]["name"])
    got = {(m["container"], tuple(m["missing"])): set(m["pods"]) for m in stack.doc["missing"]}
    assert got == dict(want)
    if stack.scenario.name == "shop-checkout-oom":
        assert {m["workload"] for m in stack.doc["missing"]} == {
            "Deployment/cart", "Deployment/frontend", "StatefulSet/cart-redis"}


def test_limit_request_ratios_above_policy(stack):
    want = set()
    for p in kube(stack.scenario, "pods"):
        for c in p["spec"]["containers"]:
            res = c.get("resources", {})
            for r in ("cpu", "memory"):
                req, lim = res.get("requests", {}).get(r), res.get("limits", {}).get(r)
                if req and lim and qty(lim) / qty(req) > POLICY.max_limit_request_ratio:
                    want.add((c["name"], r, round(qty(lim) / qty(req), 3)))
    assert {(x["container"], x["resource"], x["ratio"]) for x in stack.doc["ratios"]} == want


def test_memory_requests_far_above_p95_usage(stack):
    """p95 of the working set over the last hour of metrics.om, against the requests."""
    end = stack.end.timestamp() - stack.shift
    crashed = {w["pod"] for w in stack.doc["waste"]}
    requests = {(p["metadata"]["name"], c["name"]): qty(c["resources"]["requests"]["memory"]) / GiB
                for p in kube(stack.scenario, "pods") if p["status"]["phase"] == "Running"
                for c in p["spec"]["containers"] if "memory" in c.get("resources", {}).get(
                    "requests", {})}
    want = {}
    for key, pts in samples(stack.scenario, "container_memory_working_set_bytes").items():
        labels = dict(key)
        k = (labels["pod"], labels["container"])
        vals = [v for t, v in pts if end - 3600 < t <= end]
        if k not in requests or k[0] in crashed or not vals:
            continue
        p95 = float(np.quantile(vals, POLICY.usage_quantile)) / GiB
        req = requests[k]
        if req >= POLICY.overprovision_factor * p95 and req - p95 >= POLICY.min_excess_memory_gib:
            want[k] = (req, p95)
    got = {(o["pod"], o["container"]): (o["request"], o["usage"])
           for o in stack.doc["overprovisioned"] if o["resource"] == "memory"}
    assert got.keys() == want.keys()
    for k, (req, p95) in want.items():
        assert got[k] == pytest.approx((req, p95), rel=1e-4)
    assert stack.doc["overprovisioned_total"]["memory_gib"] == pytest.approx(
        sum(r - u for r, u in want.values()), abs=1e-4)


def test_scheduling_failures(stack):
    events = [e for e in kube(stack.scenario, "events") if e["reason"] == "FailedScheduling"]
    want = {e["involvedObject"]["name"]: (e.get("series", {}).get("count") or e.get("count") or 1,
                                          e["message"]) for e in events}
    got = {s["pod"]: (s["count"], s["message"]) for s in stack.doc["scheduling_failures"]}
    assert got == want
    if want:
        assert "failed scheduling" in stack.doc["summary"]


def test_requested_totals(stack):
    live = [p for p in kube(stack.scenario, "pods") if p["status"]["phase"] in ("Running",
                                                                                 "Pending")]
    cores = sum(_requests(p)[0] for p in live)
    gib = sum(_requests(p)[1] for p in live)
    assert (stack.doc["requested"]["cpu_cores"], stack.doc["requested"]["memory_gib"]) == \
        pytest.approx((cores, gib), abs=1e-4)
    assert stack.doc["currency"] == POLICY.currency and stack.doc["failures"] == []


def test_text_and_markdown(stack):
    for fmt in ("text", "md"):
        out = stack.invoke("cost", "-n", stack.ns, "--format", fmt, "--at", stack.end.isoformat())
        assert out.exit_code == 0, out.output
        assert "Totals" in out.stdout and "per month" in out.stdout


def test_broken_policy_is_bad_input(tmp_path):
    bad = tmp_path / "cost.yaml"
    bad.write_text("cpu_core_hour: -1\n")
    result = CliRunner().invoke(app, ["cost", "--policy", str(bad)])
    assert result.exit_code == 2 and "cpu_core_hour" in result.output


def test_help_lists_every_option():
    out = CliRunner().invoke(app, ["cost", "--help"], env={"COLUMNS": "200"}).stdout
    assert all(o in out for o in ("--namespace", "--window", "--policy", "--at", "--scenario",
                                  "--format"))
