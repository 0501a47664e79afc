"""Effective configuration: `ONCALL_*` environment variables and an optional `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from adapters.clusters import ClusterConfig
    from reasoning.llm.config import LLMConfig


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

    anthropic_api_key: SecretStr | None = Field(None, description="enables the optional LLM step; unset: rules only")
    anthropic_base_url: str | None = Field(None, description="Messages API base URL (a proxy or gateway)")
    anthropic_model: str = Field("claude-sonnet-4-6", description="model of the LLM step")
    llm_max_steps: int = Field(6, ge=1, description="model calls per investigation")
    llm_max_tokens: int = Field(120_000, ge=2_000, description="input+output tokens per investigation")
    llm_timeout: float = Field(45.0, gt=0, description="seconds the LLM step may take per investigation")
    llm_max_cost_usd: float = Field(0.5, gt=0, description="estimated dollars per investigation")

    slack_bot_token: SecretStr | None = Field(None, description="xoxb- token; unset prints to the terminal")
    slack_signing_secret: SecretStr | None = Field(None, description="verifies Slack's requests")
    slack_api_url: str = Field("https://slack.com/api/", description="Slack Web API base URL")
    slack_channel: str = Field("#oncall", description="default channel for incident threads")
    slack_app_token: SecretStr | None = Field(None, description="xapp- token: Socket Mode instead of HTTP")
    ownership_file: Path = Field(Path(__file__).resolve().parents[1] / "policies" / "ownership.yaml",
                                 description="namespace/service -> team, channels, approvers")
    teams_app_id: str | None = Field(None, description="Teams bot (Azure) app id; unset disables Teams")
    teams_app_password: SecretStr | None = Field(None, description="Teams bot app password (client secret)")
    teams_tenant_id: str | None = Field(None, description="Entra tenant of a single-tenant Teams bot")
    teams_service_url: str = Field("https://smba.trafficmanager.net/teams/",
                                   description="Bot Connector URL for proactive Teams messages")
    teams_conversation_id: str | None = Field(None, description="Teams channel conversation for pages")
    teams_stakeholder_conversation_id: str | None = Field(
        None, description="Teams conversation approved status updates go to")

    database_url: str = Field("sqlite:///oncall.db", description="SQLAlchemy URL of the store")
    webhook_token: SecretStr | None = Field(None, description="bearer token Alertmanager must send")
    port: int = Field(8080, description="HTTP port of `oncall serve`")
    host: str = Field("0.0.0.0", description="HTTP bind address of `oncall serve`")

    worker_mode: Literal["inline", "process", "off"] = Field(
        "inline", description="worker in the HTTP process's event loop, in a child process "
        "beside it, or not at all")
    worker_poll: float = Field(0.25, gt=0, description="seconds between looks for work when not woken")
    worker_concurrency: int = Field(4, ge=1, description="alert groups investigated at once")
    worker_lease: float = Field(30.0, gt=0, description="seconds a claimed notification stays "
                                "claimed without renewal (a dead worker's work is taken over after)")
    worker_max_attempts: int = Field(5, ge=1, description="tries before a notification is dead-lettered")
    chat_rate_per_channel: float = Field(1.0, ge=0, description="chat messages per second per "
                                         "channel, shared by all replicas (0: no limit)")
    storm_new_groups: int = Field(10, ge=0, description="new threads a channel gets per storm "
                                  "window; beyond, new groups go into a roll-up (0: never roll up)")
    storm_window: float = Field(60.0, gt=0, description="seconds over which new threads are counted")
    rollup_delay: float = Field(10.0, ge=0, description="seconds a roll-up collects groups before it posts")
    log_format: Literal["text", "json"] = Field("text", description="json: one object per line "
                                                "with the incident id")
    policies_dir: Path = Field(Path(__file__).resolve().parents[1] / "policies",
                               description="directory of slo.yaml, hypotheses.yaml and other policies")
    runbooks_enabled: bool = Field(True, description="quote matching runbooks in reports")
    runbooks_dirs: str = Field("", description="your runbook directories (':'- or ','-separated), "
                               "searched beside the shipped runbooks/")
    runbooks_index_dir: Path = Field(Path(".oncall/runbook-index"),
                                     description="where the runbook search index persists")
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

    def llm_config(self) -> "LLMConfig | None":
        """The LLM step's settings, or None without a key (then rules alone answer)."""
        key = self.anthropic_api_key.get_secret_value() if self.anthropic_api_key else ""
        if not key:
            return None
        from reasoning.llm.config import LLMConfig

        return LLMConfig(api_key=key, base_url=self.anthropic_base_url, model=self.anthropic_model,
                         max_steps=self.llm_max_steps, max_tokens=self.llm_max_tokens,
                         timeout=self.llm_timeout, max_cost_usd=self.llm_max_cost_usd,
                         anonymise=self.anonymise_names, redact_emails=self.redact_emails,
                         redact_ips=self.redact_ips)

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
