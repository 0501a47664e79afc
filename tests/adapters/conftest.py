"""Stand-ins and fault servers for the adapter integration tests.

Loki and the Kubernetes API are the sandbox's loopback stand-ins serving the
shop-checkout-oom scenario with their clocks pinned at its end; a fault server
answers every request with a chosen failure. The real Prometheus fixture lives
in test_prometheus.py (stack-marked).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.kube import KubeClient
from adapters.kube_config import KubeTarget
from adapters.loki import LokiClient
from sandbox.kube import WRITES, make_kube_app
from sandbox.loki import make_loki_app
from tests.conftest import SCENARIOS

SCENARIO = SCENARIOS / "shop-checkout-oom"
END = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
RESTARTED_POD = "checkout-5255lpzzwd-58tv8"  # OOMKilled at 09:43:38, running again since


@pytest.fixture
def scenario() -> Path:
    if not (SCENARIO / "kube").is_dir() or not (SCENARIO / "logs.jsonl").is_file():
        pytest.skip(f"{SCENARIO} not present (a clone without ../shared)")
    return SCENARIO


async def _serve(app: web.Application) -> TestServer:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[web.Application], Awaitable[str]]]:
    """Factory: start an aiohttp app on loopback, return its base URL; closed at teardown."""
    servers: list[TestServer] = []

    async def start(app: web.Application) -> str:
        servers.append(await _serve(app))
        return f"http://127.0.0.1:{servers[-1].port}"

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def loki_url(scenario, serve) -> str:
    return await serve(make_loki_app(scenario / "logs.jsonl", clock=END.timestamp))


@pytest.fixture
async def loki(loki_url) -> AsyncIterator[LokiClient]:
    async with LokiClient(loki_url, timeout=5) as client:
        yield client


@pytest.fixture
async def kube_app(scenario) -> web.Application:
    return make_kube_app(scenario / "kube", clock=END.timestamp)


@pytest.fixture
async def kube(kube_app, serve) -> AsyncIterator[KubeClient]:
    """The wrapper against the stand-in; any write request fails the test at teardown."""
    url = await serve(kube_app)
    client = KubeClient.connect(KubeTarget(url=url), timeout=5)
    yield client
    client.close()
    assert kube_app[WRITES] == [], f"the copilot sent writes: {kube_app[WRITES]}"


@pytest.fixture
def kube_dir_without_logs(scenario, tmp_path) -> Path:
    """The scenario's kube/ with no sibling logs.jsonl: pod logs answer 500 like an
    API server that cannot reach the kubelet."""
    target = tmp_path / "cluster" / "kube"
    shutil.copytree(scenario / "kube", target)
    return target


def fault_app(mode: str, *, delay: float = 0.0, seen: list[Any] | None = None) -> web.Application:
    """Every path answers the same failure: 500, 403, bad-json, slow or ok-json."""
    forbidden = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                 "message": 'pods is forbidden: User "oncall-bot" cannot list resource "pods"',
                 "reason": "Forbidden", "details": {"kind": "pods"}, "code": 403}

    async def handle(request: web.Request) -> web.StreamResponse:
        if seen is not None:
            seen.append({"method": request.method, "path": request.path_qs,
                         "headers": request.headers.copy(),  # names are case-insensitive
                         "body": (await request.text()) if request.can_read_body else ""})
        if mode == "slow":
            await asyncio.sleep(delay)
            return web.json_response({"status": "success", "data": {"resultType": "vector",
                                                                     "result": []}})
        if mode == "500":
            return web.Response(status=500, text="internal error\n")
        if mode == "403":
            return web.json_response(forbidden, status=403)
        if mode == "bad-json":
            return web.Response(status=200, text="{not json", content_type="application/json")
        return web.json_response({"status": "success", "data": [], "warnings": ["w1"]})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def event_exporter_lines(scenario: Path, *, hours_back: int = 6) -> list[dict[str, Any]]:
    """logs.jsonl rows an event exporter would have shipped: each API event as JSON (as
    kubernetes-event-exporter does), plus older Alloy-style logfmt events the API no
    longer holds."""
    items = json.loads((scenario / "kube" / "events.json").read_text())["items"]
    rows = []
    for item in items:
        ts = item.get("lastTimestamp") or item["metadata"]["creationTimestamp"]
        rows.append({"ts": ts, "labels": {"job": "kubernetes-event-exporter"},
                     "line": json.dumps(item)})
    for hour in range(hours_back, 1, -1):  # BackOff on the cart pod, hours before the page
        stamp = f"2026-11-20T{10 - hour:02d}:15:00Z"
        rows.append({"ts": stamp, "labels": {"job": "loki.source.kubernetes_events",
                                             "namespace": "shop"},
                     "line": 'name=cart-7f9c-old kind=Pod action= objectAPIversion=v1 '
                             'sourcecomponent=kubelet type=Warning reason=BackOff '
                             'msg="Back-off restarting failed container cart"'})
    return rows
