"""Prometheus rule file for one SLO: a recording rule per window, four burn alerts."""

from __future__ import annotations

import re

import yaml

from detectors.promql import window
from detectors.slo import ALL_WINDOWS, WORKBOOK_WINDOWS, Slo


def _record_name(slo: Slo, seconds: int) -> str:
    return f"slo:error_ratio:rate{window(seconds)}"


def rule_file(slo: Slo) -> dict:
    """The rule groups as a Python structure (dump with `render`)."""
    ident = {"slo": slo.name}
    if slo.service:
        ident["service"] = slo.service
    if slo.namespace:
        ident["namespace"] = slo.namespace
    selector = ",".join(f'{k}="{v}"' for k, v in ident.items())
    records = [{"record": _record_name(slo, s), "expr": slo.ratio_expr(s), "labels": dict(ident)}
               for s in ALL_WINDOWS]
    alerts = []
    for w in WORKBOOK_WINDOWS:
        factor = round(w.factor(slo.period), 4)
        threshold = f"{factor:g} * {slo.budget:.10g}"
        long_, short = window(w.long), window(w.short)
        alerts.append({
            "alert": "ErrorBudgetBurn",
            "expr": (f"{_record_name(slo, w.long)}{{{selector}}} > ({threshold})\n"
                     f"and\n{_record_name(slo, w.short)}{{{selector}}} > ({threshold})"),
            "for": "2m" if w.severity.value == "page" else "15m",
            "labels": {**ident, "severity": "page" if w.severity.value == "page" else "ticket",
                       "long_window": long_, "short_window": short},
            "annotations": {
                "summary": f"{slo.name} is burning its error budget {factor:g}x too fast",
                "description": (f"Error ratio over {long_} and {short} is above {factor:g}x the "
                                f"{slo.budget:.4%} budget of a {slo.objective:.4%} objective; at "
                                f"this rate {w.budget_share:.0%} of the budget is gone in {long_}."),
            },
        })
    name = re.sub(r"[^a-zA-Z0-9_-]", "-", slo.name)
    return {"groups": [
        {"name": f"slo-{name}-recordings", "interval": "30s", "rules": records},
        {"name": f"slo-{name}-alerts", "rules": alerts},
    ]}


class _Dumper(yaml.SafeDumper):
    """Multi-line PromQL as YAML block scalars, the way people write rule files."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render(slo: Slo) -> str:
    return yaml.dump(rule_file(slo), Dumper=_Dumper, sort_keys=False, width=120)
