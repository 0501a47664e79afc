"""Canary gate: the acceptance table, the CLI contract (formats, exit codes), and
canary-prom against a real Prometheus holding a healthy and a regressed canary."""

from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.prometheus import PrometheusClient
from bot.cli import app
from detectors.canary import Arm, CanaryPolicy, SeriesRule, load_canary_policy, series_check
from reasoning.workflows.canary import (CanaryInputError, Decision, canary_gate, canary_prom,
                                        normalise_selector)
from sandbox import procs
from tests.conftest import ROOT

POLICY = CanaryPolicy()  # the shipped file's values (checked below)


def test_shipped_policy_file_matches_the_defaults():
    assert load_canary_policy(ROOT / "policies/canary_policy.yaml") == POLICY
    assert POLICY.min_samples_per_arm == 500


# (case, canary ok/total/p95/p99, baseline ok/total/p95/p99, decision, failing checks)
GATE_TABLE = [
    ("too few samples", (49, 50, 100, None), (50, 50, 100, None), "Hold", ["sample-size"]),
    ("one arm too small", (5000, 5000, 100, None), (400, 400, 100, None), "Hold", ["sample-size"]),
    ("equal arms", (990, 1000, 120, 300), (990, 1000, 120, 300), "Continue", []),
    ("p95 regression", (990, 1000, 150, None), (990, 1000, 120, None), "Hold", ["p95"]),
    ("p95 within policy", (990, 1000, 130, None), (990, 1000, 120, None), "Continue", []),
    ("p95 +50% but 3 ms", (990, 1000, 9, None), (990, 1000, 6, None), "Continue", []),
    ("p99 regression", (990, 1000, 120, 400), (990, 1000, 120, 300), "Hold", ["p99"]),
    ("significant drop", (950, 1000, 120, None), (995, 1000, 120, None), "Hold", ["success-rate"]),
    ("drop within noise", (980, 1000, 120, None), (990, 1000, 120, None), "Continue", []),
    ("same drop, 100x the traffic", (98000, 100000, 120, None), (99000, 100000, 120, None),
     "Hold", ["success-rate"]),
    ("canary better", (999, 1000, 100, None), (980, 1000, 120, None), "Continue", []),
]


@pytest.mark.parametrize("case, c, b, decision, failing", GATE_TABLE,
                         ids=[t[0] for t in GATE_TABLE])
def test_gate_table(case, c, b, decision, failing):
    result = canary_gate(Arm(*c), Arm(*b), POLICY)
    assert result.decision.value == decision
    assert [ch.name for ch in result.checks if not ch.passed] == failing
    assert result.exit_code == (0 if decision == "Continue" else 1)
    named = {"sample-size": "insufficient data", "success-rate": "success-rate drop",
             "p95": "p95 regression", "p99": "p99 regression"}
    assert [named[n] in r for n, r in zip(failing, result.reasons)] == [True] * len(failing)


def test_success_rate_numbers_are_a_test_not_a_difference():
    noisy = canary_gate(Arm(980, 1000, 120), Arm(990, 1000, 120), POLICY)
    sure = canary_gate(Arm(98000, 100000, 120), Arm(99000, 100000, 120), POLICY)
    [n], [s] = ([c for c in r.checks if c.name == "success-rate"] for r in (noisy, sure))
    assert n.numbers["drop"] == pytest.approx(0.01) == s.numbers["drop"]
    assert n.numbers["p_value"] > 0.05 > 1e-10 > s.numbers["p_value"]
    assert s.numbers["drop_lower_bound"] > POLICY.success_rate.min_delta


BAD_INPUT = [
    (["--co", "-5"], "canary ok is negative"),
    (["--bo", "1100"], "baseline ok (1100) is greater than its total (1000)"),
    (["--ct", "-1", "--co", "0"], "canary total is negative"),
    (["--cp95", "-3"], "canary p95 is negative"),
    (["--cp99", "300"], "p99 given for only one arm"),
]
GOOD = {"--co": "990", "--ct": "1000", "--bo": "990", "--bt": "1000", "--cp95": "120",
        "--bp95": "120"}


