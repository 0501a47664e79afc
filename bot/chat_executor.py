"""A thread with its own event loop for chat work (workflows, re-investigations).

Acknowledgements must leave within Slack's 3 s whatever else is running: on a
shared loop a burst of commands spends its CPU between the acks and delays
them by seconds. Here that work waits in its own loop; the HTTP loop only
parses, acks and posts.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any, Awaitable, Callable, Coroutine


class BackgroundLoop:
    def __init__(self, name: str = "chat-work", concurrency: int = 4) -> None:
        self.name, self.concurrency = name, concurrency
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                # Hand the GIL back to the acknowledging thread within 1 ms, not 5.
                sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, name=self.name, daemon=True)
                self._thread.start()
            return self._loop

    async def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Await `coro` on the background loop, from any loop."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._limited(coro), self._ensure()))

    async def _limited(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """At most `concurrency` pieces of work at once: a burst queues instead of thrashing."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        async with self._slots:
            return await coro

    async def stop(self, last: Callable[[], Awaitable[None]] | None = None) -> None:
        """Run `last` (e.g. closing clients) there, then end the thread."""
        if self._loop is None:
            return
        if last is not None:
            await self.run(last())
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.to_thread(self._thread.join, 10)
        self._loop.close()
        self._loop = self._thread = self._slots = None
