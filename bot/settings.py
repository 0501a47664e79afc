"""Effective configuration: `ONCALL_*` environment variables and an optional `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from adapters.clusters import ClusterConfig


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONCALL_", env_file=".env", extra="ignore")

    prometheus_url: str = Field("http://127.0.0.1:9090", description="Prometheus (or Thanos/Mimir) HTTP API")
    prometheus_link_url: str | None = Field(None, description="Prometheus URL humans open, if different")
    alertmanager_url: str = Field("http://127.0.0.1:9093", description="Alertmanager, for silences and status")
    loki_url: str | None = Field(None, description="Loki HTTP API; pod logs are used when unset")
    kube_api_url: str | None = Field(None, description="Kubernetes API; else kubeconfig or in-cluster")
    kube_token: SecretStr | None = Field(None, description="bearer token for the Kubernetes API")
    grafana_url: str | None = Field(None, description="Grafana, for Explore deep links")
    grafana_prometheus_uid: str | None = Field(None, description="UID of Grafana's Prometheus datasource")
    grafana_loki_uid: str | None = Field(None, description="UID of Grafana's Loki datasource")
    grafana_org_id: int = Field(1, description="Grafana organisation of those datasources")
    prometheus_token: SecretStr | None = Field(None, description="bearer token for Prometheus")
    prometheus_username: str | None = Field(None, description="basic-auth user for Prometheus")
    prometheus_password: SecretStr | None = Field(None, description="basic-auth password for Prometheus")
    prometheus_tenant: str | None = Field(None, description="X-Scope-OrgID for Mimir/Cortex/Thanos")
    prometheus_ca_file: str | None = Field(None, description="CA bundle that signed Prometheus's TLS cert")
    loki_token: SecretStr | None = Field(None, description="bearer token for Loki")
    loki_username: str | None = Field(None, description="basic-auth user for Loki")
    loki_password: SecretStr | None = Field(None, description="basic-auth password for Loki")
    loki_tenant: str | None = Field(None, description="X-Scope-OrgID for a multi-tenant Loki")
    loki_ca_file: str | None = Field(None, description="CA bundle that signed Loki's TLS cert")
    loki_events_selector: str = Field('{job=~".*event.*"}',
                                      description="LogQL selector of the event exporter's lines")
    kube_ca_file: str | None = Field(None, description="CA bundle of ONCALL_KUBE_API_URL")
    kube_context: str | None = Field(None, description="kubeconfig context when no API URL is set")
    clusters_file: str = Field("policies/clusters.yaml", description="cluster name -> endpoints map")
    cluster_label: str = Field("cluster", description="alert label naming the cluster of a page")
    redact_emails: bool = Field(True, description="mask e-mail addresses in text that leaves the process")
    redact_ips: bool = Field(True, description="mask IP addresses in text that leaves the process")
    anonymise_names: bool = Field(False, description="replace pod/namespace/node names in LLM prompts")

    slack_bot_token: SecretStr | None = Field(None, description="xoxb- token; unset prints to the terminal")
    slack_signing_secret: SecretStr | None = Field(None, description="verifies Slack's requests")
    slack_api_url: str = Field("https://slack.com/api/", description="Slack Web API base URL")
    slack_channel: str = Field("#oncall", description="default channel for incident threads")

    database_url: str = Field("sqlite:///oncall.db", description="SQLAlchemy URL of the store")
    webhook_token: SecretStr | None = Field(None, description="bearer token Alertmanager must send")
    port: int = Field(8080, description="HTTP port of `oncall serve`")
    host: str = Field("0.0.0.0", description="HTTP bind address of `oncall serve`")

    worker_mode: Literal["process", "inline", "off"] = Field(
        "process", description="worker beside the HTTP process, in its event loop, or not at all")
    worker_poll: float = Field(0.25, gt=0, description="seconds between looks for work when not woken")
    worker_concurrency: int = Field(4, ge=1, description="alert groups investigated at once")
    policies_dir: Path = Field(Path(__file__).resolve().parents[1] / "policies",
                               description="directory of slo.yaml, hypotheses.yaml and other policies")
    slo_objective: float = Field(0.999, description="default availability objective for burn rates")
    investigation_deadline: float = Field(8.0, description="seconds an investigation may take")
    dedupe_window: float = Field(600.0, description="seconds in which an identical notification is a duplicate")
    max_body_bytes: int = Field(1024 * 1024, description="largest webhook body accepted")

    def default_cluster(self) -> "ClusterConfig":
        """The cluster these ONCALL_* settings describe (name "default")."""
        from adapters.clusters import ClusterConfig, Grafana, HttpEndpoint, KubeEndpoint, Secret

        def secret(value: SecretStr | None) -> Secret | None:
            return Secret(value=value) if value is not None else None

        return ClusterConfig(
            prometheus=HttpEndpoint(
                url=self.prometheus_url, link_url=self.prometheus_link_url,
                tenant=self.prometheus_tenant, bearer_token=secret(self.prometheus_token),
                username=self.prometheus_username, password=secret(self.prometheus_password),
                ca_file=self.prometheus_ca_file),
            loki=HttpEndpoint(
                url=self.loki_url, tenant=self.loki_tenant, bearer_token=secret(self.loki_token),
                username=self.loki_username, password=secret(self.loki_password),
                ca_file=self.loki_ca_file) if self.loki_url else None,
            kubernetes=KubeEndpoint(api_url=self.kube_api_url, token=secret(self.kube_token),
                                    ca_file=self.kube_ca_file, context=self.kube_context),
            alertmanager_url=self.alertmanager_url,
            grafana=Grafana(url=self.grafana_url, prometheus_uid=self.grafana_prometheus_uid,
                            loki_uid=self.grafana_loki_uid, org_id=self.grafana_org_id)
            if self.grafana_url else None,
        )

    def masked(self) -> dict[str, str]:
        """Every setting as text, secrets shown only as set/unset."""
        out: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else ""
            elif name == "database_url" and value and "@" in value:
                value = _mask_url_password(value)
            out[f"ONCALL_{name.upper()}"] = "" if value is None else str(value)
        return out


def _mask_url_password(url: str) -> str:
    scheme, rest = url.split("://", 1) if "://" in url else ("", url)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:********@{host}" if ":" in creds else url


@lru_cache
def get_settings() -> Settings:
    return Settings()
