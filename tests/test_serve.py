"""`oncall serve` and `oncall sandbox up` as a user runs them: real processes, real signals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sandbox.procs import free_port

ROOT = Path(__file__).resolve().parents[1]
ONCALL = [sys.executable, "-m", "bot.cli"]


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("condition not met in time")


def children(pid: int, *, worker_only: bool = False) -> list[int]:
    out = subprocess.run(["ps", "-ww", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True,
                         text=True).stdout
    rows = [line.split(None, 1) for line in out.strip().splitlines() if line.strip()]
    return [int(p) for p, args in rows if not worker_only or "multiprocessing.spawn" in args]


def notification_states(db: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT state FROM notifications ORDER BY id")]


def test_serve_runs_the_worker_beside_intake_and_restarts_it(tmp_path, alerts_body):
    port, db = free_port(), tmp_path / "serve.db"
    env = {**os.environ, "ONCALL_PORT": str(port), "ONCALL_HOST": "127.0.0.1",
           "ONCALL_DATABASE_URL": f"sqlite:///{db}", "ONCALL_PROMETHEUS_URL": "http://127.0.0.1:9",
           "ONCALL_WORKER_POLL": "0.1", "ONCALL_WORKER_MODE": "process"}
    env.pop("ONCALL_SLACK_BOT_TOKEN", None)
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(ONCALL + ["serve", "--log-level", "WARNING"], cwd=tmp_path, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ok(url + "/healthz"))
        assert httpx.post(url + "/alertmanager", content=alerts_body).json()["status"] == "accepted"
        wait_until(lambda: notification_states(db) == ["done"])

        [worker_pid] = wait_until(lambda: children(server.pid, worker_only=True))
        os.kill(worker_pid, signal.SIGKILL)
        wait_until(lambda: [p for p in children(server.pid, worker_only=True) if p != worker_pid])

        second = json.loads(alerts_body)
        second["alerts"][0]["fingerprint"] = "0123456789abcdef"
        httpx.post(url + "/alertmanager", content=json.dumps(second).encode())
        wait_until(lambda: notification_states(db) == ["done", "done"])
        metrics = httpx.get(url + "/metrics").text
        assert 'oncall_notifications_processed_total{outcome="done"}' in metrics
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(15)
    assert children(server.pid) == []


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.stack
def test_sandbox_up_prints_settings_and_stops_cleanly_on_ctrl_c(tmp_path):
    from sandbox.builder import build_demo_scenario

    scenario = build_demo_scenario(tmp_path / "scenario")
    proc = subprocess.Popen(ONCALL + ["sandbox", "up", "--scenario", str(scenario)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    lines: list[str] = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C" in line:
                break
        exports = dict(re.findall(r"export (ONCALL_\w+)=(\S+)", "".join(lines)))
        assert {"ONCALL_PROMETHEUS_URL", "ONCALL_ALERTMANAGER_URL", "ONCALL_LOKI_URL",
                "ONCALL_KUBE_API_URL", "ONCALL_SLACK_API_URL"} <= exports.keys(), lines
        assert httpx.get(exports["ONCALL_PROMETHEUS_URL"] + "/-/ready").status_code == 200
        assert httpx.get(exports["ONCALL_LOKI_URL"] + "/ready").status_code == 200
        assert httpx.get(exports["ONCALL_KUBE_API_URL"] + "/api/v1/namespaces/store/pods").json()["kind"] == "PodList"
        pids = children(proc.pid)
        assert len(pids) >= 2  # prometheus and alertmanager
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
    assert proc.returncode == 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(httpx.HTTPError):
        httpx.get(exports["ONCALL_PROMETHEUS_URL"] + "/-/ready", timeout=1)