def _args(overrides: list[str], drop: tuple[str, ...] = ()) -> list[str]:
    opts = dict(GOOD)
    opts.update(dict(zip(overrides[::2], overrides[1::2])))
    return ["canary-gate"] + [x for k, v in opts.items() if k not in drop for x in (k, v)]


@pytest.mark.parametrize("overrides, reason", BAD_INPUT, ids=[r for _, r in BAD_INPUT])
def test_bad_input_exits_2_with_the_reason(overrides, reason):
    result = CliRunner().invoke(app, _args(overrides))
    assert result.exit_code == 2, result.output
    assert reason in result.output and "Traceback" not in result.output


def test_workflow_reports_every_problem_at_once():
    with pytest.raises(CanaryInputError) as err:
        canary_gate(Arm(1001, 1000, None), Arm(-1, 1000, 120, 300), POLICY)
    assert err.value.reasons == [
        "canary p95 is missing", "canary ok (1001) is greater than its total (1000)",
        "baseline ok is negative (-1)", "p99 given for only one arm: give both or neither"]


@pytest.mark.parametrize("missing, reason", [("--cp95", "canary p95 is missing"),
                                             ("--bt", "baseline total is missing")])
def test_missing_values_exit_2(missing, reason):
    result = CliRunner().invoke(app, _args([], drop=(missing,)))
    assert result.exit_code == 2 and reason in result.output


def test_bad_input_as_json():
    result = CliRunner().invoke(app, _args(["--co", "-5"]) + ["--format", "json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {"decision": None, "error": "bad input",
                                         "reasons": ["canary ok is negative (-5)"]}


@pytest.mark.parametrize("fmt", ["text", "md", "json"])
@pytest.mark.parametrize("overrides, code, decision", [
    ([], 0, "Continue"), (["--cp95", "200"], 1, "Hold"),
    (["--ct", "100", "--co", "100"], 1, "Hold")])
def test_cli_formats_and_exit_codes(fmt, overrides, code, decision):
    result = CliRunner().invoke(app, _args(overrides) + ["--format", fmt])
    assert result.exit_code == code, result.output
    if fmt == "json":
        doc = json.loads(result.stdout)
        assert doc["decision"] == decision and doc["command"] == "canary-gate"
        assert doc["canary"]["total"] == int(dict(zip(overrides[::2], overrides[1::2]))
                                             .get("--ct", "1000"))
        assert {c["name"] for c in doc["checks"]} == {"sample-size", "success-rate", "p95"}
    else:
        first = result.stdout.splitlines()[0]
        assert first == ("## " if fmt == "md" else "") + f"{decision}: canary-gate"
        assert ("| check | result | detail |" in result.stdout) == (fmt == "md")
    if code == 1:
        assert ("p95 regression" if "--cp95" in overrides else "insufficient data") in result.stdout


def test_help_lists_every_option():
    for command, options in (("canary-gate", ["--co", "--ct", "--bo", "--bt", "--cp95", "--bp95",
                                              "--cp99", "--bp99", "--policy", "--format"]),
                             ("canary-prom", ["--canary", "--baseline", "--window", "--at",
                                              "--prometheus-url", "--policy", "--format"])):
        out = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).stdout
        assert all(o in out for o in options), out


