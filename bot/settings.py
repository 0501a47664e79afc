"""Effective configuration: `ONCALL_*` environment variables and an optional `.env`."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONCALL_", env_file=".env", extra="ignore")

    prometheus_url: str = Field("http://127.0.0.1:9090", description="Prometheus (or Thanos/Mimir) HTTP API")
    prometheus_link_url: str | None = Field(None, description="Prometheus URL humans open, if different")
    alertmanager_url: str = Field("http://127.0.0.1:9093", description="Alertmanager, for silences and status")
    loki_url: str | None = Field(None, description="Loki HTTP API; pod logs are used when unset")
    kube_api_url: str | None = Field(None, description="Kubernetes API; else kubeconfig or in-cluster")
    kube_token: SecretStr | None = Field(None, description="bearer token for the Kubernetes API")
    grafana_url: str | None = Field(None, description="Grafana, for Explore deep links")

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
    slo_objective: float = Field(0.999, description="default availability objective for burn rates")
    investigation_deadline: float = Field(8.0, description="seconds an investigation may take")
    dedupe_window: float = Field(600.0, description="seconds in which an identical notification is a duplicate")
    max_body_bytes: int = Field(1024 * 1024, description="largest webhook body accepted")

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
