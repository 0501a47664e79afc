"""Wiring of the worker, shared by `oncall serve` (in or beside the HTTP process)
and `oncall work` (a worker on its own)."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.prometheus import PrometheusClient
from bot.chat import ChatSink, SlackSink, TerminalSink
from bot.settings import Settings
from bot.store import Store
from bot.worker import Worker

log = logging.getLogger(__name__)


def make_slack_app(settings: Settings) -> AsyncApp | None:
    """Bolt app for the Web API client and /slack/events; None without a bot token."""
    if settings.slack_bot_token is None:
        return None
    client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(),
                            base_url=settings.slack_api_url)
    secret = settings.slack_signing_secret
    app = AsyncApp(client=client, signing_secret=secret.get_secret_value() if secret else None,
                   request_verification_enabled=secret is not None)

    @app.command("/oncall")
    async def oncall_command(ack, command):  # the subcommands arrive with the chat issue
        await ack(f"oncall-copilot is listening. Usage: /oncall help (got `{command.get('text', '')}`)")

    return app


def build_worker(settings: Settings, store: Store, sink: ChatSink | None = None,
                 slack: AsyncApp | None = None) -> Worker:
    """A worker with its Prometheus client and chat sink (`await worker.aclose()` when done)."""
    if sink is None:
        slack = slack or make_slack_app(settings)
        sink = SlackSink(slack, settings.slack_channel) if slack else TerminalSink()
    prometheus = PrometheusClient(settings.prometheus_url, link_url=settings.prometheus_link_url)
    return Worker(store, sink, prometheus, deadline=settings.investigation_deadline,
                  slo_objective=settings.slo_objective, concurrency=settings.worker_concurrency,
                  poll_seconds=settings.worker_poll)


async def run_worker(settings: Settings) -> None:
    """`oncall work`, or the child process of `oncall serve`: only the worker."""
    store = Store(settings.database_url)
    worker = build_worker(settings, store)
    try:
        await worker.run()
    finally:
        await worker.aclose()
        store.close()


def _worker_main(settings: Settings, log_level: int) -> None:
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s worker %(name)s: %(message)s")
    try:
        asyncio.run(run_worker(settings))
    except KeyboardInterrupt:
        pass


class WorkerProcess:
    """The worker in a child process, so investigations never delay an ack; restarted if it dies."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._ctx = multiprocessing.get_context("spawn")
        self.process: multiprocessing.process.BaseProcess | None = None
        self.restarts = 0

    def start(self) -> None:
        self.process = self._ctx.Process(target=_worker_main, name="oncall-worker", daemon=True,
                                         args=(self.settings, logging.getLogger().level))
        self.process.start()

    async def supervise(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self.process is not None and not self.process.is_alive():
                self.restarts += 1
                log.error("worker process exited with %s; restarting", self.process.exitcode)
                self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
            self.process.join(10)
            if self.process.is_alive():
                os.kill(self.process.pid, 9)
