"""`oncall triage` against the sandbox on shop-checkout-oom: states, terminations, events,
the lines read and their error signatures, checked against kube/*.json and logs.jsonl."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from adapters.clusters import ClusterConfig, HttpEndpoint, KubeEndpoint
from bot.cli import app
from detectors.log_signals import is_error
from reasoning.runbooks import RunbookIndex
from reasoning.runbooks.embed import MiniLmEncoder
from reasoning.workflows.triage import triage
from tests.conftest import shared_scenario
from tests.workflows.stack import ThreadedSandbox, kube, log_lines, parse_time

pytestmark = pytest.mark.stack
LINES = 300


@pytest.fixture(scope="module")
def stack():
    with ThreadedSandbox(shared_scenario("shop-checkout-oom")) as sb:
        sb.doc = sb.json("triage", "--deployment", "checkout", "-n", "shop",
                         "--lines", str(LINES))
        yield sb


def _checkout_pods(stack) -> dict[str, dict]:
    return {p["metadata"]["name"]: p for p in kube(stack.scenario, "pods")
            if p["metadata"]["labels"].get("app") == "checkout"}


def _expected_reads(stack, lines: int) -> dict[tuple[str, str], tuple[int, int]]:
    """(pod, instance) -> (lines read, error lines): the last `lines` lines of each
    container instance's lifetime in logs.jsonl (current: running since -> the end)."""
    end = stack.end.timestamp() - stack.shift
    out = {}
    for name, pod in _checkout_pods(stack).items():
        status = pod["status"]["containerStatuses"][0]
        last = status["lastState"]["terminated"]
        windows = {"current": (parse_time(status["state"]["running"]["startedAt"]).timestamp(),
                               end),
                   "previous": (parse_time(last["startedAt"]).timestamp(),
                                parse_time(last["finishedAt"]).timestamp())}
        every = list(log_lines(stack.scenario, name))
        for instance, (lo, hi) in windows.items():
            got = [line for ts, line in every if lo <= ts < hi][-lines:]
            out[(name, instance)] = (len(got), sum(is_error(x) for x in got))
    return out


def test_container_states_and_last_terminations(stack):
    pods = _checkout_pods(stack)
    assert {p["name"] for p in stack.doc["pods"]} == set(pods)
    for p in stack.doc["pods"]:
        want = pods[p["name"]]["status"]["containerStatuses"][0]
        [c] = p["containers"]
        last = want["lastState"]["terminated"]
        assert (c["state"], c["ready"], c["restarts"]) == ("running", True, want["restartCount"])
        assert c["last_termination"]["reason"] == last["reason"] == "OOMKilled"
        assert c["last_termination"]["exitCode"] == 137
        assert parse_time(c["last_termination"]["finishedAt"]) - timedelta(
            seconds=stack.shift) == parse_time(last["finishedAt"])
        assert p["owners"] == ["ReplicaSet/checkout-5255lpzzwd", "Deployment/checkout"]
    assert stack.doc["summary"].startswith("Deployment/checkout in shop: 3 pod(s), 3 ready, "
                                           "4 restart(s); last terminated OOMKilled x3")


def test_recent_events_are_the_last_hours_events_of_the_pods(stack):
    end = stack.end - timedelta(seconds=stack.shift)
    names = set(_checkout_pods(stack)) | {"checkout"}
    want = {(e["involvedObject"]["name"], e["reason"]) for e in kube(stack.scenario, "events")
            if e["involvedObject"]["name"] in names
            and parse_time(e.get("lastTimestamp") or e["series"]["lastObservedTime"])
            >= end - timedelta(hours=1)}
    assert {(e["name"], e["reason"]) for e in stack.doc["events"]} == want
    assert {"BackOff", "Unhealthy"} <= {e["reason"] for e in stack.doc["events"]}


def test_lines_read_and_error_signatures(stack):
    want = _expected_reads(stack, LINES)
    got = {(x["pod"], x["instance"]): (x["lines"], x["error_lines"]) for x in stack.doc["logs"]}
    assert got == want
    assert {x["source"] for x in stack.doc["logs"]} == {"loki"}
    sigs = stack.doc["signatures"]
    assert sum(s["count"] for s in sigs) == sum(e for _, e in want.values())  # all in the top 5
    assert sum(s["previous"] for s in sigs) == sum(
        e for (_, inst), (_, e) in want.items() if inst == "previous")
    top = sigs[0]
    assert "Checkout failed for cart" in top["template"] and "TimeoutException" in top["template"]
    assert top["count"] == max(s["count"] for s in sigs) > 0.9 * sum(s["count"] for s in sigs)
    assert top["pods"] == sorted(_checkout_pods(stack))
    assert parse_time(top["first_seen"]) <= parse_time(top["last_seen"])


def test_runbooks_and_next_checks(stack):
    assert stack.doc["runbooks"][0]["source"] == "oom-killed.md"
    commands = [c["command"] for c in stack.doc["next_checks"]]
    assert commands[0] == "kubectl -n shop describe deployment checkout"
    for pod in _checkout_pods(stack):
        assert f"kubectl -n shop logs {pod} -c checkout --previous --tail={LINES}" in commands


def test_pod_log_api_reads_the_same_lines_as_loki(stack):
    """Without Loki the pod log API (current and --previous) gives the same lines."""
    cluster = ClusterConfig(prometheus=HttpEndpoint(url=stack.urls["prometheus"]),
                            kubernetes=KubeEndpoint(api_url=stack.urls["kube"]))
    pod = "checkout-5255lpzzwd-7jcxn"
    lexical = RunbookIndex(encoder=MiniLmEncoder(model_path=stack.scenario / "no-model.onnx"),
                           persist_dir=stack.sandbox.workdir / "index")
    result = asyncio.run(triage(pod=pod, lines=50, cluster=cluster, runbooks=lexical,
                                at=stack.end))
    assert result.namespace == "shop" and result.target == f"Pod/{pod}"
    want = {k: v for k, v in _expected_reads(stack, 50).items() if k[0] == pod}
    assert {(x.pod, x.instance): (x.lines, x.error_lines) for x in result.logs} == want
    assert {x.source for x in result.logs} == {"kubernetes"}
    assert result.runbooks[0].source == "oom-killed.md"  # exact matches without the model


@pytest.mark.parametrize("args, message", [
    (["--pod", "a", "--deployment", "b"], "exactly one of --pod"),
    ([], "exactly one of --pod"),
    (["--pod", "nope-123", "-n", "shop"], "no pod 'nope-123' in namespace 'shop'"),
    (["--deployment", "nope"], "no deployment 'nope' in any namespace"),
    (["--pod", "x", "--lines", "0"], "lines must be between 1 and 5000"),
])
def test_bad_input_exits_2_with_one_line(stack, args, message):
    result = stack.invoke("triage", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_text_and_markdown(stack):
    for fmt in ("text", "md"):
        out = stack.invoke("triage", "--deployment", "checkout", "--format", fmt, "--at",
                           stack.end.isoformat())
        assert out.exit_code == 0, out.output
        assert "Top error signatures" in out.stdout and "oom-killed.md" in out.stdout
    assert json.loads(stack.invoke("triage", "--pod", "x", "--format", "json").stdout) == {
        "error": "no pod 'x' in any namespace", "exit_code": 2}


def test_help_lists_every_option():
    out = CliRunner().invoke(app, ["triage", "--help"], env={"COLUMNS": "200"}).stdout
    assert all(o in out for o in ("--pod", "--deployment", "--namespace", "--lines", "--at",
                                  "--scenario", "--format"))
