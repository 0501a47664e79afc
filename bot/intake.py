"""Group commit for webhook intake.

Every webhook must be on disk before it is acknowledged, but one commit per
request makes a storm queue up behind the disk. Requests that arrive while a
commit is in flight share the next one; each is answered once its own row is
committed.
"""

from __future__ import annotations

import asyncio

from bot import metrics
from bot.store import Store
from bot.webhook import Webhook


class IntakeQueue:
    def __init__(self, store: Store, max_batch: int = 200) -> None:
        self.store = store
        self.max_batch = max_batch
        self._pending: list[tuple[Webhook, bytes, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None

    async def submit(self, hook: Webhook, body: bytes) -> tuple[int | None, bool]:
        """Persist one webhook; returns (id, duplicate) after the commit."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append((hook, body, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch:]
            metrics.INTAKE_BATCH.observe(len(batch))
            try:
                results = await self.store.run(self.store.enqueue_many, [(h, b) for h, b, _ in batch])
            except Exception as exc:  # the store is down: every waiter learns it
                for _, _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for (_, _, fut), result in zip(batch, results):
                if not fut.done():
                    fut.set_result(result)
