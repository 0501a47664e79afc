"""Real Prometheus and Alertmanager processes on loopback, for the sandbox and tests.

Flags follow the measured recipe in STACK.md so a page arrives in seconds:
1 s rule evaluation, `--rules.alert.resend-delay=1s`, Alertmanager `group_wait: 1s`,
no gossip listener, explicit external URLs.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_binary(*names: str) -> str:
    for name in names:
        if path := shutil.which(name):
            return path
    raise FileNotFoundError(
        f"none of {', '.join(names)} found on PATH: install Debian's prometheus and "
        "prometheus-alertmanager packages (make deps does)"
    )


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    url: str
    log_path: Path

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _start(name: str, argv: list[str], url: str, ready_path: str, workdir: Path,
           timeout: float = 30.0) -> Process:
    log_path = workdir / f"{name}.log"
    log = log_path.open("wb")
    popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
                             start_new_session=True)
    proc = Process(name, popen, url, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"{name} exited with {popen.returncode}:\n{proc.log_tail()}")
        try:
            if httpx.get(url + ready_path, timeout=1.0).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    proc.stop()
    raise TimeoutError(f"{name} not ready within {timeout:g}s:\n{proc.log_tail()}")


def backfill(metrics_om: Path, data_dir: Path) -> None:
    """Write TSDB blocks from an OpenMetrics file with the real promtool."""
    data_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [find_binary("promtool"), "tsdb", "create-blocks-from", "openmetrics",
         str(metrics_om), str(data_dir)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"promtool backfill failed: {result.stderr[-2000:]}")


def compress_for(rules_src: Path, rules_dst: Path, for_seconds: int | None) -> None:
    """Copy alerting rules, shortening `for:` so a replayed incident pages at once.

    A backfilled incident already happened; waiting out `for: 2m` again only
    slows the sandbox down. `for_seconds=None` keeps the rules as they are.
    """
    doc = yaml.safe_load(rules_src.read_text()) or {}
    if for_seconds is not None:
        for group in doc.get("groups", []):
            for rule in group.get("rules", []):
                if "alert" in rule and "for" in rule:
                    rule["for"] = f"{for_seconds}s"
    rules_dst.write_text(yaml.safe_dump(doc, sort_keys=False))


def start_prometheus(workdir: Path, data_dir: Path, rules: Path | None,
                     alertmanager_url: str | None, port: int | None = None) -> Process:
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    config = {"global": {"evaluation_interval": "1s", "scrape_interval": "15s"}}
    if rules is not None:
        config["rule_files"] = [str(rules)]
    if alertmanager_url:
        target = alertmanager_url.split("://", 1)[-1].rstrip("/")
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [target]}]}]}
    cfg = workdir / "prometheus.yml"
    cfg.write_text(yaml.safe_dump(config))
    argv = [
        find_binary("prometheus"), f"--config.file={cfg}", f"--storage.tsdb.path={data_dir}",
        f"--web.listen-address=127.0.0.1:{port}", f"--web.external-url={url}",
        "--rules.alert.resend-delay=1s", "--storage.tsdb.retention.time=30d",
        "--web.enable-lifecycle", "--log.level=warn",
    ]
    return _start("prometheus", argv, url, "/-/ready", workdir)


def start_alertmanager(workdir: Path, webhook_url: str, *, token: str | None = None,
                       port: int | None = None, group_by: list[str] | None = None) -> Process:
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    webhook: dict = {"url": webhook_url, "send_resolved": True, "max_alerts": 0}
    if token:
        webhook["http_config"] = {"authorization": {"type": "Bearer", "credentials": token}}
    config = {
        "route": {
            "receiver": "oncall-copilot",
            "group_by": group_by or ["alertname", "namespace", "service"],
            "group_wait": "1s", "group_interval": "1s", "repeat_interval": "4h",
        },
        "receivers": [{"name": "oncall-copilot", "webhook_configs": [webhook]}],
    }
    cfg = workdir / "alertmanager.yml"
    cfg.write_text(yaml.safe_dump(config))
    storage = workdir / "alertmanager-data"
    storage.mkdir(exist_ok=True)
    argv = [
        find_binary("prometheus-alertmanager", "alertmanager"), f"--config.file={cfg}",
        f"--storage.path={storage}", f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=", f"--web.external-url={url}", "--log.level=warn",
    ]
    return _start("alertmanager", argv, url, "/-/ready", workdir)
