"""Sustained webhook intake of `oncall serve` on SQLite and on PostgreSQL, and its memory.

For each store: starts the real server (worker on, as deployed; Slack is a
loopback stand-in allowing 1 msg/s per channel with 429s past it; Prometheus
is absent so investigations fail fast), then
1. RSS idle (HTTP process and worker process);
2. sustained intake: distinct webhooks (each a new group) posted by 50
   concurrent clients as fast as they are acknowledged, the worker busy
   meanwhile: webhooks/s over the whole run;
3. a storm: 1,000 alerts (--storm) spread over --storm-seconds into one channel;
4. waits for the queue to drain, then RSS after the storm (and the peak seen).
Target: RSS under 300 MB. With the worker in serve's event loop (the default) that
is one process; with --worker-mode process it is printed per process (serve, its
worker child) and summed.

By default Prometheus is absent, so investigations fail fast. With --scenario DIR
every webhook carries the scenario's page and the worker investigates it against
the scenario's metrics in a real Prometheus (use smaller --webhooks and --storm:
each group is a real investigation).

    .venv/bin/python bench/intake_throughput.py [--webhooks 3000] [--storm 1000]
        [--storm-seconds 60] [--stores sqlite,postgresql] [--no-commands]
        [--worker-mode inline|process] [--scenario DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402

from sandbox.procs import free_port  # noqa: E402
from sandbox.runner import Sandbox  # noqa: E402
from sandbox.scenario import page_of  # noqa: E402
from sandbox.slack import RECORDER, make_slack_app  # noqa: E402

PG_SERVER = os.environ.get("ONCALL_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


PAGE = {"labels": {"alertname": "Bench", "namespace": "bench", "severity": "warning"},
        "annotations": {"summary": "benchmark alert"}}


def body(i: int, tag: str) -> bytes:
    labels = {**PAGE["labels"], "n": f"{tag}{i}"}
    return json.dumps({
        "version": "4", "receiver": "oncall-copilot", "status": "firing", "truncatedAlerts": 0,
        "groupKey": f'{{}}:{{alertname="{labels["alertname"]}", n="{tag}{i}"}}',
        "externalURL": "http://127.0.0.1:9093",
        "groupLabels": {"alertname": labels["alertname"], "n": f"{tag}{i}"},
        "commonLabels": labels, "commonAnnotations": PAGE["annotations"],
        "alerts": [{"status": "firing", "labels": labels, "annotations": PAGE["annotations"],
                    "startsAt": "2026-11-26T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "", "fingerprint": f"{i:016x}"}],
    }).encode()


def rss_mb(pid: int, field: str = "Rss:") -> float:
    """Resident (Rss:) or proportional (Pss:, shared pages split) memory of a process."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def worker_pid(parent: int) -> int | None:
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(parent)], capture_output=True,
                         text=True).stdout
    return next((int(p) for p, a in (ln.split(None, 1) for ln in out.strip().splitlines())
                 if "multiprocessing.spawn" in a), None)


def memory(server: subprocess.Popen) -> tuple[float, float, float]:
    """(RSS of the HTTP process, RSS of the worker process, PSS of both together)."""
    worker = worker_pid(server.pid)
    pids = [server.pid] + ([worker] if worker else [])
    return (rss_mb(server.pid), rss_mb(worker) if worker else 0.0,
            sum(rss_mb(p, "Pss:") for p in pids))


def pg_database() -> tuple[str, str] | None:
    try:
        import psycopg

        name = f"oncall_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name, PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name
    except Exception as exc:  # no server: the SQLite figures still come
        print(f"PostgreSQL unavailable ({exc}); skipping it")
        return None


def drop_pg(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def post_many(http: aiohttp.ClientSession, url: str, bodies: list[bytes], concurrency: int,
                    spread: float = 0.0) -> dict[int, int]:
    codes: dict[int, int] = {}
    sem, started = asyncio.Semaphore(concurrency), time.monotonic()

    async def one(i: int, data: bytes) -> None:
        if spread:
            await asyncio.sleep(max(0.0, started + i * spread / len(bodies) - time.monotonic()))
        async with sem, http.post(url, data=data, headers={"Content-Type": "application/json"}) as r:
            await r.read()
            codes[r.status] = codes.get(r.status, 0) + 1

    await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))
    return codes


async def queue_empty(database_url: str) -> bool:
    env = {**os.environ, "ONCALL_DATABASE_URL": database_url}
    proc = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv/bin/oncall"), "status", "--json", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    out, _ = await proc.communicate()
    try:
        data = json.loads(out)
    except ValueError:
        return False
    return set(data["queue"]) <= {"done", "dead"} and data["rollup_waiting"] == 0


