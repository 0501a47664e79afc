"""The read-only clients an on-demand workflow uses, opened from one cluster's settings.

The CLI opens them once per command (from `ONCALL_*` or a replayed scenario);
chat hands a workflow only the cluster's configuration, so a workflow given no
`Sources` opens its own from `cluster` and closes them when done.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator

from adapters.alertmanager import AlertmanagerClient
from adapters.clusters import ClusterConfig
from adapters.event_sources import DEFAULT_SELECTOR, EventReader
from adapters.kube import KubeClient
from adapters.logs import LogReader
from adapters.loki import LokiClient
from adapters.prometheus import PrometheusClient


@dataclass
class Sources:
    """Clients of one cluster; any but Prometheus may be missing."""

    prometheus: PrometheusClient
    kube: KubeClient | None = None
    loki: LokiClient | None = None
    alertmanager: AlertmanagerClient | None = None
    events_selector: str = DEFAULT_SELECTOR
    timeout: float = 10.0

    @property
    def logs(self) -> LogReader:
        return LogReader(self.loki, self.kube)

    @property
    def events(self) -> EventReader:
        return EventReader(self.kube, self.loki, loki_selector=self.events_selector)


@asynccontextmanager
async def open_sources(cluster: ClusterConfig, *, timeout: float = 10.0,
                       events_selector: str | None = None) -> AsyncIterator[Sources]:
    """Clients for `cluster`, closed on exit. Without a Prometheus URL this raises
    ValueError: every workflow needs it."""
    if cluster.prometheus is None:
        raise ValueError(f"cluster {cluster.name!r} has no Prometheus URL")
    prom = cluster.prometheus
    prometheus = PrometheusClient(prom.url, link_url=prom.link_url, auth=prom.auth(),
                                  timeout=timeout)
    loki = LokiClient(cluster.loki.url, auth=cluster.loki.auth(), timeout=timeout,
                      grafana_url=cluster.grafana.url if cluster.grafana else None,
                      datasource_uid=cluster.grafana.loki_uid if cluster.grafana else None
                      ) if cluster.loki and cluster.loki.url else None
    alertmanager = (AlertmanagerClient(cluster.alertmanager_url, timeout=timeout)
                    if cluster.alertmanager_url else None)
    kube = KubeClient.connect(cluster.kubernetes.target(), timeout=timeout)
    try:
        yield Sources(prometheus, kube, loki, alertmanager,
                      events_selector=events_selector or DEFAULT_SELECTOR, timeout=timeout)
    finally:
        kube.close()
        for client in (prometheus, loki, alertmanager):
            if client is not None:
                await client.aclose()


@asynccontextmanager
async def given_or_opened(sources: Sources | None,
                          cluster: ClusterConfig | None) -> AsyncIterator[Sources]:
    """The caller's sources, or ones opened from `cluster` for this call only."""
    if sources is not None:
        yield sources
        return
    if cluster is None:
        raise ValueError("no data sources: give `sources` or a `cluster` configuration")
    async with open_sources(cluster) as opened:
        yield opened