def test_series_check_kayenta_style():
    rng = random.Random(7)
    base = [100 + rng.gauss(0, 5) for _ in range(30)]
    same = [100 + rng.gauss(0, 5) for _ in range(30)]
    slow = [v * 1.5 for v in same]
    slight = [v * 1.1 for v in same]
    rule = SeriesRule(allowed_increase=1.2, absolute_tolerance=5)
    assert series_check("lat", " ms", same, base, rule, 0.95, 10).passed
    failed = series_check("lat", " ms", slow, base, rule, 0.95, 10)
    assert not failed.passed and failed.numbers["p_value"] < 0.05
    assert "canary higher" in failed.reason
    within = series_check("lat", " ms", slight, base, rule, 0.95, 10)  # significant, but tolerated
    assert within.passed and within.numbers["p_value"] < 0.05
    assert not series_check("lat", " ms", slow[:5], base, rule, 0.95, 10).passed
    assert series_check("err", "", [0.0] * 20, [0.0] * 20, rule, 0.95, 10).passed


def test_selectors():
    assert normalise_selector('{app="web", track=~"can.*"}') == 'app="web",track=~"can.*"'
    assert normalise_selector('a="x,y"') == 'a="x,y"'
    for bad in ("", "{}", "app=web", 'app="web" track="x"'):
        with pytest.raises(ValueError):
            normalise_selector(bad)


# --- canary-prom against a real Prometheus -------------------------------------------------

END = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
STEP = 15
LE = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, math.inf)
# service -> track -> (pods, requests per second per pod, error share, median latency s)
ARMS = {
    "web": {"stable": (2, 2, 0.005, 0.08), "canary": (1, 2, 0.005, 0.08)},  # healthy canary
    "api": {"stable": (2, 2, 0.005, 0.08), "canary": (1, 2, 0.06, 0.2)},    # regressed canary
}


def _om_labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def write_openmetrics(path: Path) -> None:
    """40 minutes at 15 s of request counters and latency histograms per pod."""
    rng = random.Random(42)
    times = [END - timedelta(minutes=40) + timedelta(seconds=STEP * i) for i in range(40 * 4 + 1)]
    reqs: list[str] = []
    hist: list[str] = []
    for service, tracks in ARMS.items():
        for track, (pods, rps, err, median) in tracks.items():
            for p in range(pods):
                base = {"namespace": "shop", "service": service, "track": track,
                        "pod": f"{service}-{track}-{p}"}
                ok = bad = 0
                buckets = [0.0] * len(LE)
                rows_ok, rows_bad, rows_b = [], [], [[] for _ in LE]
                for t in times:
                    n = rps * STEP
                    errors = sum(rng.random() < err for _ in range(n))
                    ok, bad = ok + n - errors, bad + errors
                    m = median * math.exp(rng.gauss(0, 0.08))
                    for i, le in enumerate(LE):
                        share = 1.0 if math.isinf(le) else 0.5 * (1 + math.erf(
                            math.log(le / m) / (0.5 * math.sqrt(2))))
                        buckets[i] += n * share
                        rows_b[i].append(f"{buckets[i]:.4f} {t.timestamp():.0f}")
                    rows_ok.append(f"{ok} {t.timestamp():.0f}")
                    rows_bad.append(f"{bad} {t.timestamp():.0f}")
                for code, rows in (("200", rows_ok), ("500", rows_bad)):
                    prefix = "http_requests_total" + _om_labels({**base, "code": code})
                    reqs.extend(f"{prefix} {r}" for r in rows)
                for le, rows in zip(LE, rows_b):
                    le_text = "+Inf" if math.isinf(le) else f"{le:g}"
                    prefix = ("http_request_duration_seconds_bucket"
                              + _om_labels({**base, "le": le_text}))
                    hist.extend(f"{prefix} {r}" for r in rows)
    path.write_text("\n".join(["# TYPE http_requests counter", *reqs,
                               "# TYPE http_request_duration_seconds histogram", *hist,
                               "# EOF"]) + "\n")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    work = tmp_path_factory.mktemp("canary-prom")
    write_openmetrics(work / "metrics.om")
    procs.backfill(work / "metrics.om", work / "tsdb")
    proc = procs.start_prometheus(work, work / "tsdb", None, None)
    yield proc.url
    proc.stop()