async def run(label: str, database_url: str, args: argparse.Namespace, prometheus_url: str) -> None:
    webhooks, storm_seconds, commands, worker_mode = (args.webhooks, args.storm_seconds,
                                                      args.commands, args.worker_mode)
    slack_app = make_slack_app("xoxb-bench", rate_limit=1.0)
    runner = web.AppRunner(slack_app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    slack_port, port = free_port(), free_port()
    await web.TCPSite(runner, "127.0.0.1", slack_port).start()
    env = {**os.environ, "ONCALL_DATABASE_URL": database_url, "ONCALL_PORT": str(port),
           "ONCALL_HOST": "127.0.0.1", "ONCALL_PROMETHEUS_URL": prometheus_url,
           "ONCALL_SLACK_BOT_TOKEN": "xoxb-bench", "ONCALL_SLACK_CHANNEL": "#bench",
           "ONCALL_SLACK_API_URL": f"http://127.0.0.1:{slack_port}/api/",
           # as in a cluster: the worker holds a Kubernetes client (nothing answers)
           "ONCALL_KUBE_API_URL": f"http://127.0.0.1:{free_port()}",
           "ONCALL_WORKER_MODE": worker_mode}
    if commands:  # Slack can send /oncall here: the HTTP process loads the workflows
        env["ONCALL_SLACK_SIGNING_SECRET"] = "bench-signing-secret"
    server = subprocess.Popen([str(ROOT / ".venv/bin/oncall"), "serve", "--log-level", "ERROR"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    peak = 0.0
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as http:
            for _ in range(300):
                try:
                    async with http.get(url + "/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            await asyncio.sleep(5)  # the worker process has started and settled
            idle = memory(server)

            t0 = time.perf_counter()
            codes = await post_many(http, url + "/alertmanager",
                                    [body(i, "s") for i in range(webhooks)], 50)
            rate = webhooks / (time.perf_counter() - t0)

            storm = asyncio.create_task(post_many(
                http, url + "/alertmanager", [body(i, "storm") for i in range(args.storm)], 50,
                spread=storm_seconds))
            while not storm.done():
                peak = max(peak, sum(memory(server)[:2]))
                await asyncio.sleep(0.5)
            storm_codes = await storm
            drained, deadline = False, time.monotonic() + 600
            while not drained and time.monotonic() < deadline:
                peak = max(peak, sum(memory(server)[:2]))
                drained = await queue_empty(database_url)
                await asyncio.sleep(1)
            after = memory(server)
    finally:
        server.terminate()
        server.wait(20)
        await runner.cleanup()
    recorder = slack_app[RECORDER]
    print(f"{label:10s} intake {rate:7.0f} webhooks/s sustained ({webhooks} new groups, 50 "
          f"concurrent, worker running; answers {codes}); storm answers {storm_codes}")
    for when, (http_mb, worker_mb, pss) in (("idle", idle), ("after the storm", after)):
        print(f"{'':10s} memory {when:15s}: serve {http_mb:4.0f} MB + worker {worker_mb:4.0f} MB "
              f"= {http_mb + worker_mb:4.0f} MB RSS (PSS of both {pss:4.0f} MB; target < 300 MB)")
    print(f"{'':10s} peak RSS sum during the storm {peak:.0f} MB; queue "
          f"{'drained' if drained else 'NOT drained'}; Slack saw {len(recorder.messages)} "
          f"messages, {len(recorder.limited)} 429s; /oncall commands {'on' if commands else 'off'}; "
          f"worker {worker_mode}")


async def main(args: argparse.Namespace) -> None:
    print(f"oncall serve on {os.cpu_count()} cores")
    if args.scenario is None:
        await each_store(args, f"http://127.0.0.1:{free_port()}")
        return
    page, _ = page_of(args.scenario)
    PAGE.update(labels=page["labels"], annotations=page.get("annotations", {}))
    async with Sandbox(args.scenario, alerting=False, slack=False) as sandbox:
        print(f"investigating {args.scenario.name}'s page against its data in a real Prometheus")
        await each_store(args, sandbox.urls["prometheus"])


async def each_store(args: argparse.Namespace, prometheus_url: str) -> None:
    if "sqlite" in args.stores:
        with tempfile.TemporaryDirectory() as tmp:
            await run("SQLite", f"sqlite:///{tmp}/bench.db", args, prometheus_url)
    pg = pg_database() if "postgresql" in args.stores else None
    if pg:
        try:
            await run("PostgreSQL", pg[1], args, prometheus_url)
        finally:
            drop_pg(pg[0])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=3000)
    parser.add_argument("--storm-seconds", type=float, default=60.0)
    parser.add_argument("--storm", type=int, default=1000, help="alerts in the storm")
    parser.add_argument("--scenario", type=Path, default=None,
                        help="investigate this scenario's page against its data (real Prometheus)")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--commands", action=argparse.BooleanOptionalAction, default=True,
                        help="Slack /oncall commands on (signing secret set), as deployed")
    parser.add_argument("--worker-mode", choices=("inline", "process"), default="inline",
                        help="ONCALL_WORKER_MODE: the worker in a child process or in serve's loop")
    asyncio.run(main(parser.parse_args()))
