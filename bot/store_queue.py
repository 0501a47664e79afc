"""The durable work queue of the store: intake, claims with leases, retries, dead letters.

Why it is safe with several replicas on one PostgreSQL:
- intake dedupes on the notification digest (`ON CONFLICT DO NOTHING`), so an
  Alertmanager HA pair posting the same notification to two replicas stores it once;
- `claim()` hands out only the oldest unfinished notification of a group, never
  while any replica holds a live lease in that group, and locks the row
  (`FOR UPDATE SKIP LOCKED`), so a notification is worked on by one worker and
  the notifications of a group run one after the other, in order;
- the attempt number is a fencing token: renew/finish/retry only succeed for
  the claim that still holds the lease, so a worker that lost its lease (it
  stalled past the expiry and another took over) cannot overwrite the result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.models import Notification as N
from bot.webhook import Webhook

UNFINISHED = ("pending", "processing")


@dataclass
class Claimed:
    id: int
    group_key: str
    body: str
    attempts: int
    received_at: float
    kind: str = "webhook"


class QueueOps:
    """Mixed into Store; uses its engine and sessions."""

    engine: Engine
    _session: sessionmaker[Session]

    def relaxed(self, s: Any) -> None: ...  # see Store.relaxed

    def _insert(self) -> Any:
        return pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert

    def enqueue(self, hook: Webhook, body: bytes) -> tuple[int | None, bool]:
        """Persist a notification; (id, False), or (None, True) for a duplicate."""
        return self.enqueue_many([(hook, body)])[0]

    def enqueue_many(self, items: list[tuple[Webhook, bytes]]) -> list[tuple[int | None, bool]]:
        """Persist several notifications in one transaction (group commit).

        A notification whose digest is already stored is a duplicate: nothing
        is written for it and it is reported as (None, True).
        """
        now = time.time()
        rows: dict[str, dict[str, Any]] = {}
        digests = [hook.digest() for hook, _ in items]
        for digest, (hook, body) in zip(digests, items):
            rows.setdefault(digest, dict(
                digest=digest, group_key=hook.groupKey, received_at=now,
                body=body.decode("utf-8"), state="pending", attempts=0, steps="", kind="webhook"))
        stmt = (self._insert()(N).on_conflict_do_nothing(index_elements=["digest"])
                .returning(N.id, N.digest))  # one cached statement
        with self.engine.begin() as conn:
            inserted = {digest: id_ for id_, digest in conn.execute(stmt, list(rows.values()))}
        out: list[tuple[int | None, bool]] = []
        for digest in digests:
            new_id = inserted.pop(digest, None)  # a digest twice in one batch: first wins
            out.append((new_id, new_id is None))
        return out

    def claim(self, lease_seconds: float = 60.0, owner: str = "") -> Claimed | None:
        """Take the oldest runnable notification; one per group at a time, in order.

        Storm roll-ups go first: they are what tells people about the backlog.
        """
        now = time.time()
        with self._session() as s, s.begin():
            busy = select(N.group_key).where(N.state == "processing", N.lease_until > now)
            first_per_group = (select(func.min(N.id)).where(N.state.in_(UNFINISHED))
                               .group_by(N.group_key))
            stmt = (select(N).where(N.state.in_(UNFINISHED), N.id.in_(first_per_group),
                                    N.group_key.not_in(busy),
                                    or_(N.lease_until.is_(None), N.lease_until <= now))
                    .order_by(case((N.kind == "rollup", 0), else_=1), N.id).limit(1))
            if self.engine.dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            row = s.execute(stmt).scalar_one_or_none()
            if row is None:
                return None
            out = Claimed(row.id, row.group_key, row.body, row.attempts + 1, row.received_at,
                          row.kind or "webhook")  # before the update refreshes `row`
            claimed = s.execute(
                update(N).where(N.id == row.id, N.attempts == row.attempts)
                .values(state="processing", lease_until=now + lease_seconds,
                        attempts=out.attempts, owner=owner)
            ).rowcount
            return out if claimed == 1 else None

    def _fenced(self, notification_id: int, attempts: int | None):
        cond = [N.id == notification_id, N.state == "processing"]
        if attempts is not None:
            cond.append(N.attempts == attempts)
        return update(N).where(*cond)

    def renew(self, notification_id: int, attempts: int, lease_seconds: float) -> bool:
        """Extend a live claim; False if it was lost (expired and taken by another worker)."""
        with self.engine.begin() as conn:
            self.relaxed(conn)
            return conn.execute(self._fenced(notification_id, attempts)
                                .values(lease_until=time.time() + lease_seconds)).rowcount == 1

    def finish(self, notification_id: int, attempts: int | None = None) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(self._fenced(notification_id, attempts).values(
                state="done", lease_until=None, done_at=time.time(), error=None)).rowcount == 1

    def retry_later(self, notification_id: int, error: str, delay: float, max_attempts: int,
                    attempts: int | None = None) -> str:
        """Back off a failed notification, or park it as dead after `max_attempts`.

        Returns the new state, or "lost" if this claim no longer holds the lease.
        """
        with self._session() as s, s.begin():
            row = s.get(N, notification_id)
            if row is None or row.state != "processing" or (
                    attempts is not None and row.attempts != attempts):
                return "lost"
            state = "dead" if row.attempts >= max_attempts else "pending"
            row.state, row.error = state, error[:2000]
            row.lease_until = time.time() + delay if state == "pending" else None
            return state

    def requeue(self, notification_id: int) -> bool:
        """Give a dead notification a fresh set of attempts (`oncall status --retry`)."""
        with self.engine.begin() as conn:
            return conn.execute(update(N).where(N.id == notification_id, N.state == "dead")
                                .values(state="pending", attempts=0, lease_until=None)).rowcount == 1

    def queue_depth(self) -> dict[str, int]:
        with self._session() as s:
            rows = s.execute(select(N.state, func.count()).group_by(N.state))
            return {state: n for state, n in rows}

    def oldest_pending_age(self) -> float:
        """Seconds the oldest unfinished notification has waited (0 when the queue is empty)."""
        with self._session() as s:
            oldest = s.execute(select(func.min(N.received_at))
                               .where(N.state.in_(UNFINISHED))).scalar()
            return max(0.0, time.time() - oldest) if oldest is not None else 0.0

    def dead_letters(self, limit: int = 20) -> list[dict[str, Any]]:
        with self._session() as s:
            rows = s.scalars(select(N).where(N.state == "dead").order_by(N.id.desc()).limit(limit))
            return [{"id": n.id, "group_key": n.group_key, "kind": n.kind, "attempts": n.attempts,
                     "error": n.error, "received_at": n.received_at} for n in rows]

    def in_flight(self) -> list[dict[str, Any]]:
        with self._session() as s:
            rows = s.scalars(select(N).where(N.state == "processing").order_by(N.id))
            return [{"id": n.id, "group_key": n.group_key, "owner": n.owner, "attempts": n.attempts,
                     "lease_left": (n.lease_until or 0) - time.time()} for n in rows]

    def notifications(self) -> list[dict]:
        with self._session() as s:
            return [{"id": n.id, "group_key": n.group_key, "state": n.state, "attempts": n.attempts,
                     "error": n.error, "received_at": n.received_at, "done_at": n.done_at,
                     "kind": n.kind, "owner": n.owner}
                    for n in s.scalars(select(N).order_by(N.id))]
