"""policies/clusters.yaml: a page's cluster label picks the endpoints it is investigated with."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from adapters.clusters import ClusterConfig, HttpEndpoint, UnknownCluster, load_clusters
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

DOC = {
    "clusters": {
        "prod-us": {
            "prometheus": {"url": "https://thanos.us", "tenant": "us",
                           "bearer_token": {"env": "TEST_PROD_US_PROM_TOKEN"}},
            "loki": {"url": "https://loki.us", "username": "oncall",
                     "password": {"file": "PLACEHOLDER"}},
            "kubernetes": {"api_url": "https://api.us:6443", "token": {"value": "inline"}},
            "grafana": {"url": "https://grafana", "prometheus_uid": "p-us", "loki_uid": "l-us"},
        },
        "staging": {"kubernetes": {"kubeconfig": "/etc/kc", "context": "staging"}},
    },
}


@pytest.fixture
def registry(tmp_path, monkeypatch):
    secret = tmp_path / "loki-pass"
    secret.write_text("from-file\n")
    DOC["clusters"]["prod-us"]["loki"]["password"]["file"] = str(secret)
    path = tmp_path / "clusters.yaml"
    path.write_text(yaml.safe_dump(DOC))
    monkeypatch.setenv("TEST_PROD_US_PROM_TOKEN", "from-env")
    default = Settings(_env_file=None, prometheus_url="http://prom.local:9090").default_cluster()
    return load_clusters(path, default)


def test_pick_by_label_override_or_default(registry):
    assert registry.pick({"cluster": "prod-us"}).name == "prod-us"
    assert registry.pick({"cluster": "prod-us"}, override="staging").name == "staging"
    assert registry.pick({"alertname": "X"}).name == "default"
    assert registry.pick({"cluster": "default"}).prometheus.url == "http://prom.local:9090"
    with pytest.raises(UnknownCluster, match="prod-ap"):
        registry.pick({"cluster": "prod-ap"})
    assert registry.names() == ["default", "prod-us", "staging"]


def test_credentials_resolve_from_env_file_and_inline(registry):
    us = registry.pick(override="prod-us")
    prom = us.prometheus.auth()
    assert prom.bearer_token == "from-env" and prom.tenant == "us"
    assert us.loki.auth().password == "from-file"
    assert us.kubernetes.target().token == "inline"
    assert us.grafana.loki_uid == "l-us"
    staging = registry.pick(override="staging").kubernetes.target()
    assert staging.url is None and staging.context == "staging"
    assert "inline" not in repr(us) and "from-env" not in repr(prom)


def test_default_from_settings_and_a_yaml_default(tmp_path):
    settings = Settings(_env_file=None, prometheus_tenant="t1", loki_url="http://loki:3100",
                        loki_tenant="t2", kube_api_url="https://k:6443", kube_token="kt",
                        grafana_url="http://g", grafana_loki_uid="L")
    default = settings.default_cluster()
    assert default.prometheus.auth().tenant == "t1" and default.loki.auth().tenant == "t2"
    assert default.kubernetes.target().token == "kt" and default.grafana.loki_uid == "L"
    assert Settings(_env_file=None).default_cluster().loki is None
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"default": "prod-eu", "label": "k8s_cluster", "clusters": {
        "prod-eu": {"prometheus": {"url": "http://eu"}}}}))
    reg = load_clusters(path, default)
    assert reg.default.name == "prod-eu" and reg.label == "k8s_cluster"
    assert reg.pick({"k8s_cluster": "default"}).name == "default"
    assert load_clusters(tmp_path / "absent.yaml", default).clusters == {}


def test_shipped_policy_file_loads():
    reg = load_clusters(ROOT / "policies" / "clusters.yaml", ClusterConfig(
        prometheus=HttpEndpoint(url="http://p")))
    assert reg.default.name == "default"
