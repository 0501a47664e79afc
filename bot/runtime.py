"""Wiring of the worker, shared by `oncall serve` (in or beside the HTTP process)
and `oncall work` (a worker on its own)."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.prometheus import PrometheusClient
from bot.chat import ChatSink, SlackSink, TerminalSink
from bot.chat_delivery import SlackDelivery
from bot.chat_rate import ChannelLimiter
from bot.incident_sink import IncidentSink
from bot.logs import setup_logging
from bot.memory import limit_arenas
from bot.outbox import Outbox
from bot.rollup import Storm
from bot.settings import Settings
from bot.store import Store

if TYPE_CHECKING:
    from bot.worker import Worker

log = logging.getLogger(__name__)


def make_slack_app(settings: Settings) -> AsyncApp | None:
    """Bolt app for the Web API client and /slack/events; None without a bot token."""
    if settings.slack_bot_token is None:
        return None
    # No automatic resend on connection errors: a resend after Slack accepted the
    # first try would post twice; the outbox decides instead (bot.outbox).
    client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(),
                            base_url=settings.slack_api_url, retry_handlers=[])
    secret = settings.slack_signing_secret
    # Listeners (/oncall, buttons, mentions) are attached by bot.slack_app.register.
    # process_before_response: the listeners ack, then schedule their work themselves, so the
    # answer leaves at once instead of after Bolt's 10 ms ack polling (bench/slash_ack.py).
    return AsyncApp(client=client, signing_secret=secret.get_secret_value() if secret else None,
                    request_verification_enabled=secret is not None, process_before_response=True)


def build_worker(settings: Settings, store: Store, sink: ChatSink | None = None,
                 slack: AsyncApp | None = None) -> Worker:
    """A worker with its Prometheus client and chat sink (`await worker.aclose()` when done)."""
    # Here, not at the top: `oncall serve`'s HTTP process imports this module for
    # WorkerProcess and must not load the investigation stack it never runs.
    from bot.sources import build_sources
    from bot.worker import Worker, default_owner

    owner = default_owner()
    if sink is None:
        slack = slack or make_slack_app(settings)
        if slack is not None:
            delivery = SlackDelivery(slack.client, outbox=Outbox(store, owner),
                                     limiter=ChannelLimiter(store, settings.chat_rate_per_channel))
            sink = IncidentSink(SlackSink(slack, settings.slack_channel, delivery), store, settings,
                                slack.client)  # owner's channel, deep links, status draft
        else:
            from bot.chat_routes import teams_sink

            sink = teams_sink(settings, store) or TerminalSink()
    prometheus = PrometheusClient(settings.prometheus_url, link_url=settings.prometheus_link_url)
    storm = Storm(store, limit=settings.storm_new_groups, window=settings.storm_window,
                  delay=settings.rollup_delay)
    return Worker(store, sink, prometheus, deadline=settings.investigation_deadline,
                  slo_objective=settings.slo_objective, concurrency=settings.worker_concurrency,
                  poll_seconds=settings.worker_poll, max_attempts=settings.worker_max_attempts,
                  lease_seconds=settings.worker_lease, channel=settings.slack_channel,
                  storm=storm, owner=owner, sources=build_sources(settings, runbooks=settings.runbooks_enabled))


async def run_worker(settings: Settings) -> None:
    """`oncall work`, or the child process of `oncall serve`: only the worker."""
    limit_arenas()  # before the store's and the embedder's threads start
    store = Store(settings.database_url)
    worker = build_worker(settings, store)
    try:
        await worker.run()
    finally:
        await worker.aclose()
        store.close()


def _exit_with_parent(parent: int) -> None:
    """A SIGKILLed `oncall serve` cannot stop its worker: the worker notices and goes too."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_main(settings: Settings, log_level: int, parent: int | None = None) -> None:
    setup_logging(log_level, settings.log_format, role="worker")
    if parent is not None:
        _exit_with_parent(parent)
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
                                         args=(self.settings, logging.getLogger().level,
                                               os.getpid()))
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
