"""Deep links for an incident: Prometheus, Grafana Explore (metrics and Loki logs),
and a prefilled Alertmanager silence. Plain URLs, opened by the user's browser:
no relay, nothing leaves the cluster's own tools.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from adapters.links import alertmanager_silence, grafana_explore, prometheus_graph
from bot.settings import Settings
from reasoning.report import Report
from reasoning.scope import scope_from_labels

# Labels that change between firings of the same problem: a silence on them would not hold.
VOLATILE = {"instance", "pod", "pod_name", "container_id", "endpoint", "prometheus", "uid", "window"}


def _selector(labels: dict[str, str], keys: tuple[str, ...]) -> str:
    return ",".join(f'{k}="{labels[k]}"' for k in keys if labels.get(k))


def incident_links(settings: Settings, labels: dict[str, str], report: Report | None = None, *,
                   alertmanager_ui: str = "") -> list[tuple[str, str]]:
    """(label, url) pairs, most useful first; only links whose target is configured."""
    at = report.generated_at if report else datetime.now(timezone.utc)
    start, end = at - timedelta(hours=1), at + timedelta(minutes=30)
    alert = _selector(labels, ("alertname", "namespace", "service"))
    alerts_expr = f"ALERTS{{{alert}}}" if alert else "ALERTS"
    evidence = next((ev.query for f in (report.findings if report else []) for ev in f.evidence
                     if ev.source == "prometheus" and ev.query), None)
    links: list[tuple[str, str]] = []
    prom = settings.prometheus_link_url or settings.prometheus_url
    if prom.startswith("http"):
        links.append(("Prometheus", prometheus_graph(prom, evidence or alerts_expr, end=at)))
    if settings.grafana_url and settings.grafana_prometheus_uid:
        links.append(("Grafana Explore", grafana_explore(
            settings.grafana_url, settings.grafana_prometheus_uid, "prometheus", evidence or alerts_expr,
            start=start, end=end, org_id=settings.grafana_org_id)))
    namespace, service, workload = scope_from_labels(labels)
    if settings.grafana_url and settings.grafana_loki_uid and namespace:
        stream = {"namespace": namespace}
        if workload is not None and workload.kind != "Pod":
            stream["app"] = service or workload.name
        logql = "{" + _selector(stream, tuple(stream)) + '} |~ "(?i)error|exception|fatal"'
        links.append(("Logs in Loki", grafana_explore(
            settings.grafana_url, settings.grafana_loki_uid, "loki", logql, start=start, end=end,
            org_id=settings.grafana_org_id)))
    am = alertmanager_ui if alertmanager_ui.startswith("http") else settings.alertmanager_url
    keep = {k: v for k, v in labels.items() if k not in VOLATILE}
    if am.startswith("http") and keep:
        links.append(("Silence in Alertmanager", alertmanager_silence(am, keep)))
    return links
