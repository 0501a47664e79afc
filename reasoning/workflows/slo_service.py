"""`/oncall slo <service>`: slo_prom for a service, its PromQL taken from policies/slo.yaml.

People ask by service name; slo_prom wants an error and a total expression.
This picks the SLO the policy file gives the service (by SLO name, or by
service and namespace), else the convention every page uses (detectors.slo.
default_slo: HTTP 5xx over all requests), and runs slo_prom with its
objective and period.
"""

from __future__ import annotations

from datetime import datetime

from adapters.clusters import ClusterConfig
from adapters.prometheus import PrometheusClient
from detectors.promql import window as promql_window
from detectors.slo import Slo, default_slo, find_slo
from reasoning.workflows.slo_prom import SloPromResult, slo_prom


def pick_slo(slos: list[Slo], service: str, namespace: str | None,
             objective: float = 0.999) -> Slo:
    """The policy's SLO named `service` or covering it; else the HTTP 5xx convention."""
    service = service.strip()
    if not service:
        raise ValueError("give a service name")
    named = next((s for s in slos if s.name == service), None)
    if named is not None:
        return named
    if namespace is not None:
        found = find_slo(slos, namespace, service)
    else:  # no namespace given: the one SLO for that service, wherever it lives
        found = next((s for s in slos if s.service == service), None)
    return found or default_slo(namespace, service, objective)


async def slo_status(service: str, slos: list[Slo] | None = None, namespace: str | None = None,
                     window_minutes: int = 5, slo_objective: float = 0.999, *,
                     prometheus: PrometheusClient | None = None,
                     cluster: ClusterConfig | None = None,
                     at: datetime | None = None) -> SloPromResult:
    """Live error ratio, burn rate and multi-window verdict of `service`; ValueError on bad input."""
    slo = pick_slo(slos or [], service, namespace, slo_objective)
    return await slo_prom(slo.errors, slo.total, window_minutes, slo.objective,
                          promql_window(slo.period), prometheus=prometheus, cluster=cluster, at=at)
