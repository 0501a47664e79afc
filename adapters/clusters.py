"""Which Prometheus, Loki and API server belong to which cluster.

Large organisations route many clusters' alerts through one Alertmanager, so
the copilot must follow each page to the cluster it came from: the alert's
`cluster` label (or a command's `--cluster`) names an entry of
`policies/clusters.yaml`; the cluster configured by the `ONCALL_*` settings is
the default. Credentials are referenced by environment variable or file
rather than written into the YAML, and are read when used so rotated tokens
are picked up.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import yaml
from pydantic import BaseModel, Field, SecretStr

from adapters.httpconf import HttpAuth
from adapters.kube_config import KubeTarget

DEFAULT_NAME = "default"


class UnknownCluster(LookupError):
    """A page or command named a cluster that clusters.yaml does not map."""


class Secret(BaseModel):
    """A credential given inline, by environment variable, or by file (first set wins)."""

    value: SecretStr | None = None
    env: str | None = None
    file: str | None = None

    def get(self) -> str | None:
        if self.value is not None:
            return self.value.get_secret_value()
        if self.env:
            return os.environ.get(self.env)
        if self.file:
            try:
                return Path(self.file).read_text().strip()
            except OSError:
                return None
        return None


class HttpEndpoint(BaseModel):
    """A Prometheus-compatible or Loki endpoint with its auth."""

    url: str
    link_url: str | None = None
    tenant: str | None = None
    bearer_token: Secret | None = None
    username: str | None = None
    password: Secret | None = None
    ca_file: str | None = None
    insecure: bool = False
    compress: bool = False  # gzip answers: worth it for a remote back end, not in-cluster

    def auth(self) -> HttpAuth:
        return HttpAuth(
            bearer_token=self.bearer_token.get() if self.bearer_token else None,
            username=self.username,
            password=self.password.get() if self.password else None,
            tenant=self.tenant, ca_file=self.ca_file, insecure=self.insecure,
            compress=self.compress)


class KubeEndpoint(BaseModel):
    """An API server: URL + token, or a kubeconfig context, or (neither) in-cluster."""

    api_url: str | None = None
    token: Secret | None = None
    ca_file: str | None = None
    insecure: bool = False
    kubeconfig: str | None = None
    context: str | None = None

    def target(self) -> KubeTarget:
        return KubeTarget(url=self.api_url, token=self.token.get() if self.token else None,
                          ca_file=self.ca_file, insecure=self.insecure,
                          kubeconfig=self.kubeconfig, context=self.context)


class Grafana(BaseModel):
    url: str
    prometheus_uid: str | None = None
    loki_uid: str | None = None
    org_id: int = 1


class ClusterConfig(BaseModel):
    """Everything the adapters need to investigate a page from one cluster."""

    name: str = DEFAULT_NAME
    prometheus: HttpEndpoint | None = None
    loki: HttpEndpoint | None = None
    kubernetes: KubeEndpoint = Field(default_factory=KubeEndpoint)
    alertmanager_url: str | None = None
    grafana: Grafana | None = None


class ClusterRegistry(BaseModel):
    default: ClusterConfig
    clusters: dict[str, ClusterConfig] = {}
    label: str = "cluster"

    def names(self) -> list[str]:
        return sorted({self.default.name, *self.clusters})

    def pick(self, labels: Mapping[str, str] | None = None,
             override: str | None = None) -> ClusterConfig:
        """The cluster an explicit choice, else the alert's label, names; else the default.

        Raises UnknownCluster for a name not mapped: answering from the wrong
        cluster would be worse than saying so.
        """
        name = override or (labels or {}).get(self.label)
        if not name or name == self.default.name:
            return self.default
        if name in self.clusters:
            return self.clusters[name]
        raise UnknownCluster(f"cluster {name!r} is not in clusters.yaml "
                             f"(known: {', '.join(self.names())})")


def load_clusters(path: str | Path | None, default: ClusterConfig, *,
                  label: str = "cluster") -> ClusterRegistry:
    """Read clusters.yaml (absent file: just the default); its `default:` key may name
    one of its own entries to replace the settings' cluster as default."""
    doc: dict = {}
    if path is not None and Path(path).is_file():
        doc = yaml.safe_load(Path(path).read_text()) or {}
    entries = doc.get("clusters") or {}
    clusters = {name: ClusterConfig.model_validate({**(body or {}), "name": name})
                for name, body in entries.items()}
    chosen = doc.get("default")
    if chosen and chosen != default.name:
        if chosen not in clusters:
            raise UnknownCluster(f"default cluster {chosen!r} is not defined in {path}")
        clusters.setdefault(default.name, default)
        default = clusters.pop(chosen)
    return ClusterRegistry(default=default, clusters=clusters, label=doc.get("label") or label)
