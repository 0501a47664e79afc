"""Fan-out time of a full investigation's queries against its slowest single query.

Sources: a real Prometheus with the OOM scenario backfilled, and the Loki and
Kubernetes API stand-ins, each in its own process (as the real servers would
be) so server-side work does not share the benchmark's event loop. Each query
is timed alone (median of --runs), then the whole set through
`adapters.fanout.fan_out`. Target: fan-out within 1.2x of the slowest query.

On loopback every query takes a few milliseconds of CPU, so on a small machine
the fan-out is bound by the cores the servers and the client share, not by
waiting. `--latency-ms` puts a network between the client and each source (a
relay process, sandbox/latency.py, holding every chunk for half the round trip
each way): every HTTP exchange then costs a round trip, as it does against
remote Prometheus, Loki and API servers, and the client's work to send overlaps
the wait while its work to read the answers follows it.

The CPU line says where a fan-out's time goes: each process's CPU per fan-out
(the client's own, and the others' read from /proc). On loopback it also
prints the floor they allow: the client is one event loop, so it needs its CPU
time in full, and all of them share the machine's cores. A fan-out near that
floor is bound by CPU, not by waiting; only less CPU per query (or more cores)
brings it closer to the slowest query.

    .venv/bin/python bench/fanout.py [--runs 5] [--latency-ms 0] [--scenario DIR]

(/proc counts CPU in 10 ms ticks: use --runs 15 or more for the servers' figures.)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from adapters.event_sources import EventReader  # noqa: E402
from adapters.fanout import Call, fan_out  # noqa: E402
from adapters.kube import KubeClient  # noqa: E402
from adapters.kube_config import KubeTarget  # noqa: E402
from adapters.kube_describe import describe_pod  # noqa: E402
from adapters.logs import LogReader  # noqa: E402
from adapters.loki import LokiClient  # noqa: E402
from adapters.prometheus import PrometheusClient  # noqa: E402
from sandbox import procs  # noqa: E402
from sandbox.latency import start_relay  # noqa: E402

END = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
POD = "checkout-5255lpzzwd-58tv8"


def _serve(kind: str, path: str, port: int) -> None:
    """Child process: one stand-in on a fixed port, clock pinned at the scenario's end."""
    from aiohttp import web

    from sandbox.kube import make_kube_app
    from sandbox.loki import make_loki_app

    make = make_loki_app if kind == "loki" else make_kube_app
    web.run_app(make(Path(path), clock=END.timestamp), host="127.0.0.1", port=port,
                print=None, access_log=None)


def start_standin(kind: str, path: Path) -> tuple[multiprocessing.Process, str]:
    port = procs.free_port()
    proc = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(kind, str(path), port), daemon=True)
    proc.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + ("/ready" if kind == "loki" else "/healthz"), timeout=0.5)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"{kind} stand-in did not start")


