"""Webhook acknowledgement latency of `oncall serve` under 50 concurrent posts.

Starts the real server as a subprocess (SQLite store in a temp dir, worker on),
posts distinct valid Alertmanager webhooks in waves of 50 concurrent requests
and prints p50/p99 of the time to the 200. Target: p99 under 50 ms.

By default Prometheus is absent, so each investigation fails fast: that
measures intake beside a worker that mostly posts. With --scenario DIR the
scenario's metrics are backfilled into a real Prometheus and every webhook
carries the scenario's page (100 groups of it), so the worker investigates
real data (PromQL, detectors, reports) while the acks are measured. Set
ONCALL_WORKER_MODE=inline or process to compare the two.

    .venv/bin/python bench/webhook_ack.py [--waves 20] [--scenario DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402

from sandbox.procs import free_port  # noqa: E402
from sandbox.runner import Sandbox  # noqa: E402
from sandbox.scenario import page_of  # noqa: E402
from sandbox.slack import RECORDER, make_slack_app  # noqa: E402

TEMPLATE = {
    "receiver": "oncall-copilot", "status": "firing", "version": "4", "truncatedAlerts": 0,
    "externalURL": "http://127.0.0.1:9093", "groupLabels": {"alertname": "BenchAlert"},
    "commonLabels": {"alertname": "BenchAlert", "namespace": "bench", "severity": "warning"},
    "commonAnnotations": {"summary": "benchmark alert"},
    "alerts": [{"status": "firing", "labels": {"alertname": "BenchAlert", "namespace": "bench"},
                "annotations": {"summary": "benchmark alert"}, "startsAt": "2026-11-26T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://127.0.0.1:9090/graph",
                "fingerprint": "0"}],
}


def body(i: int) -> bytes:
    data = copy.deepcopy(TEMPLATE)
    data["groupKey"] = f'{{}}:{{alertname="BenchAlert", n="{i % 100}"}}'
    data["alerts"][0]["fingerprint"] = f"{i:016x}"
    return json.dumps(data).encode()


def use_scenario_page(scenario: Path) -> None:
    """Post the scenario's own page (its first alert) instead of the synthetic one."""
    alert, group_labels = page_of(scenario)
    TEMPLATE.update(groupLabels=group_labels, commonLabels=alert["labels"],
                    commonAnnotations=alert.get("annotations", {}),
                    alerts=[{**alert, "startsAt": "2026-11-26T10:00:00Z"}])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wave(client: aiohttp.ClientSession, url: str, start: int, n: int) -> list[float]:
    bodies = [body(start + i) for i in range(n)]  # Alertmanager's encoding is not our latency

    async def one(i: int) -> float:
        t0 = time.perf_counter()
        async with client.post(url, data=bodies[i], headers={"Content-Type": "application/json"}) as resp:
            answer = await resp.json()
        assert resp.status == 200 and answer["status"] == "accepted", answer
        return (time.perf_counter() - t0) * 1000

    return await asyncio.gather(*(one(i) for i in range(n)))


async def slack_standin() -> tuple[web.AppRunner, str, web.Application]:
    app = make_slack_app("xoxb-bench")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/api/", app


async def main(waves: int, concurrency: int, scenario: Path | None) -> None:
    if scenario is None:
        await measure(waves, concurrency, f"http://127.0.0.1:{free_port()}")
        return
    use_scenario_page(scenario)
    async with Sandbox(scenario, alerting=False, slack=False) as sandbox:
        await measure(waves, concurrency, sandbox.urls["prometheus"])


async def measure(waves: int, concurrency: int, prometheus_url: str) -> None:
    port = free_port()
    slack_runner, slack_url, slack_app = await slack_standin()
    with tempfile.TemporaryDirectory() as tmp:
        # The worker runs as in production: it threads every page in Slack (a
        # loopback stand-in) while intake is measured.
        env = {**os.environ, "ONCALL_DATABASE_URL": f"sqlite:///{tmp}/bench.db", "ONCALL_PORT": str(port),
               "ONCALL_HOST": "127.0.0.1", "ONCALL_PROMETHEUS_URL": prometheus_url,
               "ONCALL_SLACK_BOT_TOKEN": "xoxb-bench", "ONCALL_SLACK_API_URL": slack_url}
        server = subprocess.Popen([str(ROOT / ".venv/bin/oncall"), "serve", "--log-level", "WARNING"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            connector = aiohttp.TCPConnector(limit=concurrency)
            async with aiohttp.ClientSession(connector=connector) as c:
                for _ in range(100):
                    try:
                        async with c.get(url + "/healthz") as resp:
                            if resp.status == 200:
                                break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.1)
                await wave(c, url + "/alertmanager", 10**6, concurrency)  # warm-up
                recorder = slack_app[RECORDER]
                for _ in range(300):  # measure only once the worker is busy posting
                    if recorder.calls_to("chat.postMessage"):
                        break
                    await asyncio.sleep(0.1)
                latencies: list[float] = []
                cpu0, own0, t0 = cpu_seconds(server.pid), time.process_time(), time.perf_counter()
                for w in range(waves):
                    latencies += await wave(c, url + "/alertmanager", w * concurrency, concurrency)
                serve_cpu, client_cpu = cpu_seconds(server.pid) - cpu0, time.process_time() - own0
                wall = time.perf_counter() - t0
        finally:
            server.terminate()
            server.wait(10)
            await slack_runner.cleanup()
    posts = len(slack_app[RECORDER].calls_to("chat.postMessage"))
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"webhook ack latency, {len(latencies)} posts at {concurrency} concurrent: "
          f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms (target p99 < 50 ms); "
          f"worker meanwhile made {posts} Slack posts")
    n = len(latencies)
    print(f"CPU per post: serve's HTTP process {serve_cpu / n * 1000:.2f} ms, this client "
          f"{client_cpu / n * 1000:.2f} ms; {n / wall:.0f} posts/s over {wall:.1f} s on "
          f"{os.cpu_count()} cores")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waves", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--scenario", type=Path, default=None,
                        help="investigate this scenario's page against its data in a real Prometheus")
    args = parser.parse_args()
    asyncio.run(main(args.waves, args.concurrency, args.scenario))
