"""The worker: turns stored notifications into thread updates and reports.

Intake only persists; everything slow (queries, chat) happens here, so a
webhook is acknowledged in milliseconds and survives a restart.

Several workers (in several replicas) share the queue: a claim is a lease the
worker renews while it works; if the worker dies, the lease runs out and
another worker takes the notification over from its recorded steps. Chat
posts are named steps (bot.outbox), so the takeover does not post again what
was already posted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import contextmanager
from typing import Iterator

from adapters.prometheus import PrometheusClient
from bot import metrics
from bot.chat import ChatSink
from bot.logs import incident
from bot.memory import trim
from bot.outbox import chat_step, default_owner
from bot.render.common import minutes_between
from bot.rollup import Storm
from bot.store import Claimed, Store
from bot.webhook import parse_webhook
from reasoning.investigate import investigate
from bot.sources import InvestigationSources

log = logging.getLogger(__name__)


@contextmanager
def stage(name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        metrics.STAGE_SECONDS.labels(stage=name).observe(time.perf_counter() - started)


class Worker:
    def __init__(self, store: Store, sink: ChatSink, prometheus: PrometheusClient, *,
                 deadline: float = 8.0, slo_objective: float = 0.999, max_attempts: int = 5,
                 lease_seconds: float = 60.0, concurrency: int = 4,
                 poll_seconds: float = 1.0, channel: str = "#oncall",
                 storm: Storm | None = None, owner: str | None = None,
                 sources: InvestigationSources | None = None) -> None:
        self.store, self.sink, self.prometheus = store, sink, prometheus
        self.sources = sources or InvestigationSources()
        self.deadline, self.slo_objective = deadline, slo_objective
        self.max_attempts, self.lease_seconds = max_attempts, lease_seconds
        self.concurrency, self.poll_seconds = concurrency, poll_seconds
        self.channel = channel
        self.storm = storm or Storm(store, limit=10, window=60.0, delay=10.0)
        self.owner = owner or default_owner()
        self.wake = asyncio.Event()
        self._worked = False  # since the heap was last trimmed

    async def aclose(self) -> None:
        await self.prometheus.aclose()
        await self.sources.aclose()

    async def run(self) -> None:
        """Process until cancelled, several groups at once (one notification per group)."""
        await asyncio.gather(self._schedule_rollups(), self.sources.warm(),
                             *(self._loop() for _ in range(self.concurrency)))

    async def _loop(self) -> None:
        """Woken by intake in the same process; otherwise polls the store."""
        while True:
            try:
                found = await self.run_once()
            except Exception:  # the store is unreachable: keep trying, never die
                log.exception("worker could not claim work")
                found = False
            if not found:
                if self._worked:  # a burst is over: give its peak back (bot.memory)
                    self._worked = False
                    await asyncio.to_thread(trim)
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), timeout=self.poll_seconds)
                except asyncio.TimeoutError:
                    pass

    async def _schedule_rollups(self) -> None:
        while True:
            try:
                if await self.store.run(self.storm.schedule):
                    self.wake.set()
            except Exception:
                log.exception("could not schedule storm roll-ups")
            await asyncio.sleep(max(0.5, min(self.poll_seconds * 4, self.storm.delay / 4)))

    async def run_once(self) -> bool:
        claimed = await self.store.run(self.store.claim, self.lease_seconds, self.owner)
        if claimed is None:
            return False
        self._worked = True
        with incident(claimed.group_key, claimed.id):
            with stage("total"):
                await self._run_claimed(claimed)
        return True

    async def _run_claimed(self, claimed: Claimed) -> None:
        lost = asyncio.Event()
        task = asyncio.create_task(self.process(claimed))
        keeper = asyncio.create_task(self._keep_lease(claimed, task, lost))
        try:
            await task
        except asyncio.CancelledError:
            if not lost.is_set() or asyncio.current_task().cancelling():
                raise
            metrics.LEASES_LOST.inc()
            log.warning("lost the lease on notification %s; another worker has it", claimed.id)
        except Exception as exc:  # any failure is retried with backoff, then parked
            delay = min(300.0, 2.0 ** claimed.attempts)
            state = await self.store.run(self.store.retry_later, claimed.id, repr(exc), delay,
                                         self.max_attempts, claimed.attempts)
            metrics.NOTIFICATIONS.labels(outcome={"dead": "dead", "lost": "lost"}.get(
                state, "retry")).inc()
            log.exception("notification %s failed (attempt %s): %s", claimed.id,
                          claimed.attempts, state)
        else:
            if await self.store.run(self.store.finish, claimed.id, claimed.attempts):
                metrics.NOTIFICATIONS.labels(outcome="done").inc()
            else:
                metrics.LEASES_LOST.inc()
                log.warning("notification %s done, but its lease had passed to another worker",
                            claimed.id)
        finally:
            keeper.cancel()

    async def _keep_lease(self, claimed: Claimed, task: asyncio.Task, lost: asyncio.Event) -> None:
        """Renew the claim while working; stop the work if another worker took it over."""
        while True:
            await asyncio.sleep(max(0.1, self.lease_seconds / 3))
            try:
                held = await self.store.run(self.store.renew, claimed.id, claimed.attempts,
                                            self.lease_seconds)
            except Exception:
                log.warning("could not renew the lease on %s; retrying", claimed.id, exc_info=True)
                continue
            if not held:
                lost.set()
                task.cancel()
                return

    async def process(self, claimed: Claimed) -> None:
        if claimed.kind == "rollup":
            await self._post_rollup(claimed)
            return
        hook = parse_webhook(claimed.body.encode())
        with stage("apply"):
            group = await self.store.run(self.store.apply, hook, claimed.id)
        done = group.done_steps
        if group.thread_ts is None:
            mode = await self.store.run(self.storm.admit, group.group_key, await self._route(group),
                                        bool(group.new_firing), claimed.received_at)
            if mode == "rollup":
                if "rollup" not in done:
                    metrics.ROLLUP_GROUPS.inc()
                    await self.store.run(self.store.mark_step, claimed.id, "rollup")
                return
            with chat_step(f"parent:{group.group_key}"), stage("post_parent"):
                group.channel, group.thread_ts = await self.sink.post_parent(group)
            await self.store.run(self.store.set_thread, group.group_key, group.channel,
                                 group.thread_ts)
            metrics.PAGE_TO_PARENT.observe(time.time() - claimed.received_at)
        elif "parent" not in done:
            with stage("update_parent"):
                await self.sink.update_parent(group)
        await self.store.run(self.store.mark_step, claimed.id, "parent")
        if group.new_firing and "report" not in done:
            started = time.perf_counter()
            with stage("investigate"):  # a hard cap too: a hung investigation must not pin a group
                report = await asyncio.wait_for(
                    investigate(hook.to_page(), self.prometheus, deadline=self.deadline,
                                slo_objective=self.slo_objective, **self.sources.kwargs()),
                    timeout=max(30.0, self.deadline * 4))
            metrics.INVESTIGATION_SECONDS.observe(time.perf_counter() - started)
            for source in report.failures:
                metrics.SOURCE_ERRORS.labels(source=source).inc()
            _count_llm(getattr(report, "llm", None))
            await self.store.run(self.store.save_report, group.group_key,
                                 report.model_dump_json(), claimed.id)
            with chat_step(f"n{claimed.id}:report"), stage("post_report"):
                await self.sink.post_report(group, report)
            await self.store.run(self.store.mark_step, claimed.id, "report")
            metrics.PAGE_TO_REPORT.observe(time.time() - claimed.received_at)
        if group.status == "resolved" and "resolved" not in done:
            with chat_step(f"n{claimed.id}:resolved"), stage("post_note"):
                await self.sink.post_note(
                    group, f"Resolved after {minutes_between(group.first_seen, group.resolved_at)} min.")
            await self.store.run(self.store.mark_step, claimed.id, "resolved")

    async def _route(self, group) -> str:
        """The channel a new group's thread would go to (a sink may route by owner)."""
        route = getattr(self.sink, "route", None)
        return (await route(group) if route is not None else None) or self.channel

    async def _post_rollup(self, claimed: Claimed) -> None:
        channel = json.loads(claimed.body)["channel"]
        groups = await self.store.run(self.storm.members, claimed.id)
        if groups:
            with chat_step(f"n{claimed.id}:rollup"), stage("post_rollup"):
                await self.sink.post_rollup(channel, groups, self.storm.window, self.storm.limit)


def _count_llm(note: object) -> None:
    """Tokens and estimated dollars of the investigation's LLM step (none without a key)."""
    if note is None:
        return
    metrics.LLM_TOKENS.labels(kind="input").inc(getattr(note, "input_tokens", 0) or 0)
    metrics.LLM_TOKENS.labels(kind="output").inc(getattr(note, "output_tokens", 0) or 0)
    metrics.LLM_COST.inc(getattr(note, "cost_usd", 0.0) or 0.0)
