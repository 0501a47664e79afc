"""Unit behaviour of the pieces that need no server."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from adapters.envelope import SourceResult, Status
from bot.cli import app
from bot.render import blockkit
from bot.settings import Settings
from detectors import Finding, Severity, Subject
from detectors.promql import quote, window
from detectors.slo import DAY, WORKBOOK_WINDOWS
from reasoning.report import Report
from reasoning.scope import scope_from_labels


@pytest.mark.parametrize("period_days, factors", [
    (30, [14.4, 6.0, 3.0, 1.0]),
    (28, [13.44, 5.6, 2.8, 0.933]),
])
def test_burn_rate_factors_follow_the_workbook(period_days, factors):
    got = [w.factor(period_days * DAY) for w in WORKBOOK_WINDOWS]
    assert got == pytest.approx(factors, abs=5e-4)


def test_promql_quoting_and_windows():
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    assert [window(s) for s in (300, 3600, 86400, 90)] == ["5m", "1h", "1d", "90s"]


@pytest.mark.parametrize("labels, expected", [
    ({"namespace": "shop", "service": "checkout"}, ("shop", "checkout", None)),
    ({"namespace": "shop", "deployment": "api", "service": "kube-state-metrics",
      "job": "kube-state-metrics"}, ("shop", "api", "Deployment shop/api")),
    ({"namespace": "shop", "pod": "checkout-5255lpzzwd-gqrld"}, ("shop", "checkout", "Deployment shop/checkout")),
    ({"exported_namespace": "db", "statefulset": "pg"}, ("db", "pg", "StatefulSet db/pg")),
    ({"alertname": "Watchdog"}, (None, None, None)),
])
def test_scope_from_alert_labels(labels, expected):
    ns, service, workload = scope_from_labels(labels)
    assert (ns, service, str(workload) if workload else None) == expected


def _finding(i: int, details: int = 3) -> Finding:
    ev = SourceResult(source="prometheus", status=Status.OK, query=f"up{{job=\"j{i}\"}}",
                      link=f"http://prom/graph?g0.expr=up{i}")
    return Finding(detector="test", subject=Subject(namespace="ns", kind="Deployment", name=f"d{i}"),
                   severity=Severity.WARNING, score=0.5, window="1h", title=f"finding number {i}",
                   details=[f"detail {i}.{j} " + "x" * 200 for j in range(details)], evidence=[ev])


def test_long_reports_are_split_within_slack_limits_and_lose_nothing():
    findings = [_finding(i) for i in range(40)] + [_finding(99, details=40)]  # one finding > 3000 chars
    report = Report(title="T" * 200, group_key="g", status="firing", severity="page",
                    tldr=["a", "b"], findings=findings, generated_at=datetime.now(timezone.utc))
    messages = blockkit.report_messages(report)
    assert len(messages) > 1
    texts = []
    for msg in messages:
        assert len(msg["blocks"]) <= blockkit.MAX_BLOCKS
        for block in msg["blocks"]:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= blockkit.MAX_TEXT
                texts.append(block["text"]["text"])
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= 150
    joined = "\n".join(texts)
    for f in findings:
        assert f.title in joined
        assert all(d in joined for d in f.details)
    assert "T" * 200 in joined  # the long title survives in a section


def test_split_text_keeps_every_character():
    text = "\n".join(["y" * 7000, "short", "z" * 2999])
    pieces = blockkit.split_text(text)
    assert all(len(p) <= 3000 for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_config_show_masks_secrets(monkeypatch):
    monkeypatch.setenv("ONCALL_SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("ONCALL_WEBHOOK_TOKEN", "hook-secret")
    monkeypatch.setenv("ONCALL_DATABASE_URL", "postgresql+psycopg://bot:pg-secret@db:5432/oncall")
    monkeypatch.setenv("ONCALL_PORT", "9999")
    result = CliRunner().invoke(app, ["config", "show"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for secret in ("xoxb-very-secret", "hook-secret", "pg-secret"):
        assert secret not in result.output
    assert "9999" in result.output and "********" in result.output
    assert "ONCALL_PROMETHEUS_URL" in result.output


def test_settings_defaults():
    s = Settings(_env_file=None)
    assert s.port == 8080 and s.database_url.startswith("sqlite")
    assert s.slack_api_url == "https://slack.com/api/"


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800", "\\uDFFF"])
def test_unstorable_escapes_become_replacement_characters_in_keys_and_values(escape):
    from bot.webhook import parse_webhook

    alert = ('{"status":"firing","labels":{"alertname":"A","k%s":"v%s"},"startsAt":'
             '"2026-11-26T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"f1"}'
             % (escape, escape))
    body = ('{"version":"4","groupKey":"g","status":"firing","receiver":"r","groupLabels":{},'
            '"commonLabels":{},"commonAnnotations":{"summary":"x%s"},"externalURL":"",'
            '"alerts":[%s]}' % (escape, alert)).encode()
    hook = parse_webhook(body)
    assert hook.alerts[0].labels == {"alertname": "A", "k\ufffd": "v\ufffd"}
    assert hook.commonAnnotations["summary"] == "x\ufffd"
    assert parse_webhook(body.replace(escape.encode(), b"\\u00e9")).commonAnnotations[
        "summary"] == "x\u00e9"  # other escapes decode as they are
