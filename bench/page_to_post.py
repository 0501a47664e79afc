"""Page-to-first-post latency with the sandbox: real Prometheus and Alertmanager.

For each run: replay the bundled OOM-kill demo scenario (or --scenario DIR),
let the real rule fire, and measure from the moment the bot received the
webhook (its store's timestamp) to the parent `chat.postMessage` and to the
first report reply at the Slack stand-in. Targets: parent within 1 s, full
report within 5 s.

    .venv/bin/python bench/page_to_post.py [--runs 3] [--scenario DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402

from bot.server import STORE, make_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from sandbox import procs  # noqa: E402
from sandbox.runner import Sandbox  # noqa: E402


async def one_run(scenario: Path, tmp: Path) -> tuple[float, float, float]:
    port = procs.free_port()
    async with Sandbox(scenario, webhook_url=f"http://127.0.0.1:{port}/alertmanager") as sandbox:
        env = {k.removeprefix("ONCALL_").lower(): v for k, v in sandbox.env().items()}
        app = make_app(Settings(_env_file=None, database_url=f"sqlite:///{tmp}/bench-{port}.db",
                                port=port, **env), run_worker=True)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            slack = sandbox.slack
            await slack.wait_for(lambda s: any(c.get("thread_ts") for c in s.calls_to("chat.postMessage")), 60)
            received = app[STORE].notifications()[0]["received_at"]
            posts = [(t, args) for (m, args), t in zip(slack.calls, slack.call_times) if m == "chat.postMessage"]
            parent = next(t for t, a in posts if not a.get("thread_ts"))
            report = next(t for t, a in posts if a.get("thread_ts"))
            rule_to_webhook = received - sandbox.started_at
        finally:
            await runner.cleanup()
    return parent - received, report - received, rule_to_webhook


async def main(runs: int, scenario: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if scenario is None:
            from sandbox.builder import build_demo_scenario

            scenario = build_demo_scenario(Path(tmp) / "scenario")
        results = []
        for i in range(runs):
            parent, report, arrival = await one_run(scenario, Path(tmp))
            results.append((parent, report))
            print(f"run {i + 1}: page arrived {arrival:.1f} s after Prometheus started; "
                  f"parent +{parent * 1000:.0f} ms, report +{report * 1000:.0f} ms")
    print(f"page-to-first-post over {runs} runs: parent median {statistics.median(r[0] for r in results) * 1000:.0f} ms "
          f"(max {max(r[0] for r in results) * 1000:.0f}; target < 1000), full report median "
          f"{statistics.median(r[1] for r in results) * 1000:.0f} ms "
          f"(max {max(r[1] for r in results) * 1000:.0f}; target < 5000)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenario", type=Path, default=None)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.scenario))
