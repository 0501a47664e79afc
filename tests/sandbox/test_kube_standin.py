"""Contract tests: the Kubernetes stand-in serves the official client like kube-apiserver 1.36."""

from __future__ import annotations

import asyncio
import json
import shutil
from typing import Any, Callable

import pytest
from aiohttp.test_utils import TestServer
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from sandbox.kube import DENIED_READS, WRITES, make_kube_app

NODE_A = "gke-shop-prod-euw1-default-pool-8238574d-6cqf"
RESTARTED = "checkout-5255lpzzwd-58tv8"  # lastState.terminated OOMKilled, finishedAt 09:43:38


class Cluster:
    """A running stand-in plus typed API objects bound to it."""

    def __init__(self, server: TestServer, app: Any, writes: list[Any],
                 token: str | None = None) -> None:
        cfg = k8s.Configuration(host=f"http://127.0.0.1:{server.port}")
        if token:
            cfg.api_key = {"authorization": token}
            cfg.api_key_prefix = {"authorization": "Bearer"}
        self.api = k8s.ApiClient(cfg)
        self.core, self.apps = k8s.CoreV1Api(self.api), k8s.AppsV1Api(self.api)
        self.events, self.app, self.writes = k8s.EventsV1Api(self.api), app, writes

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def error(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> ApiException:
        with pytest.raises(ApiException) as info:
            await self.call(fn, *args, **kwargs)
        return info.value


async def start(kube_dir, **kwargs: Any):
    writes: list[Any] = []
    app = make_kube_app(kube_dir, on_write=writes.append, **kwargs)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server, Cluster(server, app, writes, kwargs.get("token"))


@pytest.fixture
async def kube(scenario_dir):
    server, cluster = await start(scenario_dir / "kube")
    yield cluster
    await server.close()


def pods_json(scenario_dir) -> list[dict[str, Any]]:
    return json.loads((scenario_dir / "kube" / "pods.json").read_text())["items"]


STS_POD = "statefulset.kubernetes.io/pod-name"


@pytest.mark.parametrize("selector,want", [
    ("app=checkout", lambda lb: lb.get("app") == "checkout"),
    ("app==cart,pod-template-hash",
     lambda lb: lb.get("app") == "cart" and "pod-template-hash" in lb),
    ("app!=checkout", lambda lb: lb.get("app") != "checkout"),
    ("app in (cart, frontend)", lambda lb: lb.get("app") in ("cart", "frontend")),
    ("app notin (cart,frontend),!pod-template-hash",
     lambda lb: lb.get("app") not in ("cart", "frontend") and "pod-template-hash" not in lb),
    (f"app.kubernetes.io/part-of=shop,{STS_POD}", lambda lb: STS_POD in lb),
])
async def test_list_pods_label_selector(kube, scenario_dir, selector, want):
    got = await kube.call(kube.core.list_namespaced_pod, "shop", label_selector=selector)
    pods = pods_json(scenario_dir)
    expected = [p["metadata"]["name"] for p in pods if want(p["metadata"]["labels"])]
    assert expected and [p.metadata.name for p in got.items] == expected
    assert got.kind == "PodList" and got.api_version == "v1"


async def test_list_pods_field_selector(kube, scenario_dir):
    got = await kube.call(kube.core.list_namespaced_pod, "shop",
                          field_selector=f"spec.nodeName={NODE_A},status.phase==Running")
    pods = pods_json(scenario_dir)
    want = [p["metadata"]["name"] for p in pods if p["spec"]["nodeName"] == NODE_A]
    assert [p.metadata.name for p in got.items] == want and len(want) == 4
    got = await kube.call(kube.core.list_pod_for_all_namespaces,
                          field_selector=f"metadata.name={RESTARTED}")
    assert [p.metadata.name for p in got.items] == [RESTARTED]
    got = await kube.call(kube.core.list_namespaced_pod, "shop",
                          field_selector="status.phase!=Running")
    assert got.items == []
    err = await kube.error(kube.core.list_namespaced_pod, "shop", field_selector="spec.image=x")
    assert err.status == 400 and json.loads(err.body)["reason"] == "BadRequest"


async def test_read_pod_and_404_status(kube):
    pod = await kube.call(kube.core.read_namespaced_pod, RESTARTED, "shop")
    assert pod.kind == "Pod"
    assert pod.status.container_statuses[0].last_state.terminated.reason == "OOMKilled"
    err = await kube.error(kube.core.read_namespaced_pod, "nope", "shop")
    assert err.status == 404 and err.headers["Content-Type"] == "application/json"
    assert json.loads(err.body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'pods "nope" not found', "reason": "NotFound",
        "details": {"name": "nope", "kind": "pods"}, "code": 404}
    err = await kube.error(kube.apps.read_namespaced_deployment, "nope", "shop")
    details = {"name": "nope", "group": "apps", "kind": "deployments"}
    assert json.loads(err.body)["details"] == details
    assert json.loads(err.body)["message"] == 'deployments.apps "nope" not found'


async def test_nodes_and_apps(kube):
    nodes = await kube.call(kube.core.list_node)
    assert len(nodes.items) == 3 and nodes.kind == "NodeList"
    node = await kube.call(kube.core.read_node, NODE_A)
    assert node.metadata.labels["kubernetes.io/hostname"] == NODE_A
    deps = await kube.call(kube.apps.list_namespaced_deployment, "shop")
    assert sorted(d.metadata.name for d in deps.items) == ["cart", "checkout", "frontend"]
    rs = await kube.call(kube.apps.list_namespaced_replica_set, "shop",
                         label_selector="app=checkout")
    assert len(rs.items) == 2
    sts = await kube.call(kube.apps.read_namespaced_stateful_set, "cart-redis", "shop")
    assert sts.kind == "StatefulSet"
    jobs = await kube.call(k8s.BatchV1Api(kube.api).list_namespaced_job, "shop")
    assert jobs.kind == "JobList" and jobs.items == []
    autoscaling = k8s.AutoscalingV2Api(kube.api)
    hpas = await kube.call(autoscaling.list_namespaced_horizontal_pod_autoscaler, "shop")
    assert hpas.items == []


async def test_core_events_and_field_selectors(kube, capture):
    oom = await kube.call(kube.core.list_event_for_all_namespaces,
                          field_selector="reason=OOMKilling")
    assert len(oom.items) == 4 and {e.involved_object.kind for e in oom.items} == {"Node"}
    got = await kube.call(kube.core.list_namespaced_event, "shop",
                          field_selector="involvedObject.name=checkout-5255lpzzwd-7jcxn,"
                                         "type=Warning")
    assert [e.reason for e in got.items] == ["Unhealthy", "BackOff", "Unhealthy"]
    raw = await kube.call(kube.core.list_namespaced_event, "shop", _preload_content=False)
    body = json.loads(raw.data)
    cap = capture("kube-apiserver-1.36/events_core_v1_raw.json")
    assert list(body) == list(cap) and body["kind"] == "EventList"
    assert set(cap["items"][2]) <= set(body["items"][0]) | {"metadata"}


async def test_events_k8s_io_conversion(kube, capture):
    raw = await kube.call(kube.events.list_namespaced_event, "shop", _preload_content=False)
    body = json.loads(raw.data)
    cap = capture("kube-apiserver-1.36/events_events_k8s_io_v1_raw.json")
    assert body["apiVersion"] == cap["apiVersion"] == "events.k8s.io/v1"
    item = body["items"][0]
    order = [key for key in cap["items"][2] if key in item]
    assert [key for key in item if key in cap["items"][2]] == order
    assert len(order) == len(cap["items"][2])
    assert item["eventTime"] is None and item["regarding"]["kind"] == "Pod"
    assert "involvedObject" not in item
    backoff = [e for e in body["items"] if e["reason"] == "BackOff"]
    assert backoff[0]["deprecatedCount"] == 2 and backoff[0]["note"].startswith("Back-off")
    with pytest.raises(ValueError):  # the typed client rejects eventTime null (wire-samples README)
        await kube.call(kube.events.list_namespaced_event, "shop")


async def test_pod_log_tail_timestamps_and_previous(kube, log_rows):
    rows = [r for r in log_rows if r["labels"]["pod"] == RESTARTED]
    current = [r for r in rows if r["ts"] >= "2026-11-20T09:43:40Z"]
    text = await kube.call(kube.core.read_namespaced_pod_log, RESTARTED, "shop", tail_lines=5)
    assert text.splitlines() == [r["line"] for r in current[-5:]]
    text = await kube.call(kube.core.read_namespaced_pod_log, RESTARTED, "shop",
                           container="checkout", tail_lines=2, timestamps=True)
    first = text.splitlines()[0]
    assert first.split(" ", 1)[1] == current[-2]["line"] and first.startswith("2026-11-20T")
    prev = await kube.call(kube.core.read_namespaced_pod_log, RESTARTED, "shop", previous=True)
    before = [r["line"] for r in rows if r["ts"] <= "2026-11-20T09:43:38Z"]
    assert prev.splitlines() == before and len(before) > 100
    err = await kube.error(kube.core.read_namespaced_pod_log, "cart-redis-0", "shop", previous=True)
    assert err.status == 400 and json.loads(err.body)["message"] == (
        'previous terminated container "redis" in pod "cart-redis-0" not found')
    err = await kube.error(kube.core.read_namespaced_pod_log, RESTARTED, "shop",
                           container="sidecar")
    assert err.status == 400


async def test_pod_log_without_logs_is_a_500_status(scenario_dir, tmp_path, capture):
    shutil.copytree(scenario_dir / "kube", tmp_path / "kube")
    server, cluster = await start(tmp_path / "kube")
    try:
        err = await cluster.error(cluster.core.read_namespaced_pod_log, RESTARTED, "shop")
    finally:
        await server.close()
    cap = capture("kube-apiserver-1.36/pod_log_error_body.json")
    assert err.status == cap["status"] == 500
    body = json.loads(err.body)
    assert list(body) == list(cap["body"]) and "10250/containerLogs/shop/" in body["message"]


async def test_writes_are_forbidden_and_reported(kube, capture):
    err = await kube.error(kube.core.delete_namespaced_pod, RESTARTED, "shop")
    cap = capture("kube-apiserver-1.36/bot_delete_403_body.json")
    body = json.loads(err.body)
    assert err.status == 403 and list(body) == list(cap["body"])
    assert list(body["details"]) == ["name", "kind"]
    assert body["message"] == (f'pods "{RESTARTED}" is forbidden: User "oncall-bot" cannot delete '
                               'resource "pods" in API group "" in the namespace "shop"')
    err = await kube.error(kube.apps.patch_namespaced_deployment, "checkout", "shop",
                           {"spec": {"replicas": 0}})
    message = json.loads(err.body)["message"]
    assert err.status == 403
    assert 'cannot patch resource "deployments" in API group "apps"' in message
    err = await kube.error(kube.core.connect_get_namespaced_pod_exec, RESTARTED, "shop",
                           command=["sh"])
    assert err.status == 403
    assert 'cannot create resource "pods/exec"' in json.loads(err.body)["message"]
    err = await kube.error(kube.core.create_namespace, {"metadata": {"name": "x"}})
    assert err.status == 403 and "at the cluster scope" in err.body
    assert [r.method for r in kube.writes] == ["DELETE", "PATCH", "GET", "POST"]
    assert [w["method"] for w in kube.app[WRITES]] == ["DELETE", "PATCH", "GET", "POST"]


async def test_secrets_and_configmaps_are_forbidden_reads(kube):
    err = await kube.error(kube.core.read_namespaced_secret, "db", "shop")
    assert err.status == 403 and json.loads(err.body)["reason"] == "Forbidden"
    err = await kube.error(kube.core.list_namespaced_config_map, "shop")
    assert err.status == 403 and json.loads(err.body)["details"] == {"kind": "configmaps"}
    assert kube.writes == [] and len(kube.app[DENIED_READS]) == 2


async def test_bearer_token(scenario_dir):
    server, good = await start(scenario_dir / "kube", token="s3cret")
    try:
        assert len((await good.call(good.core.list_namespaced_pod, "shop")).items) == 8
        url = f"http://127.0.0.1:{server.port}/healthz"
        health = await good.call(good.api.call_api, "GET", url)  # call_api adds no auth header
        assert health.status == 200  # public without a token, like RBAC's system:public-info-viewer
        bad = Cluster(server, good.app, [], token="wrong")
        err = await bad.error(bad.core.list_namespaced_pod, "shop")
        assert err.status == 401 and json.loads(err.body) == {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
    finally:
        await server.close()


async def test_limit_and_continue(kube):
    names, token, pages = [], None, 0
    while True:
        page = await kube.call(kube.core.list_namespaced_pod, "shop", limit=3, _continue=token)
        names += [p.metadata.name for p in page.items]
        pages, token = pages + 1, page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == 8 - len(names)
    assert pages == 3 and len(names) == len(set(names)) == 8


async def test_discovery(kube):
    version = await kube.call(k8s.VersionApi(kube.api).get_code)
    assert version.git_version == "v1.36.2"
    assert (await kube.call(k8s.CoreApi(kube.api).get_api_versions)).versions == ["v1"]
    groups = await kube.call(k8s.ApisApi(kube.api).get_api_versions)
    assert {"apps", "batch", "events.k8s.io", "autoscaling"} <= {g.name for g in groups.groups}
    resources = await kube.call(kube.core.get_api_resources)
    assert {"pods", "events", "nodes", "pods/log"} <= {r.name for r in resources.resources}
