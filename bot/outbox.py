"""Do a chat side effect once: record the intent before the call, the result after.

A post is keyed (`parent:<group>`, `n<id>:report#0`, later `approval:<id>`):
- no record: the intent is written (state "started"), the call is made, and
  its result (channel, ts) is written (state "done");
- "done": the call is skipped and the recorded result returned, so a retry
  after a crash between the post and the worker's bookkeeping posts nothing;
- "started" by an earlier claim that died or timed out mid-call: nobody knows
  whether the chat API accepted it. `reconcile` (Slack: look the key up in
  the message metadata of the channel/thread) decides; when it finds nothing
  the call is made again.

The remaining window, honestly: the call went through but its answer was
lost (crash or timeout after Slack accepted it, before "done" was written)
AND the lookup cannot see it (history not readable: missing scope, or not yet
visible). Then the message is posted twice: at-least-once, never zero. A
definite refusal (`ok: false`) clears the intent, so a retry starts fresh.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Awaitable, Callable, Iterator

from sqlalchemy import delete, select

from bot import metrics
from bot.models import ChatStep

STEP: ContextVar[str | None] = ContextVar("oncall_chat_step", default=None)
Result = tuple[str, str]  # (channel, ts)


def default_owner() -> str:
    """Who holds an intent: this process on this host (a replica's workers and listeners)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def chat_step(key: str) -> Iterator[None]:
    """Name the chat step the code below performs (read by the sink when it posts)."""
    token = STEP.set(key)
    try:
        yield
    finally:
        STEP.reset(token)


def step_key(key: str) -> str:
    """Keys fit the column: long group keys are shortened with a hash."""
    if len(key) <= 200:
        return key
    return key[:150] + "~" + hashlib.sha256(key.encode()).hexdigest()[:40]


@dataclass
class Intent:
    state: str  # "new", "done" or "uncertain"
    started_at: float
    channel: str | None = None
    ts: str | None = None


class Outbox:
    """The store side of `once`; methods are blocking (run them via store.run)."""

    def __init__(self, store, owner: str) -> None:
        self.store, self.owner = store, owner

    def begin(self, key: str) -> Intent:
        key, now = step_key(key), time.time()
        with self.store._session() as s, s.begin():
            row = s.get(ChatStep, key, with_for_update=True)
            if row is None:
                s.add(ChatStep(key=key, state="started", owner=self.owner, started_at=now))
                s.flush()  # a concurrent begin of the same key fails here, not silently
                return Intent("new", now)
            if row.state == "done":
                return Intent("done", row.started_at, row.channel, row.ts)
            started = row.started_at
            row.owner = self.owner
            return Intent("uncertain", started)

    def complete(self, key: str, channel: str, ts: str) -> None:
        with self.store._session() as s, s.begin():
            row = s.get(ChatStep, step_key(key))
            if row is None:
                row = ChatStep(key=step_key(key), owner=self.owner, started_at=time.time())
                s.add(row)
            row.state, row.channel, row.ts, row.done_at = "done", channel, ts, time.time()

    def forget(self, key: str) -> None:
        """The chat API refused: nothing was posted, the next attempt starts fresh."""
        with self.store._session() as s, s.begin():
            s.execute(delete(ChatStep).where(ChatStep.key == step_key(key),
                                             ChatStep.state == "started"))

    def lookup(self, key: str) -> Intent | None:
        with self.store._session() as s:
            row = s.scalars(select(ChatStep).where(ChatStep.key == step_key(key))).one_or_none()
            return Intent(row.state, row.started_at, row.channel, row.ts) if row else None

    async def once(self, key: str, call: Callable[[], Awaitable[Result]], *,
                   reconcile: Callable[[float], Awaitable[Result | None]] | None = None,
                   refused: tuple[type[BaseException], ...] = ()) -> Result:
        """`call()` unless this key was already done (or is found done by `reconcile`)."""
        intent = await self.store.run(self.begin, key)
        if intent.state == "done":
            metrics.CHAT_DEDUPED.labels(how="outbox").inc()
            return intent.channel or "", intent.ts or ""
        if intent.state == "uncertain" and reconcile is not None:
            found = await reconcile(intent.started_at)
            if found is not None:
                await self.store.run(self.complete, key, *found)
                return found
        try:
            channel, ts = await call()
        except refused:
            await self.store.run(self.forget, key)
            raise
        await self.store.run(self.complete, key, channel, ts)
        return channel, ts
