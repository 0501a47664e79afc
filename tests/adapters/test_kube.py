"""The read-only Kubernetes wrapper with the official client against the API stand-in."""

from __future__ import annotations

import json

import pytest
import yaml

from adapters.envelope import Status
from adapters.kube import KubeClient
from adapters.kube_allowlist import READS
from adapters.kube_config import KubeConfigError, KubeTarget, api_client
from adapters.kube_describe import PodSummary, describe_pod
from adapters.loki import LogLine
from sandbox.kube import make_kube_app
from tests.adapters.conftest import RESTARTED_POD, fault_app

IN_SCENARIO = {"pods", "events", "events.k8s.io", "nodes", "deployments", "replicasets",
               "statefulsets"}


@pytest.mark.parametrize("resource", sorted(READS))
async def test_every_allowlisted_kind_lists(kube, resource):
    read = READS[resource]
    result = await kube.list(resource, "shop" if read.namespaced else None)
    want = Status.OK if resource in IN_SCENARIO else Status.EMPTY
    assert result.status is want, result.error
    assert result.source == "kubernetes" and result.query.startswith("GET " + read.path("shop"))
    assert isinstance(result.data, list)


async def test_events_k8s_io_with_null_event_time_is_read_raw(kube):
    result = await kube.list("events.k8s.io", "shop")
    assert result.status is Status.OK
    assert any(item.get("eventTime") is None for item in result.data)
    assert all("regarding" in item for item in result.data)


async def test_selectors_and_paging(kube, scenario):
    pods = json.loads((scenario / "kube" / "pods.json").read_text())["items"]
    kube.page_size = 2  # forces several continue pages
    result = await kube.list("pods", "shop", label_selector="app=checkout")
    assert [p["metadata"]["name"] for p in result.data] == [
        p["metadata"]["name"] for p in pods if p["metadata"]["labels"].get("app") == "checkout"]
    assert "labelSelector=app%3Dcheckout" in result.query
    node = pods[0]["spec"]["nodeName"]
    on_node = await kube.list("pods", field_selector=f"spec.nodeName={node}")
    assert on_node.data and all(p["spec"]["nodeName"] == node for p in on_node.data)


async def test_get_found_missing_and_cluster_scoped(kube):
    found = await kube.get("deploy", "checkout", "shop")
    assert found.status is Status.OK and found.data["kind"] == "Deployment"
    assert found.query == "GET /apis/apps/v1/namespaces/shop/deployments/checkout"
    missing = await kube.get("pods", "no-such-pod", "shop")
    assert missing.status is Status.EMPTY and 'pods "no-such-pod" not found' in missing.error
    nodes = await kube.list("nodes")
    node = await kube.get("nodes", nodes.data[0]["metadata"]["name"])
    assert node.status is Status.OK and node.query.startswith("GET /api/v1/nodes/")


async def test_secrets_and_configmaps_are_not_reachable(kube):
    for resource in ("secrets", "configmaps", "secret", "cm"):
        assert (await kube.list(resource, "shop")).status is Status.FORBIDDEN
        assert (await kube.get(resource, "x", "shop")).status is Status.FORBIDDEN


async def test_pod_logs_current_previous_and_tail(kube):
    current = await kube.pod_logs("shop", RESTARTED_POD, tail=5)
    assert current.status is Status.OK and len(current.data) == 5
    assert all(isinstance(ln, LogLine) and ln.labels["pod"] == RESTARTED_POD
               for ln in current.data)
    previous = await kube.pod_logs("shop", RESTARTED_POD, previous=True, tail=20)
    assert previous.status is Status.OK and "previous=true" in previous.query
    assert max(ln.ts_ns for ln in previous.data) < min(ln.ts_ns for ln in current.data)
    assert previous.data[-1].time.isoformat() <= "2026-11-20T09:43:38+00:00"


async def test_pod_log_500_is_a_clear_non_fatal_error(kube_dir_without_logs, serve):
    url = await serve(make_kube_app(kube_dir_without_logs))
    client = KubeClient.connect(KubeTarget(url=url), timeout=5)
    result = await client.pod_logs("shop", RESTARTED_POD, tail=10)
    assert result.status is Status.ERROR
    assert "could not reach the kubelet" in result.error and "10250" in result.error


async def test_forbidden_unauthorised_and_unreachable(serve):
    url = await serve(fault_app("403"))
    result = await KubeClient.connect(KubeTarget(url=url)).list("pods", "shop")
    assert result.status is Status.FORBIDDEN and "cannot list resource" in result.error
    bad_json = await KubeClient.connect(KubeTarget(url=await serve(fault_app("bad-json")))) \
        .get("pods", "x", "shop")
    assert bad_json.status is Status.ERROR
    dead = await KubeClient.connect(KubeTarget(url="http://127.0.0.1:9"), timeout=2) \
        .list("pods", "shop")
    assert dead.status is Status.ERROR and "cannot reach the API server" in dead.error


async def test_bearer_token_from_target(scenario, serve):
    url = await serve(make_kube_app(scenario / "kube", token="sekret"))
    assert (await KubeClient.connect(KubeTarget(url=url, token="sekret")).list("nodes")).ok
    wrong = await KubeClient.connect(KubeTarget(url=url, token="wrong")).list("nodes")
    assert wrong.status is Status.FORBIDDEN and "401" in wrong.error


async def test_kubeconfig_then_in_cluster(scenario, serve, tmp_path, monkeypatch):
    url = await serve(make_kube_app(scenario / "kube", token="kc-token"))
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "sandbox",
        "clusters": [{"name": "sb", "cluster": {"server": url}}],
        "users": [{"name": "bot", "user": {"token": "kc-token"}}],
        "contexts": [{"name": "sandbox", "context": {"cluster": "sb", "user": "bot"}}]}))
    client = KubeClient.connect(KubeTarget(kubeconfig=str(kubeconfig)))
    assert (await client.list("nodes")).status is Status.OK
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(KubeConfigError):
        api_client(KubeTarget(kubeconfig=str(tmp_path / "absent")))
    nowhere = KubeClient.connect(KubeTarget(kubeconfig=str(tmp_path / "absent")))
    result = await nowhere.list("pods", "shop")
    assert result.status is Status.ERROR and "in-cluster" in result.error


async def test_describe_pod_owner_chain_termination_and_events(kube):
    result = await describe_pod(kube, "shop", RESTARTED_POD)
    assert result.status is Status.OK and not result.warnings
    summary: PodSummary = result.data
    assert summary.owners == ["ReplicaSet/checkout-5255lpzzwd", "Deployment/checkout"]
    (container,) = summary.containers
    assert container.state == "running" and container.restarts == 1
    assert container.last_termination["reason"] == "OOMKilled"
    assert container.last_termination["exitCode"] == 137
    assert summary.events and all(e.name == RESTARTED_POD for e in summary.events)
    text = summary.render()
    assert "ReplicaSet/checkout-5255lpzzwd -> Deployment/checkout" in text and "OOMKilled" in text


async def test_describe_missing_pod_is_empty(kube):
    assert (await describe_pod(kube, "shop", "gone")).status is Status.EMPTY
