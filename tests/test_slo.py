"""SLO burn rates: the workbook factors, generated rules real promtool accepts, and the
same ratio in real Prometheus as the scenario's own alert rule."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timezone

import pytest
import yaml
from typer.testing import CliRunner

from adapters.prometheus import PrometheusClient
from bot.cli import app
from detectors import InvestigationContext
from detectors.slo import DAY, Slo, default_slo, find_slo, load_slos, parse_duration
from detectors.slo_burn import SloBurnDetector, budget_outlook
from sandbox import procs
from tests.conftest import ROOT, shared_scenario


@pytest.mark.parametrize("period, thresholds", [
    ("30d", [14.4, 6, 3, 1]),
    ("28d", [13.44, 5.6, 2.8, 0.9333]),
])
def test_slo_rules_command_writes_rules_promtool_accepts(tmp_path, period, thresholds):
    result = CliRunner().invoke(app, [
        "slo", "rules", "--name", "checkout", "--objective", "99.9", "--period", period,
        "--errors", 'http_requests_total{code=~"5.."}', "--total", "http_requests_total"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "rules.yaml"
    path.write_text(result.output)
    check = subprocess.run([procs.find_binary("promtool"), "check", "rules", str(path)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 11 rules found" in check.stdout
    doc = yaml.safe_load(result.output)
    alerts = [r for g in doc["groups"] for r in g["rules"] if "alert" in r]
    factors = [float(re.search(r"> \(([\d.]+) \*", a["expr"]).group(1)) for a in alerts]
    assert factors == pytest.approx(thresholds, abs=1e-4)
    assert [a["labels"]["severity"] for a in alerts] == ["page", "page", "ticket", "ticket"]
    assert [(a["labels"]["long_window"], a["labels"]["short_window"]) for a in alerts] == [
        ("1h", "5m"), ("6h", "30m"), ("1d", "2h"), ("3d", "6h")]


def test_slo_rules_from_the_shipped_policy_file(tmp_path):
    result = CliRunner().invoke(app, ["slo", "rules", "--policy", str(ROOT / "policies/slo.yaml")])
    assert result.exit_code == 0, result.output
    (tmp_path / "r.yaml").write_text(result.output)
    check = subprocess.run([procs.find_binary("promtool"), "check", "rules", str(tmp_path / "r.yaml")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_slo_rules_refuses_incomplete_input():
    result = CliRunner().invoke(app, ["slo", "rules", "--name", "x"])
    assert result.exit_code == 2
    assert "--errors" in result.output


def test_policy_model():
    assert parse_duration("28d") == 28 * DAY and parse_duration("4w") == 28 * DAY
    with pytest.raises(ValueError):
        parse_duration("soon")
    slos = load_slos(ROOT / "policies/slo.yaml")
    assert slos and all(0 < s.objective < 1 for s in slos)
    web = find_slo(slos, "example", "web")
    assert web is not None and web.objective == pytest.approx(0.995) and web.period == 28 * DAY
    assert "[1h]" in web.ratio_expr(3600) and "{{window}}" not in web.ratio_expr(3600)
    assert find_slo(slos, "other", "web") is None
    conv = default_slo("shop", "api", 0.999)
    assert conv.ratio_expr(300) == ('(sum(rate(http_requests_total{namespace="shop",service="api",'
                                    'code=~"5.."}[5m]))) / (sum(rate(http_requests_total{namespace="shop",'
                                    'service="api"}[5m])))')


def test_budget_outlook():
    slo = Slo(name="s", objective=0.999, errors="e", total="t")  # 30 days
    remaining, seconds = budget_outlook(0.0005, 10.0, slo)
    assert remaining == pytest.approx(0.5)
    assert seconds == pytest.approx(0.5 * 30 * DAY / 10)
    assert budget_outlook(0.002, 10.0, slo) == (pytest.approx(-1.0), 0.0)
    assert budget_outlook(None, 10.0, slo) == (None, None)


@pytest.mark.stack
async def test_detector_ratio_equals_the_scenario_rule_in_real_prometheus(tmp_path):
    scenario = shared_scenario("shop-checkout-oom")
    procs.backfill(scenario / "metrics.om", tmp_path / "tsdb")
    prom = procs.start_prometheus(tmp_path, tmp_path / "tsdb", None, None)
    try:
        rule = yaml.safe_load((scenario / "rules.yaml").read_text())["groups"][0]["rules"][0]
        one_hour = rule["expr"].split(" and ")[0].strip().rsplit(">", 1)[0].strip()
        end = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
        async with PrometheusClient(prom.url) as client:
            expected = (await client.instant(one_hour, end)).data[0].value
            ctx = InvestigationContext(namespace="shop", service="checkout", at=end, prometheus=client)
            [finding] = await SloBurnDetector().detect(ctx)
    finally:
        prom.stop()
    assert finding.facts["error_ratio"]["1h"] == pytest.approx(expected, rel=1e-9)
    assert finding.facts["burn_rate"]["1h"] == pytest.approx(expected / 0.001, rel=1e-9)
    assert expected > 0.0144  # the rule's page threshold: it did fire
    assert finding.severity.value == "page" and "1h/5m" in finding.facts["breached"]
