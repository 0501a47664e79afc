"""The worker: turns stored notifications into thread updates and reports.

Intake only persists; everything slow (queries, chat) happens here, so a
webhook is acknowledged in milliseconds and survives a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time

from adapters.prometheus import PrometheusClient
from bot import metrics
from bot.chat import ChatSink
from bot.render.common import minutes_between
from bot.store import Claimed, Store
from bot.webhook import parse_webhook
from reasoning import investigate

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, store: Store, sink: ChatSink, prometheus: PrometheusClient, *,
                 deadline: float = 8.0, slo_objective: float = 0.999, max_attempts: int = 5,
                 lease_seconds: float = 60.0, concurrency: int = 4,
                 poll_seconds: float = 1.0) -> None:
        self.store, self.sink, self.prometheus = store, sink, prometheus
        self.deadline, self.slo_objective = deadline, slo_objective
        self.max_attempts, self.lease_seconds = max_attempts, lease_seconds
        self.concurrency, self.poll_seconds = concurrency, poll_seconds
        self.wake = asyncio.Event()

    async def aclose(self) -> None:
        await self.prometheus.aclose()

    async def run(self) -> None:
        """Process until cancelled, several groups at once (one notification per group)."""
        await asyncio.gather(*(self._loop() for _ in range(self.concurrency)))

    async def _loop(self) -> None:
        """Woken by intake in the same process; otherwise polls the store."""
        while True:
            if not await self.run_once():
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), timeout=self.poll_seconds)
                except asyncio.TimeoutError:
                    pass

    async def run_once(self) -> bool:
        claimed = await self.store.run(self.store.claim, self.lease_seconds)
        if claimed is None:
            return False
        try:
            await self.process(claimed)
        except Exception as exc:  # any failure is retried with backoff, then parked
            delay = min(300.0, 2.0 ** claimed.attempts)
            state = await self.store.run(self.store.retry_later, claimed.id, repr(exc), delay,
                                            self.max_attempts)
            metrics.NOTIFICATIONS.labels(outcome="dead" if state == "dead" else "retry").inc()
            log.exception("notification %s failed (attempt %s): %s", claimed.id, claimed.attempts, state)
        else:
            await self.store.run(self.store.finish, claimed.id)
            metrics.NOTIFICATIONS.labels(outcome="done").inc()
        return True

    async def process(self, claimed: Claimed) -> None:
        hook = parse_webhook(claimed.body.encode())
        group = await self.store.run(self.store.apply, hook, claimed.id)
        done = await self.store.run(self.store.steps_done, claimed.id)
        if group.thread_ts is None:
            group.channel, group.thread_ts = await self.sink.post_parent(group)
            await self.store.run(self.store.set_thread, group.group_key, group.channel, group.thread_ts)
            metrics.PAGE_TO_PARENT.observe(time.time() - claimed.received_at)
        elif "parent" not in done:
            await self.sink.update_parent(group)
        await self.store.run(self.store.mark_step, claimed.id, "parent")
        if group.new_firing and "report" not in done:
            started = time.perf_counter()
            report = await investigate(hook.to_page(), self.prometheus, deadline=self.deadline,
                                       slo_objective=self.slo_objective)
            metrics.INVESTIGATION_SECONDS.observe(time.perf_counter() - started)
            await self.store.run(self.store.save_report, group.group_key, report.model_dump_json())
            await self.sink.post_report(group, report)
            await self.store.run(self.store.mark_step, claimed.id, "report")
            metrics.PAGE_TO_REPORT.observe(time.time() - claimed.received_at)
        if group.status == "resolved" and "resolved" not in done:
            await self.sink.post_note(
                group, f"Resolved after {minutes_between(group.first_seen, group.resolved_at)} min.")
            await self.store.run(self.store.mark_step, claimed.id, "resolved")
