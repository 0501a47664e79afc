"""`oncall serve` replicas as real processes sharing one store, plus loopback stand-ins,
for the HA, crash and storm tests and the intake benchmark."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from sandbox.procs import free_port
from sandbox.slack import RECORDER, SlackRecorder, make_slack_app

ONCALL = [sys.executable, "-m", "bot.cli", "serve", "--log-level", "WARNING"]
TOKEN = "xoxb-ha-test"


class Replica:
    """One `oncall serve` (HTTP intake plus its worker child process) in its own session."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name}.log"
        full = {**os.environ, **env, "ONCALL_PORT": str(self.port), "ONCALL_HOST": "127.0.0.1"}
        full.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.proc = subprocess.Popen(ONCALL, cwd=workdir, env=full, start_new_session=True,
                                     stdout=self.log_path.open("w"), stderr=subprocess.STDOUT)

    async def ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited: {self.log()}")
                try:
                    async with http.get(self.url + "/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready: {self.log()}")

    def worker_pid(self) -> int:
        """The process that claims work: the worker child (worker_mode=process) or serve itself."""
        out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        for line in out.strip().splitlines():
            pid, args = line.split(None, 1)
            if "multiprocessing.spawn" in args:
                return int(pid)
        return self.proc.pid

    def kill(self) -> None:
        """kill -9 the whole replica (HTTP process and worker), like a node dying."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # anything left in its session
        except ProcessLookupError:
            pass

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def replica_env(database_url: str, slack_url: str, prometheus_url: str, **extra: object) -> dict:
    env = {"ONCALL_DATABASE_URL": database_url, "ONCALL_SLACK_BOT_TOKEN": TOKEN,
           "ONCALL_SLACK_API_URL": slack_url, "ONCALL_SLACK_CHANNEL": "#ha",
           "ONCALL_PROMETHEUS_URL": prometheus_url, "ONCALL_WORKER_POLL": "0.1",
           "ONCALL_INVESTIGATION_DEADLINE": "2", "ONCALL_LOG_FORMAT": "json"}
    env.update({f"ONCALL_{k.upper()}": str(v) for k, v in extra.items()})
    return env


async def serve_app(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)  # don't wait for hung requests
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def slack_standin(rate_limit: float | None = None) -> tuple[web.AppRunner, str, SlackRecorder]:
    app = make_slack_app(TOKEN, rate_limit=rate_limit)
    runner, url = await serve_app(app)
    return runner, url + "/api/", app[RECORDER]


async def slow_prometheus(delay: float) -> tuple[web.AppRunner, str]:
    """A Prometheus that answers nothing for `delay` seconds: investigations run to their deadline."""
    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(delay)
        return web.json_response({"status": "success", "data": {"resultType": "vector", "result": []}})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hang)
    return await serve_app(app)


def posted_keys(recorder: SlackRecorder) -> list[str]:
    """The outbox key of every message Slack accepted (each must appear once).

    From the messages, not the calls: a call refused with 429 and sent again
    is one post, not two."""
    keys = []
    for args in recorder.messages.values():
        meta = args.get("metadata") or {}
        if isinstance(meta, dict) and meta.get("event_payload", {}).get("key"):
            keys.append(meta["event_payload"]["key"])
    return keys


def parents(recorder: SlackRecorder) -> list[dict]:
    return [m for m in recorder.messages.values() if not m.get("thread_ts")]


async def wait_for(predicate, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate() if asyncio.iscoroutinefunction(predicate) else predicate()
        if value:
            return value
        await asyncio.sleep(interval)
    raise TimeoutError(f"{what} not met within {timeout} s")