def investigation(prom: PrometheusClient, loki: LokiClient, kube: KubeClient) -> list[Call]:
    """Roughly what one OOM/error-budget page asks of the three sources."""
    hour = timedelta(hours=1)
    shop = 'namespace="shop"'
    promql = {
        "error ratio 5m": f'sum by (service) (rate(http_requests_total{{{shop},code=~"5.."}}[5m]))'
                          f' / sum by (service) (rate(http_requests_total{{{shop}}}[5m]))',
        "p99 latency": 'histogram_quantile(0.99, sum by (le, service) '
                       f'(rate(http_request_duration_seconds_bucket{{{shop}}}[5m])))',
        "memory vs limit": f'max by (pod) (container_memory_working_set_bytes{{{shop}}})',
        "restarts 1h": f'increase(kube_pod_container_status_restarts_total{{{shop}}}[1h])',
        "last terminated": f'kube_pod_container_status_last_terminated_reason{{{shop}}} == 1',
        "cpu throttling": f'sum by (pod) (rate(container_cpu_cfs_throttled_periods_total'
                          f'{{{shop}}}[5m]))',
    }
    calls = [Call("prometheus", name, (lambda e=expr: prom.instant(e, END)))
             for name, expr in promql.items()]
    calls += [Call("prometheus", "error ratio 6h range",
                   lambda: prom.range(promql["error ratio 5m"], END - 6 * hour, END, 60)),
              Call("prometheus", "memory 6h range",
                   lambda: prom.range(promql["memory vs limit"], END - 6 * hour, END, 60)),
              Call("prometheus", "alerting rules", lambda: prom.rules("alert"))]
    logs = LogReader(loki, None)
    calls += [
        Call("loki", "checkout errors 1h",
             lambda: logs.logs("shop", END - hour, END, labels={"app": "checkout"},
                               contains="ERROR", limit=2000)),
        Call("loki", "error rate by app", lambda: loki.query_range(
            'sum by (app) (count_over_time({namespace="shop"} |= "ERROR" [5m]))',
            END - 6 * hour, END, step=300)),
        Call("loki", "errors now", lambda: loki.instant(
            'sum by (app) (rate({namespace="shop"} |= "ERROR" [10m]))', END)),
    ]
    calls += [
        Call("kubernetes", "pods", lambda: kube.list("pods", "shop")),
        Call("kubernetes", "deployments", lambda: kube.list("deployments", "shop")),
        Call("kubernetes", "nodes", lambda: kube.list("nodes")),
        Call("kubernetes", "events", lambda: EventReader(kube, None).events(
            "shop", END - 6 * hour, END)),
        Call("kubernetes", "describe pod", lambda: describe_pod(kube, "shop", POD)),
        Call("kubernetes", "previous logs", lambda: kube.pod_logs(
            "shop", POD, previous=True, tail=200)),
    ]
    return calls


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process, all its threads, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(calls: list[Call], runs: int, deadline: float, latency: float,
                  servers: dict[str, int]) -> None:
    alone: dict[str, float] = {}
    for call in calls:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            result = await call.run()
            times.append(time.perf_counter() - started)
            assert not result.failed, (call.query, result.error)
        alone[f"{call.source}: {call.query}"] = statistics.median(times)
    together = []
    before = {name: cpu_seconds(pid) for name, pid in servers.items()}
    cpu_start = time.process_time()
    for _ in range(runs):
        out = await fan_out(calls, deadline=deadline)
        together.append(out.elapsed_ms / 1000)
        assert not out.failures, out.summary()
    cpu = {"client": time.process_time() - cpu_start}
    cpu |= {name: cpu_seconds(pid) - before[name] for name, pid in servers.items()}
    cpu = {name: secs / runs for name, secs in cpu.items()}
    slowest_name, slowest = max(alone.items(), key=lambda kv: kv[1])
    fan = statistics.median(together)
    print(f"{len(calls)} queries, median of {runs} runs each")
    for name, secs in sorted(alone.items(), key=lambda kv: -kv[1]):
        print(f"  {secs * 1000:8.1f} ms  {name}")
    print(f"sum of queries run one by one: {sum(alone.values()) * 1000:8.1f} ms")
    print(f"slowest single query:          {slowest * 1000:8.1f} ms  ({slowest_name})")
    print(f"fan-out of all {len(calls)}:            {fan * 1000:8.1f} ms"
          f"  (runs {min(together) * 1000:.1f}..{max(together) * 1000:.1f} ms)")
    print(f"fan-out beyond the slowest:    {(fan - slowest) * 1000:8.1f} ms")
    # The client is one event loop (its Kubernetes threads share the GIL), so it needs its
    # own CPU time in full; on loopback the servers need theirs from the same few cores.
    cores = len(os.sched_getaffinity(0))
    floor = max(cpu["client"], sum(cpu.values()) / cores)
    print("CPU per fan-out: " + ", ".join(f"{name} {secs * 1000:.1f} ms"
                                          for name, secs in cpu.items())
          + ("" if latency else f"; floor on {cores} cores {floor * 1000:.1f} ms"
                                f" = {floor / slowest:.2f}x"))
    ratio = fan / slowest
    print(f"fan-out / slowest = {ratio:.2f}x (target <= 1.2x): {'OK' if ratio <= 1.2 else 'MISS'}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--deadline", type=float, default=8.0)
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="network round trip added to every HTTP exchange")
    parser.add_argument("--scenario", type=Path,
                        default=ROOT.parent / "shared" / "scenarios" / "shop-checkout-oom")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        procs.backfill(args.scenario / "metrics.om", work / "data")
        prometheus = procs.start_prometheus(work, work / "data", args.scenario / "rules.yaml",
                                            None)
        loki_proc, loki_url = start_standin("loki", args.scenario / "logs.jsonl")
        kube_proc, kube_url = start_standin("kube", args.scenario / "kube")
        urls = {"prometheus": prometheus.url, "loki": loki_url, "kube": kube_url}
        relay = None
        if args.latency_ms > 0:
            relay = start_relay({name: _host_port(url) for name, url in urls.items()},
                                args.latency_ms / 1000)
            urls = relay.urls
        prom = PrometheusClient(urls["prometheus"], timeout=10)
        loki = LokiClient(urls["loki"], timeout=10)
        kube = KubeClient.connect(KubeTarget(url=urls["kube"]), timeout=10)
        try:
            calls = investigation(prom, loki, kube)
            print(f"network round trip per HTTP exchange: {args.latency_ms:g} ms")
            await fan_out(calls, deadline=args.deadline)  # warm-up: connections, caches
            # The kubernetes client's thousands of classes make every full GC pass slow;
            # freezing the start-up heap keeps collections to the objects a query makes.
            gc.freeze()
            servers = {"prometheus": prometheus.popen.pid, "loki stand-in": loki_proc.pid,
                       "kube stand-in": kube_proc.pid}
            if relay:
                servers["relay"] = relay.process.pid
            await measure(calls, args.runs, args.deadline, args.latency_ms / 1000, servers)
        finally:
            await prom.aclose()
            await loki.aclose()
            kube.close()
            prometheus.stop()
            if relay:
                relay.stop()
            for proc in (loki_proc, kube_proc):
                proc.terminate()
                proc.join(5)


if __name__ == "__main__":
    asyncio.run(main())