def _prom_args(url: str, service: str, *extra: str) -> list[str]:
    return ["canary-prom", "--canary", f'namespace="shop",service="{service}",track="canary"',
            "--baseline", f'{{namespace="shop",service="{service}",track="stable"}}',
            "--window", "30m", "--at", END.isoformat(), "--prometheus-url", url, *extra]


@pytest.mark.stack
def test_prom_healthy_canary_continues(prometheus):
    result = CliRunner().invoke(app, _prom_args(prometheus, "web", "--format", "json"))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["decision"] == "Continue", doc["reasons"]
    # 30 minutes: canary 1 pod x 2 rps, stable 2 pods x 2 rps (increase() extrapolates a little)
    assert doc["canary"]["total"] == pytest.approx(3600, rel=0.02)
    assert doc["baseline"]["total"] == pytest.approx(7200, rel=0.02)
    assert doc["canary"]["p95_ms"] == pytest.approx(doc["baseline"]["p95_ms"], rel=0.1)
    series = {c["name"]: c for c in doc["checks"]}
    assert series["p95 per 1m"]["numbers"]["canary_intervals"] == 30
    assert series["error ratio per 1m"]["numbers"]["baseline_intervals"] == 30
    assert len(doc["evidence"]) == 12
    assert all(e["status"] == "ok" and "/graph?g0.expr=" in e["link"] for e in doc["evidence"])
    assert any('track="canary"' in e["query"] and "histogram_quantile(0.95" in e["query"]
               for e in doc["evidence"])


@pytest.mark.stack
async def test_prom_regressed_canary_holds(prometheus):
    async with PrometheusClient(prometheus) as client:
        result = await canary_prom(client, 'namespace="shop",service="api",track="canary"',
                                   'namespace="shop",service="api",track="stable"', "30m",
                                   POLICY, at=END)
    assert result.decision is Decision.HOLD
    failed = {c.name for c in result.checks if not c.passed}
    assert failed == {"success-rate", "p95", "p99", "p95 per 1m", "error ratio per 1m"}
    assert result.canary.success_rate == pytest.approx(0.94, abs=0.015)
    assert result.canary.p95_ms > 2 * result.baseline.p95_ms
    assert any("Mann-Whitney" in r for r in result.reasons)


@pytest.mark.stack
@pytest.mark.parametrize("fmt", ["text", "md"])
def test_prom_text_and_markdown_show_queries_and_links(prometheus, fmt):
    result = CliRunner().invoke(app, _prom_args(prometheus, "api", "--format", fmt),
                                env={"COLUMNS": "300"})
    assert result.exit_code == 1, result.output
    assert "Hold: canary-prom" in result.stdout and prometheus + "/graph?" in result.stdout


@pytest.mark.stack
def test_prom_no_data_is_insufficient_never_continue(prometheus):
    args = _prom_args(prometheus, "nothing-here", "--format", "json")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "insufficient data" in json.loads(result.stdout)["reasons"][0]


def test_prom_bad_selector_and_unreachable_prometheus():
    url = f"http://127.0.0.1:{procs.free_port()}"
    bad = CliRunner().invoke(app, ["canary-prom", "--canary", "track=canary", "--baseline",
                                   'track="stable"', "--prometheus-url", url])
    assert bad.exit_code == 2 and "not a label selector" in bad.output
    down = CliRunner().invoke(app, ["canary-prom", "--canary", 'track="canary"', "--baseline",
                                    'track="stable"', "--prometheus-url", url, "--format", "json"])
    assert down.exit_code == 1
    assert json.loads(down.stdout)["reasons"][0].startswith("query failed (error)")


def test_broken_policy_is_bad_input(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("min_samples_per_arm: -3\n")
    result = CliRunner().invoke(app, _args([]) + ["--policy", str(policy)])
    assert result.exit_code == 2
    assert "min_samples_per_arm: Input should be greater than or equal to 1" in result.output
