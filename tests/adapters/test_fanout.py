"""Fan-out under faults: each source down, 500, 403, malformed JSON or slower than the
deadline; the whole set still returns within deadline + 10% and names the failed source."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from adapters.envelope import SourceResult, Status
from adapters.fanout import Call, fan_out
from adapters.kube import KubeClient
from adapters.kube_config import KubeTarget
from adapters.loki import LokiClient
from adapters.prometheus import PrometheusClient
from sandbox import procs
from tests.adapters.conftest import END, fault_app

DEADLINE = 0.6
EXPECTED = {"down": {Status.ERROR}, "500": {Status.ERROR}, "403": {Status.FORBIDDEN},
            "bad-json": {Status.ERROR}, "slow": {Status.TIMEOUT}}


def calls_for(urls: dict[str, str]) -> tuple[list[Call], list]:
    """One investigation's worth of calls, each source at its own URL."""
    prom = PrometheusClient(urls["prometheus"], timeout=10)
    loki = LokiClient(urls["loki"], timeout=10)
    kube = KubeClient.connect(KubeTarget(url=urls["kubernetes"]), timeout=10)
    start = END - timedelta(hours=1)
    calls = [
        Call("prometheus", "up", lambda: prom.instant("up", END)),
        Call("prometheus", "rules", lambda: prom.rules()),
        Call("loki", '{app="checkout"}',
             lambda: loki.query_range('{app="checkout"}', start, END, limit=50)),
        Call("loki", "rate", lambda: loki.instant('sum(rate({app="checkout"}[5m]))', END)),
        Call("kubernetes", "pods", lambda: kube.list("pods", "shop")),
        Call("kubernetes", "events", lambda: kube.list("events", "shop")),
    ]
    return calls, [prom, loki, kube]


async def close(clients) -> None:
    for c in clients:
        if isinstance(c, KubeClient):
            c.close()
        else:
            await c.aclose()


@pytest.mark.parametrize("mode", sorted(EXPECTED))
@pytest.mark.parametrize("broken", ["prometheus", "loki", "kubernetes"])
async def test_one_failing_source_is_named_and_the_deadline_holds(
        broken, mode, loki_url, kube_app, serve):
    healthy_prom = await serve(fault_app("ok"))  # answers success with no data
    urls = {"prometheus": healthy_prom, "loki": loki_url, "kubernetes": await serve(kube_app)}
    if mode == "down":
        urls[broken] = f"http://127.0.0.1:{procs.free_port()}"
    else:
        urls[broken] = await serve(fault_app(mode, delay=DEADLINE * 2))
    calls, clients = calls_for(urls)
    started = time.perf_counter()
    out = await fan_out(calls, deadline=DEADLINE)
    took = time.perf_counter() - started
    await close(clients)
    assert took <= DEADLINE * 1.1, f"{took:.3f}s"
    assert len(out.results) == len(calls)
    assert out.failed_sources() == [broken], out.summary()
    for call, result in zip(calls, out.results):
        assert result.source == call.source
        if call.source == broken:
            assert result.status in EXPECTED[mode], (call.query, result.status, result.error)
            assert result.error
        else:
            assert not result.failed, (call.query, result.error)
    assert broken in out.summary()


async def test_every_source_dead_still_returns_in_time():
    port = procs.free_port()
    urls = dict.fromkeys(("prometheus", "loki", "kubernetes"), f"http://127.0.0.1:{port}")
    calls, clients = calls_for(urls)
    started = time.perf_counter()
    out = await fan_out(calls, deadline=DEADLINE)
    await close(clients)
    assert time.perf_counter() - started <= DEADLINE * 1.1
    assert out.failed_sources() == ["kubernetes", "loki", "prometheus"]


async def test_per_source_concurrency_limit():
    running = {"a": 0, "b": 0}
    peak = {"a": 0, "b": 0}

    def make(src: str):
        async def run() -> SourceResult:
            running[src] += 1
            peak[src] = max(peak[src], running[src])
            await asyncio.sleep(0.02)
            running[src] -= 1
            return SourceResult(source=src, status=Status.OK, query="q", data=[1])
        return run

    calls = [Call(src, "q", make(src)) for src in ("a", "b") for _ in range(10)]
    out = await fan_out(calls, deadline=5, limits={"a": 2}, default_limit=5)
    assert peak == {"a": 2, "b": 5}
    assert all(r.ok for r in out.results) and out.summary() == "all sources answered"


async def test_exceptions_and_wrong_types_become_error_envelopes():
    async def boom() -> SourceResult:
        raise RuntimeError("adapter bug")

    async def wrong() -> SourceResult:
        return "not an envelope"  # type: ignore[return-value]

    async def hang() -> SourceResult:
        await asyncio.sleep(60)
        raise AssertionError

    out = await fan_out([Call("x", "boom", boom), Call("y", "wrong", wrong),
                         Call("z", "hang", hang)], deadline=0.2)
    assert [r.status for r in out.results] == [Status.ERROR, Status.ERROR, Status.TIMEOUT]
    assert "adapter bug" in out.results[0].error and out.results[2].query == "hang"
    assert out.failed_sources() == ["x", "y", "z"]
    assert (await fan_out([], deadline=1)).results == []
