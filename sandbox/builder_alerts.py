"""rules.yaml and the Alertmanager webhook body of a built scenario.

The page must be one Prometheus would really have sent: the rule is evaluated
here over the generated samples with Prometheus' own rate() extrapolation and
histogram_quantile(), and ``startsAt`` is the evaluation at which the alert
turned from pending to firing. Fingerprints use Prometheus' label hashing.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import quote_plus

import yaml

from sandbox.builder_spec import ScenarioSpec
from sandbox.scenario import format_rfc3339

Labels = dict[str, str]
Series = tuple[Labels, list[tuple[float, float]]]
BURN_THRESHOLD = 0.0144
LATENCY_THRESHOLD = 0.5
EVAL_INTERVAL = 30.0
ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass
class Rule:
    alert: str
    expr: str
    for_s: int
    labels: Labels
    annotations: Labels
    group_by: tuple[str, ...]
    route: str


def burn_rule(spec: ScenarioSpec) -> Rule:
    ns, svc = spec.namespace, spec.paged_service
    def part(window: str) -> str:
        sel = f'namespace="{ns}",service="{svc}"'
        return (f"(\n  sum by (namespace, service) (rate(http_requests_total"
                f'{{code=~"5..",{sel}}}[{window}]))\n'
                f"  / sum by (namespace, service) (rate(http_requests_total{{{sel}}}[{window}]))\n"
                f") > {BURN_THRESHOLD}")
    return Rule(
        alert="ErrorBudgetBurn", expr=f"{part('1h')}\nand\n{part('5m')}\n", for_s=120,
        labels={"severity": "page", "window": "1h", "slo": f"{svc}-availability"},
        annotations={
            "summary": f"{svc} is burning its 99.9% availability error budget 14.4x too fast",
            "description": "{{ $labels.service }} in {{ $labels.namespace }}: 5xx ratio over 1h "
                           "and 5m is above 1.44% (burn rate 14.4 for a 30-day 99.9% SLO).",
            "runbook_url": f"https://runbooks.{spec.domain}/{ns}/{svc}#error-budget-burn",
        },
        group_by=("alertname", "service"), route='{severity="page"}')


def latency_rule(spec: ScenarioSpec) -> Rule:
    ns, svc = spec.namespace, spec.paged_service
    return Rule(
        alert="HighRequestLatency",
        expr=("histogram_quantile(0.99,\n  sum by (le, namespace, service) (rate("
              f'http_request_duration_seconds_bucket{{namespace="{ns}",service="{svc}"}}[5m]))\n'
              f") > {LATENCY_THRESHOLD}\n"),
        for_s=60, labels={"severity": "warning"},
        annotations={
            "summary": f"p99 latency of {svc} is above {int(LATENCY_THRESHOLD * 1000)}ms",
            "description": "p99 latency of {{ $labels.service }} in {{ $labels.namespace }} is "
                           "{{ $value | humanizeDuration }}.",
            "runbook_url": f"https://runbooks.{spec.domain}/{ns}/{svc}#latency",
        },
        group_by=("alertname", "namespace", "service"), route='{severity="warning"}')


class _Literal(str):
    pass


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


yaml.SafeDumper.add_representer(_Literal, _literal)


def rules_yaml(spec: ScenarioSpec, paging: list[Rule]) -> str:
    """The rule group behind the page (as in the shared scenarios)."""
    rules = []
    for rule in paging:
        rules.append({"alert": rule.alert, "expr": _Literal(rule.expr),
                      "for": f"{rule.for_s // 60}m", "labels": rule.labels,
                      "annotations": rule.annotations})
    prefix = "slo" if paging and paging[0].alert == "ErrorBudgetBurn" else "latency"
    doc = {"groups": [{"name": f"{prefix}-{spec.paged_service}", "rules": rules}]}
    return yaml.safe_dump(doc, sort_keys=False, width=140)


# ---- PromQL pieces, evaluated the way Prometheus 2.x does ----

def increase(samples: list[tuple[float, float]], times: list[float], at: float,
             window: float) -> float | None:
    """rate()*window over [at-window, at] with counter resets and extrapolation."""
    lo, hi = bisect_left(times, at - window), bisect_right(times, at)
    pts = samples[lo:hi]
    if len(pts) < 2:
        return None
    result, last = pts[-1][1] - pts[0][1], 0.0
    for _, v in pts:
        if v < last:
            result += last
        last = v
    sampled = pts[-1][0] - pts[0][0]
    avg = sampled / (len(pts) - 1)
    to_start, to_end = pts[0][0] - (at - window), at - pts[-1][0]
    if result > 0 and pts[0][1] >= 0:
        to_start = min(to_start, sampled * pts[0][1] / result)
    span = sampled + (to_start if to_start < avg * 1.1 else avg / 2)
    span += to_end if to_end < avg * 1.1 else avg / 2
    return result * span / sampled


def _sum_increase(series: list[Series], at: float, window: float) -> float | None:
    vals = [increase(s, [t for t, _ in s], at, window) for _, s in series]
    found = [v for v in vals if v is not None]
    return sum(found) if found else None


def error_ratio(series: list[Series], at: float, window: float) -> float | None:
    """sum(rate(5xx)) / sum(rate(all)) of http_requests_total series."""
    total = _sum_increase(series, at, window)
    bad = _sum_increase([s for s in series if s[0].get("code", "").startswith("5")], at, window)
    if not total or bad is None:
        return None
    return bad / total


def quantile(q: float, buckets: list[Series], at: float, window: float) -> float | None:
    """histogram_quantile(q, sum by (le) (rate(bucket[window])))."""
    rates: dict[float, float] = {}
    for labels, s in buckets:
        v = increase(s, [t for t, _ in s], at, window)
        if v is not None:
            le = float("inf") if labels["le"] == "+Inf" else float(labels["le"])
            rates[le] = rates.get(le, 0.0) + v
    bounds = sorted(rates)
    if not bounds or bounds[-1] != float("inf") or rates[bounds[-1]] <= 0:
        return None
    rank = q * rates[bounds[-1]]
    b = next(i for i, le in enumerate(bounds) if rates[le] >= rank)
    if b == len(bounds) - 1:
        return bounds[-2] if len(bounds) > 1 else None
    start, below = (0.0, 0.0) if b == 0 else (bounds[b - 1], rates[bounds[b - 1]])
    count = rates[bounds[b]] - below
    return start + (bounds[b] - start) * ((rank - below) / count if count else 0.0)


def fired_at(condition: Callable[[float], float | None], start: float, end: float,
             for_s: float, phase: float) -> tuple[float, float] | None:
    """(FiredAt, value) of an alert still firing at ``end``, evaluating every 30 s."""
    evals, t = [], end - phase
    while t >= start:
        evals.append(t)
        t -= EVAL_INTERVAL
    evals.reverse()
    active: float | None = None
    result: tuple[float, float] | None = None
    for t in evals:
        value = condition(t)
        if value is None:
            active, result = None, None
            continue
        active = t if active is None else active
        if result is None and t - active >= for_s:
            result = (t, value)
    return result if active is not None else None


def fingerprint(labels: Labels) -> str:
    """Prometheus model.LabelSet.Fingerprint(): FNV-1a over sorted name/value pairs."""
    h = 0xCBF29CE484222325
    for key in sorted(labels):
        for part in (key.encode(), b"\xff", labels[key].encode(), b"\xff"):
            for byte in part:
                h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def humanize_duration(v: float) -> str:
    if v == 0:
        return "0s"
    return f"{v * 1000:.4g}ms" if abs(v) < 1 else f"{v:.4g}s"


def _render(template: str, labels: Labels, value: float) -> str:
    out = re.sub(r"\{\{\s*\$value\s*\|\s*humanizeDuration\s*\}\}",
                 lambda _: humanize_duration(value), template)
    out = re.sub(r"\{\{\s*\$value\s*\}\}", lambda _: f"{value:g}", out)
    return re.sub(r"\{\{\s*\$labels\.(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), out)


def webhook_body(spec: ScenarioSpec, rule: Rule, fired: float, value: float) -> dict[str, Any]:
    """The JSON Alertmanager 0.25 posts to a webhook receiver for one firing alert."""
    base = f"{spec.cluster}.{spec.domain}"
    labels = {"alertname": rule.alert, "namespace": spec.namespace,
              "service": spec.paged_service, **rule.labels, "cluster": spec.cluster,
              "prometheus": "monitoring/kube-prometheus-stack-prometheus"}
    labels = dict(sorted(labels.items()))
    annotations = dict(sorted((k, _render(v, labels, value))
                              for k, v in rule.annotations.items()))
    compact = re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", " ".join(rule.expr.split())))
    url = f"https://prometheus.{base}/graph?g0.expr={quote_plus(compact)}&g0.tab=1"
    starts = format_rfc3339(datetime.fromtimestamp(fired, timezone.utc), 3)
    group = {k: labels[k] for k in rule.group_by}
    key_labels = ", ".join(f'{k}="{v}"' for k, v in group.items())
    return {
        "receiver": "oncall-copilot", "status": "firing",
        "alerts": [{"status": "firing", "labels": labels, "annotations": annotations,
                    "startsAt": starts, "endsAt": ZERO_TIME, "generatorURL": url,
                    "fingerprint": fingerprint(labels)}],
        "groupLabels": group, "commonLabels": labels, "commonAnnotations": annotations,
        "externalURL": f"https://alertmanager.{base}", "version": "4",
        "groupKey": f"{{}}/{rule.route}:{{{key_labels}}}", "truncatedAlerts": 0,
    }
