"""The page of a built scenario: which rule fires, evaluated over the generated samples.

Service pages (ErrorBudgetBurn, HighRequestLatency) live in builder_alerts; this module
adds the kube-prometheus-stack alerts an on-call engineer is paged by for cluster-level
trouble (crash loops, stuck rollouts, full volumes, ...), with their upstream expressions
(minus the ``job`` matchers the recorded series do not carry) and annotations.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import quote_plus

import yaml

from sandbox.builder_alerts import (
    ZERO_TIME, Labels, Rule, Series, _Literal, fingerprint, fired_at, humanize_duration,
)
from sandbox.builder_spec import ScenarioSpec
from sandbox.scenario import format_rfc3339

_RB = "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/"


@dataclass
class KubePage:
    """A kube-prometheus alert: its rule, the series it looks at and how a value fires."""

    rule: Rule
    group: str
    key: tuple[str, ...]  # labels identifying one alert instance
    test: Callable[[dict[str, Series], float], float | None]
    metrics: tuple[str, ...]
    match: tuple[tuple[str, str], ...] = ()  # label matchers of the expression


def _at(series: Series, t: float, lookback: float = 300.0) -> float | None:
    """Instant-vector value: the newest sample at or before t within the lookback."""
    samples = series[1]
    i = bisect_right(samples, (t, float("inf"))) - 1
    return samples[i][1] if i >= 0 and t - samples[i][0] < lookback else None


def _window(series: Series, t: float, width: float) -> list[float]:
    """Sample values in (t - width, t], as a range vector selects them."""
    samples = series[1]
    lo = bisect_right(samples, (t - width, float("inf")))
    return [v for _, v in samples[lo:bisect_right(samples, (t, float("inf")))]]


def _rule(alert: str, expr: str, for_s: int, severity: str, summary: str, description: str,
          anchor: str) -> Rule:
    return Rule(alert=alert, expr=expr, for_s=for_s, labels={"severity": severity},
                annotations={"description": description, "runbook_url": _RB + anchor,
                             "summary": summary},
                group_by=("alertname", "namespace"), route=f'{{severity="{severity}"}}')


def kube_page(kind: str, ns: str) -> KubePage:
    """The kube-prometheus alert called ``kind`` for namespace ``ns``."""
    sel = f'namespace="{ns}"'
    if kind == "crashloop":
        rule = _rule(
            "KubePodCrashLooping",
            f'max_over_time(kube_pod_container_status_waiting_reason{{reason="CrashLoopBackOff",'
            f"{sel}}}[5m]) >= 1\n", 900, "warning", "Pod is crash looping.",
            'Pod {{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is in '
            'waiting state (reason: "CrashLoopBackOff").', "kubepodcrashlooping")

        def crash(s: dict[str, Series], t: float) -> float | None:
            vals = _window(s["kube_pod_container_status_waiting_reason"], t, 300.0)
            return max(vals) if vals and max(vals) >= 1 else None
        return KubePage(rule, "kubernetes-apps", ("namespace", "pod", "container", "reason"),
                        crash, ("kube_pod_container_status_waiting_reason",),
                        (("reason", "CrashLoopBackOff"),))
    if kind == "rollout-stuck":
        rule = _rule(
            "KubeDeploymentRolloutStuck",
            f'kube_deployment_status_condition{{condition="Progressing",status="false",{sel}}}'
            " != 0\n", 900, "warning", "Deployment rollout is not progressing.",
            "Rollout of deployment {{ $labels.namespace }}/{{ $labels.deployment }} is not "
            "progressing for longer than 15 minutes.", "kubedeploymentrolloutstuck")

        def stuck(s: dict[str, Series], t: float) -> float | None:
            v = _at(s["kube_deployment_status_condition"], t)
            return v if v else None
        return KubePage(rule, "kubernetes-apps", ("namespace", "deployment", "condition",
                                                  "status"), stuck,
                        ("kube_deployment_status_condition",),
                        (("condition", "Progressing"), ("status", "false")))
    if kind == "replicas-mismatch":
        rule = _rule(
            "KubeDeploymentReplicasMismatch",
            f"(\n  kube_deployment_spec_replicas{{{sel}}}\n    >\n  kube_deployment_status_"
            f"replicas_available{{{sel}}}\n) and (\n  changes(kube_deployment_status_replicas_"
            f"updated{{{sel}}}[10m])\n    ==\n  0\n)\n", 900, "warning",
            "Deployment has not matched the expected number of replicas.",
            "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has not matched the "
            "expected number of replicas for longer than 15 minutes.",
            "kubedeploymentreplicasmismatch")

        def mismatch(s: dict[str, Series], t: float) -> float | None:
            spec = _at(s["kube_deployment_spec_replicas"], t)
            avail = _at(s["kube_deployment_status_replicas_available"], t)
            upd = _window(s["kube_deployment_status_replicas_updated"], t, 600.0)
            changes = sum(1 for a, b in zip(upd, upd[1:]) if a != b)
            ok = spec is not None and avail is not None and spec > avail and upd
            return spec if ok and changes == 0 else None
        return KubePage(rule, "kubernetes-apps", ("namespace", "deployment"), mismatch,
                        ("kube_deployment_spec_replicas",
                         "kube_deployment_status_replicas_available",
                         "kube_deployment_status_replicas_updated"))
    if kind == "pv-filling":
        rule = _rule(
            "KubePersistentVolumeFillingUp",
            f"(\n  kubelet_volume_stats_available_bytes{{{sel}}}\n    /\n  kubelet_volume_"
            f"stats_capacity_bytes{{{sel}}}\n) < 0.03\nand\nkubelet_volume_stats_used_bytes"
            f"{{{sel}}} > 0\n", 60, "critical", "PersistentVolume is filling up.",
            "The PersistentVolume claimed by {{ $labels.persistentvolumeclaim }} in Namespace "
            "{{ $labels.namespace }} is only {{ $value | humanizePercentage }} free.",
            "kubepersistentvolumefillingup")

        def full(s: dict[str, Series], t: float) -> float | None:
            avail = _at(s["kubelet_volume_stats_available_bytes"], t)
            cap = _at(s["kubelet_volume_stats_capacity_bytes"], t)
            used = _at(s["kubelet_volume_stats_used_bytes"], t)
            if avail is None or not cap or not used:
                return None
            return avail / cap if avail / cap < 0.03 else None
        return KubePage(rule, "kubernetes-storage",
                        ("namespace", "persistentvolumeclaim", "job", "instance", "node"), full,
                        ("kubelet_volume_stats_available_bytes",
                         "kubelet_volume_stats_capacity_bytes", "kubelet_volume_stats_used_bytes"))
    if kind == "hpa-maxed":
        rule = _rule(
            "KubeHpaMaxedOut",
            f"kube_horizontalpodautoscaler_status_current_replicas{{{sel}}}\n  ==\n"
            f"kube_horizontalpodautoscaler_spec_max_replicas{{{sel}}}\n", 900, "warning",
            "HPA is running at max replicas",
            "HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has been running "
            "at max replicas for longer than 15 minutes.", "kubehpamaxedout")

        def maxed(s: dict[str, Series], t: float) -> float | None:
            cur = _at(s["kube_horizontalpodautoscaler_status_current_replicas"], t)
            top = _at(s["kube_horizontalpodautoscaler_spec_max_replicas"], t)
            return cur if cur is not None and cur == top else None
        return KubePage(rule, "kubernetes-apps", ("namespace", "horizontalpodautoscaler"), maxed,
                        ("kube_horizontalpodautoscaler_status_current_replicas",
                         "kube_horizontalpodautoscaler_spec_max_replicas"))
    raise KeyError(f"unknown page {kind!r}")


def evaluate(page: KubePage, series: list[tuple[str, Series]], start: float, end: float,
             phase: float) -> list[tuple[Labels, float, float]]:
    """(alert labels, FiredAt, value) of every instance still firing at ``end``."""
    groups: dict[tuple[str, ...], dict[str, Series]] = {}
    for metric, (labels, samples) in series:
        if metric not in page.metrics or any(labels.get(k) != v for k, v in page.match):
            continue
        ident = tuple(labels.get(k, "") for k in page.key)
        groups.setdefault(ident, {})[metric] = (labels, samples)
    out = []
    for ident, by_metric in groups.items():
        if set(by_metric) != set(page.metrics):
            continue
        labels = {k: v for k, v in zip(page.key, ident) if v}
        result = fired_at(lambda t: page.test(by_metric, t), start, end, page.rule.for_s, phase)
        if result is not None:
            out.append((labels, *result))
    return sorted(out, key=lambda x: (x[1], sorted(x[0].items())))


def _render(template: str, labels: Labels, value: float) -> str:
    out = re.sub(r"\{\{\s*\$value\s*\|\s*humanizePercentage\s*\}\}",
                 lambda _: f"{value * 100:.4g}%", template)
    out = re.sub(r"\{\{\s*\$value\s*\|\s*humanizeDuration\s*\}\}",
                 lambda _: humanize_duration(value), out)
    return re.sub(r"\{\{\s*\$labels\.(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), out)


def kube_webhook(spec: ScenarioSpec, rule: Rule,
                 firing: list[tuple[Labels, float, float]]) -> dict[str, Any]:
    """Alertmanager 0.25's webhook body for the firing instances of one kube alert."""
    base = f"{spec.cluster}.{spec.domain}"
    compact = re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", " ".join(rule.expr.split())))
    url = f"https://prometheus.{base}/graph?g0.expr={quote_plus(compact)}&g0.tab=1"
    alerts = []
    for series_labels, fired, value in firing:
        labels = dict(sorted({"alertname": rule.alert, **series_labels, **rule.labels,
                              "cluster": spec.cluster,
                              "prometheus": "monitoring/kube-prometheus-stack-prometheus"}
                             .items()))
        notes = dict(sorted((k, _render(v, labels, value)) for k, v in rule.annotations.items()))
        alerts.append({"status": "firing", "labels": labels, "annotations": notes,
                       "startsAt": format_rfc3339(datetime.fromtimestamp(fired, timezone.utc), 3),
                       "endsAt": ZERO_TIME, "generatorURL": url,
                       "fingerprint": fingerprint(labels)})
    common = dict(alerts[0]["labels"])
    notes0 = dict(alerts[0]["annotations"])
    for a in alerts[1:]:
        common = {k: v for k, v in common.items() if a["labels"].get(k) == v}
        notes0 = {k: v for k, v in notes0.items() if a["annotations"].get(k) == v}
    group = {k: common[k] for k in rule.group_by if k in common}
    key_labels = ", ".join(f'{k}="{v}"' for k, v in group.items())
    return {"receiver": "oncall-copilot", "status": "firing", "alerts": alerts,
            "groupLabels": group, "commonLabels": common, "commonAnnotations": notes0,
            "externalURL": f"https://alertmanager.{base}", "version": "4",
            "groupKey": f"{{}}/{rule.route}:{{{key_labels}}}", "truncatedAlerts": 0}


def kube_rules_yaml(page: KubePage) -> str:
    rule = page.rule
    doc = {"groups": [{"name": page.group, "rules": [{
        "alert": rule.alert, "expr": _Literal(rule.expr), "for": f"{rule.for_s // 60}m",
        "labels": rule.labels, "annotations": rule.annotations}]}]}
    return yaml.safe_dump(doc, sort_keys=False, width=140)

