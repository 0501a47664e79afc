"""`oncall slo-prom` against the sandbox's real Prometheus: ratios, burn rates, budget spend
and the multi-window verdict, checked against the counters in metrics.om."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.cli import app
from detectors.slo import WORKBOOK_WINDOWS
from tests.conftest import shared_scenario
from tests.workflows.stack import ThreadedSandbox, increase, samples

pytestmark = pytest.mark.stack
SEL = {"shop-checkout-oom": 'namespace="shop",service="checkout"',
       "shop-payments-bad-deploy": 'namespace="shop",service="payments"'}
PERIOD = 30 * 86400


@pytest.fixture(scope="module", params=sorted(SEL))
def stack(request):
    with ThreadedSandbox(shared_scenario(request.param)) as sb:
        sb.sel = SEL[request.param]
        yield sb


def _args(sb, target: str, *extra: str) -> list[str]:
    return ["slo-prom", "--err", f'http_requests_total{{{sb.sel},code=~"5.."}}',
            "--tot", f"http_requests_total{{{sb.sel}}}", "--window-minutes", "5",
            "--slo-target", target, *extra]


def _ratio(sb, seconds: int) -> float:
    """5xx / all over the window from the raw counters (resets counted, no extrapolation)."""
    end = sb.end.timestamp() - sb.shift
    want = dict(x.split("=") for x in sb.sel.replace('"', "").split(","))
    err = tot = 0.0
    for key, points in samples(sb.scenario, "http_requests_total").items():
        labels = dict(key)
        if all(labels.get(k) == v for k, v in want.items()):
            inc = increase(points, end - seconds, end)
            tot += inc
            err += inc if labels["code"].startswith("5") else 0.0
    return err / tot


@pytest.mark.parametrize("target, budget", [("0.995", 0.005), ("99.9", 0.001)])
def test_live_ratio_burn_and_budget(stack, target, budget):
    doc = stack.json(*_args(stack, target))
    ratio = _ratio(stack, 300)
    assert doc["error_ratio"] == pytest.approx(ratio, rel=0.02)
    assert doc["budget"] == pytest.approx(budget)
    assert doc["burn_rate"] == pytest.approx(ratio / budget, rel=0.02)
    assert doc["budget_consumed"] == pytest.approx(ratio / budget * 300 / PERIOD, rel=0.02)
    assert doc["window"] == "5m" and doc["total_rate"] > 0


@pytest.mark.parametrize("target, budget", [("0.995", 0.005), ("99.9", 0.001)])
def test_multi_window_verdict_where_history_allows(stack, target, budget):
    """The scenarios hold 6 hours: the 1h/5m and 6h/30m pairs are judged, 1d and 3d not."""
    doc = stack.json(*_args(stack, target))
    assert doc["history"].startswith("5h5") and doc["history_seconds"] < 6 * 3600
    windows = {w["window"]: w for w in doc["windows"]}
    assert [k for k, w in windows.items() if w["available"]] == ["5m", "30m", "1h", "2h", "6h"]
    for name, seconds in (("5m", 300), ("30m", 1800), ("1h", 3600), ("2h", 7200)):
        assert windows[name]["error_ratio"] == pytest.approx(_ratio(stack, seconds), rel=0.02)
    pairs = {p["long"]: p for p in doc["pairs"]}
    for w in WORKBOOK_WINDOWS[:2]:
        long_, short = (_ratio(stack, s) / budget for s in (w.long, w.short))
        factor = w.factor(PERIOD)
        pair = pairs[{3600: "1h", 21600: "6h"}[w.long]]
        assert pair["threshold"] == pytest.approx(factor)
        if w.long == 3600:  # 6h of history: the 6h ratio is extrapolated a little, 1h is not
            assert pair["breached"] is (long_ > factor and short > factor)
    assert pairs["1d"]["breached"] is None and pairs["3d"]["breached"] is None
    breached = [p for p in doc["pairs"] if p["breached"]]
    assert doc["severity"] == ("page" if breached else "ok")
    assert doc["verdict"].startswith("page: burn above" if breached else "ok: below every")
    assert all(e["status"] in ("ok", "empty") for e in doc["evidence"])
    assert all("/graph?g0.expr=" in e["link"] for e in doc["evidence"])


def test_checkout_pages_at_99_9_not_at_99_5(stack):
    if "checkout" not in stack.sel:
        pytest.skip("checkout only")
    assert stack.json(*_args(stack, "99.9"))["severity"] == "page"
    assert stack.json(*_args(stack, "99.5"))["severity"] == "ok"


def test_full_expressions_are_evaluated_as_given(stack):
    err = f'sum(rate(http_requests_total{{{stack.sel},code=~"5.."}}[5m]))'
    tot = f"sum(rate(http_requests_total{{{stack.sel}}}[5m]))"
    doc = stack.json("slo-prom", "--err", err, "--tot", tot)
    assert doc["error_ratio"] == pytest.approx(_ratio(stack, 300), rel=0.02)
    assert doc["severity"] == "unknown" and "full expressions" in doc["verdict"]
    templated = stack.json("slo-prom", "--err", err.replace("[5m]", "[{{window}}]"),
                           "--tot", tot.replace("[5m]", "[{{window}}]"))
    assert templated["error_ratio"] == pytest.approx(doc["error_ratio"])
    assert templated["severity"] in ("ok", "page")


def test_text_and_markdown(stack):
    for fmt in ("text", "md"):
        out = stack.invoke(*_args(stack, "0.995", "--format", fmt))
        assert out.exit_code == 0, out.output
        assert "burn rate" in out.stdout and "1h/5m" in out.stdout
        assert stack.urls["prometheus"] + "/graph?" in out.stdout


@pytest.mark.parametrize("args, message", [
    (["--err", "x", "--tot", "y", "--slo-target", "0"], "bad SLO"),
    (["--err", "x", "--tot", "y", "--window-minutes", "0"], "at least 1"),
    (["--err", " ", "--tot", "y"], "give both --err and --tot"),
    (["--err", "x", "--tot", "y", "--period", "a month"], "not a duration"),
])
def test_bad_input_exits_2(args, message):
    result = CliRunner().invoke(app, ["slo-prom", *args],
                                env={"ONCALL_PROMETHEUS_URL": "http://127.0.0.1:9"})
    assert result.exit_code == 2 and message in result.output, result.output


def test_unreachable_prometheus_is_exit_1():
    result = CliRunner().invoke(app, ["slo-prom", "--err", "x", "--tot", "y"],
                                env={"ONCALL_PROMETHEUS_URL": "http://127.0.0.1:9"})
    assert result.exit_code == 1 and result.output.startswith("error: RuntimeError: Prometheus")


def test_help_lists_every_option():
    out = CliRunner().invoke(app, ["slo-prom", "--help"], env={"COLUMNS": "200"}).stdout
    assert all(o in out for o in ("--err", "--tot", "--window-minutes", "--slo-target",
                                  "--period", "--at", "--scenario", "--format"))
