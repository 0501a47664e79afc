"""Shared fixtures: a bot server on loopback, paths to scenarios."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web

from bot.server import STORE, make_app
from bot.settings import Settings
from sandbox import procs

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SCENARIOS = SHARED / "scenarios"


def shared_scenario(name: str) -> Path:
    path = SCENARIOS / name
    if not path.exists():
        pytest.skip(f"{path} not present (a clone without ../shared)")
    return path


@pytest.fixture
def alerts_body(tmp_path_factory) -> bytes:
    """A real Alertmanager v4 body: the shared OOM scenario's page, or the built demo's."""
    path = SCENARIOS / "shop-checkout-oom" / "alerts.json"
    if path.exists():
        return path.read_bytes()
    from sandbox.builder import build_demo_scenario

    return (build_demo_scenario(tmp_path_factory.mktemp("demo")) / "alerts.json").read_bytes()


class BotServer:
    def __init__(self, app: web.Application, url: str) -> None:
        self.app, self.url = app, url

    @property
    def store(self):
        return self.app[STORE]


@pytest.fixture
async def start_bot(tmp_path):
    """Factory: start `make_app(settings)` on a free loopback port; stopped at teardown."""
    runners: list[web.AppRunner] = []

    async def start(*, run_worker: bool = True, sink=None, port: int | None = None,
                    **overrides) -> BotServer:
        port = port or procs.free_port()
        overrides.setdefault("runbooks_enabled", False)  # retrieval has its own tests; keep timing tight
        settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path}/oncall-{port}.db",
                            port=port, **overrides)
        app = make_app(settings, sink=sink, run_worker=run_worker)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        return BotServer(app, f"http://127.0.0.1:{port}")

    yield start
    for runner in runners:
        await runner.cleanup()


def load_json(path: Path) -> dict:
    return json.loads(path.read_text())
