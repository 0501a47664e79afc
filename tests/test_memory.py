"""`oncall serve`'s HTTP process stays lean: with the worker in its own process it
does not load the investigation stack, unless chat commands can reach it."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

from bot.memory import limit_arenas

HEAVY = ("kubernetes", "numpy", "chromadb", "onnxruntime", "reasoning.investigate", "adapters.kube",
         "botbuilder.core", "scipy")
PROBE = """
import asyncio, json, sys
from aiohttp import web
import bot.cli  # `oncall serve` starts from the CLI, which registers every command
from bot.server import make_app
from bot.settings import Settings

async def main():
    settings = Settings(_env_file=None, **json.loads(sys.argv[1]))
    runner = web.AppRunner(make_app(settings, with_worker=False))
    await runner.setup()  # runs the startup hooks, workflow warm-up included
    print(json.dumps(sorted(m for m in %r if m in sys.modules)))
    await runner.cleanup()

asyncio.run(main())
""" % (HEAVY,)


def loaded(tmp_path, **settings) -> list[str]:
    values = {"database_url": f"sqlite:///{tmp_path}/lean.db", "slack_bot_token": "xoxb-lean",
              "prometheus_url": "http://127.0.0.1:9", "kube_api_url": "http://127.0.0.1:9", **settings}
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(values)], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_intake_process_leaves_the_investigation_stack_unloaded(tmp_path):
    assert loaded(tmp_path) == []


def test_commands_that_can_arrive_load_their_workflows_before_serving(tmp_path):
    heavy = set(loaded(tmp_path, slack_signing_secret="s3cret"))
    assert {"kubernetes", "adapters.kube"} <= heavy
    # Teams' SDK only where Teams is configured; scipy only when a canary is gated
    assert not heavy & {"botbuilder.core", "scipy"}


def test_teams_loads_its_sdk_when_configured(tmp_path):
    assert "botbuilder.core" in loaded(tmp_path, teams_app_id="00000000-0000-0000-0000-000000000001",
                                       teams_app_password="p")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc malloc only")
def test_arena_cap_applies_on_glibc():
    assert limit_arenas(2) is True


SERVE_PROBE = """
import gc, json, sys
from aiohttp import web
from bot import server
from bot.settings import Settings

def listen(app, **kw):  # where `oncall serve` would open its port
    print(json.dumps({"loaded": sorted(m for m in ("chromadb", "onnxruntime") if m in sys.modules),
                      "frozen": gc.get_freeze_count()}))

web.run_app = listen
server.serve(Settings(_env_file=None, **json.loads(sys.argv[1])))
"""


@pytest.mark.parametrize("mode, runbooks, expected", [
    ("inline", True, ["chromadb", "onnxruntime"]),
    ("inline", False, []),
    ("process", True, []),  # the worker child loads them, not the HTTP process
])
def test_inline_worker_loads_the_runbook_search_before_listening(tmp_path, mode, runbooks, expected):
    values = {"database_url": f"sqlite:///{tmp_path}/serve.db", "worker_mode": mode,
              "runbooks_enabled": runbooks, "prometheus_url": "http://127.0.0.1:9"}
    out = subprocess.run([sys.executable, "-c", SERVE_PROBE, json.dumps(values)], check=True,
                         capture_output=True, text=True, timeout=120, cwd=tmp_path).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["loaded"] == expected
    assert seen["frozen"] > 0  # and frozen out of the collector's sight with the rest
