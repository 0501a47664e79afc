"""The `demo` and `sandbox up` commands: the only place the bot touches `sandbox`."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from aiohttp import web
from rich.console import Console

from bot.server import make_app
from bot.settings import Settings
from sandbox import procs
from sandbox.runner import Sandbox
from sandbox.show import print_thread


def _print_env(sandbox: Sandbox, console: Console) -> None:
    console.print("[bold]Point the bot at the sandbox with:[/bold]")
    for key, value in sandbox.env().items():
        console.print(f"export {key}={value}")


def run_sandbox_forever(scenario: Path, webhook_url: str, token: str | None, console: Console) -> None:
    async def main() -> None:
        async with Sandbox(scenario, webhook_url=webhook_url, webhook_token=token) as sandbox:
            _print_env(sandbox, console)
            console.print("[dim]Ctrl-C stops everything.[/dim]")
            await asyncio.Event().wait()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        console.print("sandbox stopped")


def _reported(recorder) -> bool:
    posts = recorder.calls_to("chat.postMessage")
    return any(p.get("thread_ts") for p in posts)


async def _demo(scenario: Path, timeout: float, console: Console) -> int:
    port = procs.free_port()
    with tempfile.TemporaryDirectory(prefix="oncall-demo-") as tmp:
        console.print(f"[bold]Scenario[/bold] {scenario}")
        async with Sandbox(scenario, webhook_url=f"http://127.0.0.1:{port}/alertmanager",
                           webhook_token="demo-webhook-token") as sandbox:
            console.print(f"Prometheus {sandbox.urls['prometheus']} · Alertmanager "
                          f"{sandbox.urls['alertmanager']} · Slack stand-in {sandbox.urls['slack']}")
            settings = Settings(**{k.removeprefix("ONCALL_").lower(): v for k, v in sandbox.env().items()},
                                database_url=f"sqlite:///{tmp}/oncall.db", port=port,
                                slack_channel="#shop-oncall")
            app = make_app(settings, run_worker=True)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            started = time.monotonic()
            console.print(f"Bot listening on :{port}; waiting for the real page from Alertmanager...")
            try:
                await sandbox.slack.wait_for(_reported, timeout)
            except TimeoutError:
                console.print(f"[red]No report within {timeout:g}s.[/red] Prometheus log:\n"
                              f"{sandbox.prometheus.log_tail()}")
                return 1
            finally:
                elapsed = time.monotonic() - started
                await runner.cleanup()
            parent = sandbox.slack.calls_to("chat.postMessage")[0]
            ts = next(m["ts"] for m in sandbox.slack.messages.values() if "thread_ts" not in m)
            console.print(f"\n[bold green]Thread posted {elapsed:.1f}s after start[/bold green] "
                          f"(channel {parent['channel']}):\n")
            print_thread(sandbox.slack.thread(ts), console)
    return 0


def run_demo(scenario: Path | None, timeout: float, console: Console) -> int:
    if scenario is None:
        from sandbox.builder import build_demo_scenario

        scenario = build_demo_scenario(Path(tempfile.mkdtemp(prefix="oncall-demo-scenario-")))
    return asyncio.run(_demo(scenario, timeout, console))
