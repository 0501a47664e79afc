"""Test helpers for the on-demand commands: a sandbox in a background thread, and scenario facts.

The CLI runs its own event loop (asyncio.run), so the sandbox's loopback
stand-ins must be served from another thread for a synchronous test to call
`oncall ...` against them. Expected figures are computed here from the
scenario's own files (kube/*.json, metrics.om, logs.jsonl), never from the
code under test.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from functools import lru_cache
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import yaml
from typer.testing import CliRunner

from bot.cli import app
from sandbox import procs
from sandbox.runner import Sandbox

_SAMPLE = re.compile(r"^([a-zA-Z_:][\w:]*)\{(.*)\} (\S+) (\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


class ThreadedSandbox:
    """A Sandbox whose event loop runs in a daemon thread; `env` points the CLI at it."""

    def __init__(self, scenario: Path, **kwargs: Any) -> None:
        self.scenario = Path(scenario)
        self.kwargs = {"alerting": False, "slack": False, **kwargs}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.sandbox: Sandbox | None = None
        self._answers: dict[tuple[str, ...], dict] = {}

    def __enter__(self) -> "ThreadedSandbox":
        self.thread.start()
        self.sandbox = Sandbox(self.scenario, **self.kwargs)
        asyncio.run_coroutine_threadsafe(self.sandbox.__aenter__(), self.loop).result(120)
        meta = yaml.safe_load((self.sandbox.shifted / "scenario.yaml").read_text())
        self.end = datetime.fromisoformat(str(meta["end"]).replace("Z", "+00:00"))
        self.shift = (self.end - datetime.fromisoformat(
            str(yaml.safe_load((self.scenario / "scenario.yaml").read_text())["end"])
            .replace("Z", "+00:00"))).total_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.sandbox is not None:
            asyncio.run_coroutine_threadsafe(self.sandbox.__aexit__(None, None, None),
                                             self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def urls(self) -> dict[str, str]:
        assert self.sandbox is not None
        return self.sandbox.urls

    @property
    def env(self) -> dict[str, str]:
        """ONCALL_* for the CLI; an Alertmanager that is not there when none runs."""
        assert self.sandbox is not None
        env = {"ONCALL_ALERTMANAGER_URL": f"http://127.0.0.1:{procs.free_port()}",
               "ONCALL_LOKI_URL": "", **self.sandbox.env()}
        return {k: v for k, v in env.items() if "SLACK" not in k}

    def invoke(self, *args: str, env: dict[str, str] | None = None):
        return CliRunner().invoke(app, list(args), env={**self.env, **(env or {}),
                                                        "COLUMNS": "250"})

    def json(self, *args: str) -> dict:
        """`oncall ARGS --format json --at END`, which must exit 0 (memoised: tests only read)."""
        if args not in self._answers:
            result = self.invoke(*args, "--format", "json", "--at", self.end.isoformat())
            assert result.exit_code == 0, result.output
            self._answers[args] = json.loads(result.stdout)
        return self._answers[args]


def kube(scenario: Path, kind: str) -> list[dict]:
    path = scenario / "kube" / f"{kind}.json"
    return json.loads(path.read_text())["items"] if path.exists() else []


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


Key = tuple[tuple[str, str], ...]


@lru_cache(maxsize=32)
def samples(scenario: Path, metric: str) -> dict[Key, list[tuple[float, float]]]:
    """metric's series in metrics.om: sorted label pairs -> [(unix seconds, value)]
    (cached: treat as read-only)."""
    out: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
    prefix = metric + "{"
    with open(scenario / "metrics.om", encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith(prefix):
                continue
            m = _SAMPLE.match(line.rstrip("\n"))
            if m and m.group(1) == metric:
                key = tuple(sorted(_LABEL.findall(m.group(2))))
                out.setdefault(key, []).append((float(m.group(4)), float(m.group(3))))
    return {k: sorted(v) for k, v in out.items()}


def increase(points: list[tuple[float, float]], start: float, end: float) -> float:
    """Counter increase over samples in (start, end], counting resets, without extrapolation."""
    inside = [v for t, v in points if start < t <= end]
    total = 0.0
    for prev, cur in zip(inside, inside[1:]):
        total += cur - prev if cur >= prev else cur
    return total


def log_lines(scenario: Path, pod: str) -> Iterator[tuple[float, str]]:
    """(unix seconds, line) of one pod in logs.jsonl, oldest first."""
    with open(scenario / "logs.jsonl", encoding="utf-8") as fh:
        for raw in fh:
            if f'"{pod}"' not in raw:
                continue
            rec = json.loads(raw)
            if rec["labels"].get("pod") == pod:
                ts = rec["ts"]
                whole, _, frac = ts.rstrip("Z").partition(".")
                yield (datetime.fromisoformat(whole + "+00:00").timestamp()
                       + float("0." + (frac or "0"))), rec["line"]


def labels(key: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return dict(key)
