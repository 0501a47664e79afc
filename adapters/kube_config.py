"""Where the Kubernetes credentials come from: URL + token, else kubeconfig, else in-cluster.

An explicit URL wins so a multi-cluster setup can point at any API server; a
developer laptop has a kubeconfig; the deployed bot runs with its service
account. Nothing here touches the global default configuration of the
`kubernetes` package, so several clusters can be open at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the client loads on first use: settings and the intake never need it
    from kubernetes import client as k8s


class KubeConfigError(RuntimeError):
    """No usable way to reach an API server was found."""


@dataclass(frozen=True)
class KubeTarget:
    """How to reach one API server; every field optional."""

    url: str | None = None
    token: str | None = None
    ca_file: str | None = None
    insecure: bool = False
    kubeconfig: str | None = None
    context: str | None = None


def api_client(target: KubeTarget) -> tuple[k8s.ApiClient, str]:
    """An ApiClient for `target` and a word on where its config came from.

    Raises KubeConfigError when neither a URL, a kubeconfig nor an in-cluster
    service account is available.
    """
    from kubernetes import client as k8s
    from kubernetes import config as k8s_config
    from kubernetes.config.config_exception import ConfigException

    if target.url:
        cfg = _fresh()
        cfg.host = target.url.rstrip("/")
        if target.token:
            cfg.api_key = {"authorization": target.token}
            cfg.api_key_prefix = {"authorization": "Bearer"}
        cfg.ssl_ca_cert = target.ca_file
        cfg.verify_ssl = not target.insecure
        return k8s.ApiClient(cfg), f"url {target.url}"
    reasons = []
    try:
        api = k8s_config.new_client_from_config(
            config_file=target.kubeconfig, context=target.context, persist_config=False,
            client_configuration=_fresh(),
        )
        return api, f"kubeconfig{f' context {target.context}' if target.context else ''}"
    except (ConfigException, OSError) as exc:
        reasons.append(f"kubeconfig: {exc}")
    try:
        cfg = _fresh()
        k8s_config.load_incluster_config(client_configuration=cfg)
        return k8s.ApiClient(cfg), "in-cluster service account"
    except ConfigException as exc:
        reasons.append(f"in-cluster: {exc}")
    raise KubeConfigError("no Kubernetes API configured (" + "; ".join(reasons) + ")")


def _fresh() -> k8s.Configuration:
    """No urllib3 retries: a dead API server must fail fast, within the investigation."""
    from kubernetes import client as k8s

    cfg = k8s.Configuration()
    cfg.retries = 0
    return cfg
