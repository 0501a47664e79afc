"""Per-channel send slots shared by every worker of every replica.

Slack allows about one message per second per channel, sustained. Each send
reserves the channel's next slot in the store (a row lock serialises the
reservations of all replicas), then sleeps until it: the reservations form
the per-channel queue, in order, at `rate` messages per second. A 429 blocks
the channel until `Retry-After` for everyone: new reservations start after
it, and a sender whose slot fell inside the block queues again.

A channel named `#name` and the ID Slack answers with are one channel: once a
post reveals the ID, reservations for either go to the same row.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import select

from bot import metrics
from bot.models import ChatChannel


# Sends are spaced 20% wider than the rate, so the jitter between a slot and the
# request reaching Slack (event loop, GC, a busy core) does not add up to a 429;
# a send later than LATE intervals past its slot gives the slot up and queues again.
HEADROOM = 1.2
LATE = 0.1


class ChannelLimiter:
    def __init__(self, store, rate: float) -> None:
        self.store = store
        self.interval = HEADROOM / rate if rate > 0 else 0.0
        self._blocked: dict[str, float] = {}

    def _row(self, s: Any, name: str) -> ChatChannel:
        insert = self.store._insert()
        s.execute(insert(ChatChannel).values(name=name, next_at=0.0, blocked_until=0.0)
                  .on_conflict_do_nothing(index_elements=["name"]))
        return s.scalars(select(ChatChannel).where(ChatChannel.name == name)
                         .with_for_update()).one()

    def reserve(self, channel: str) -> tuple[float, float]:
        """(when this send may go out, until when the channel is blocked); moves the slot on."""
        now = time.time()
        with self.store._session() as s, s.begin():
            self.store.relaxed(s)  # a lost slot after a database crash is harmless
            row = self._row(s, channel)
            if row.channel_id:
                row = self._row(s, row.channel_id)
            slot = max(now, row.next_at)
            row.next_at = slot + self.interval
            return slot, row.blocked_until

    def push_back(self, channel: str, until: float) -> None:
        """Nobody sends to `channel` before `until` (Slack said Retry-After)."""
        with self.store._session() as s, s.begin():
            self.store.relaxed(s)
            row = self._row(s, channel)
            if row.channel_id:
                row = self._row(s, row.channel_id)
            row.next_at = max(row.next_at, until)
            row.blocked_until = max(row.blocked_until, until)

    def blocked(self, channel: str) -> float:
        """Until when Slack asked everyone to hold off this channel (0: not blocked)."""
        with self.store._session() as s:
            row = s.get(ChatChannel, channel)
            if row is not None and row.channel_id:
                row = s.get(ChatChannel, row.channel_id)
            return row.blocked_until if row is not None else 0.0

    def learn(self, name: str, channel_id: str) -> None:
        """`#name` is `channel_id`: merge their slots so they are one queue."""
        if name == channel_id or not name.startswith("#"):
            return
        with self.store._session() as s, s.begin():
            named = self._row(s, name)
            if named.channel_id == channel_id:
                return
            by_id = self._row(s, channel_id)
            by_id.next_at = max(by_id.next_at, named.next_at)
            by_id.blocked_until = max(by_id.blocked_until, named.blocked_until)
            named.channel_id = channel_id

    def resolve(self, channel: str) -> str:
        """The channel ID learned for `#name`, else `channel` itself."""
        with self.store._session() as s:
            found = s.scalars(select(ChatChannel.channel_id)
                              .where(ChatChannel.name == channel)).one_or_none()
            return found or channel

    def backlog(self) -> dict[str, float]:
        """Seconds of reserved sends ahead, per channel (for `oncall status`)."""
        now = time.time()
        with self.store._session() as s:
            rows = s.execute(select(ChatChannel.name, ChatChannel.next_at)
                             .where(ChatChannel.channel_id.is_(None),
                                    ChatChannel.name.not_like("admit:%")))
            return {name: max(0.0, next_at - now) for name, next_at in rows}

    def note_block(self, channel: str, until: float) -> None:
        """Remember a Retry-After in this process too (checked without a database trip)."""
        self._blocked[channel] = max(self._blocked.get(channel, 0.0), until)

    async def wait(self, channel: str) -> None:
        """Sleep until this send's slot, then go at once: any delay between the slot and
        the send shortens the gap to the next sender (see HEADROOM). A Retry-After
        seen in this process meanwhile voids the slot; one seen by another replica
        pushes back every reservation made after it."""
        started = time.time()
        while True:
            slot, blocked = await self.store.run(self.reserve, channel)
            self.note_block(channel, blocked)
            if slot > time.time():
                await asyncio.sleep(slot - time.time())
            late = time.time() - slot > max(0.02, self.interval * LATE)
            if not late and self._blocked.get(channel, 0.0) <= time.time():
                break  # else: too late for the slot (the next sender may be due), queue again
        metrics.CHAT_WAIT.observe(time.time() - started)
