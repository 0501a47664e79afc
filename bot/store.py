"""The store: a durable intake queue plus alert groups, alerts and reports.

SQLite by default (WAL, so intake and the worker don't block each other);
any SQLAlchemy URL works, PostgreSQL for several replicas.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import create_engine, event, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.models import Alert, AlertGroup, Base, Notification, ReportRow
from bot.webhook import Webhook


@dataclass
class GroupView:
    """What the chat layer needs to know about a group after a notification."""

    group_key: str
    status: str
    severity: str
    title: str
    summary: str
    channel: str | None
    thread_ts: str | None
    first_seen: float
    resolved_at: float | None
    firing: int
    total: int
    external_url: str
    new_firing: list[str] = field(default_factory=list)
    generator_urls: list[str] = field(default_factory=list)


@dataclass
class Claimed:
    id: int
    group_key: str
    body: str
    attempts: int
    received_at: float


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


class Store:
    def __init__(self, url: str) -> None:
        kwargs = {"connect_args": {"check_same_thread": False}} if url.startswith("sqlite") else {}
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite allows one writer: one thread keeps its lock uncontended (no busy sleeps).
        workers = 1 if self.engine.dialect.name == "sqlite" else 4
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="store")

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a blocking store method off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.dispose()

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar() == 1

    # -- intake ---------------------------------------------------------------------------

    def enqueue(self, hook: Webhook, body: bytes) -> tuple[int | None, bool]:
        """Persist a notification; (id, False), or (None, True) for a duplicate."""
        return self.enqueue_many([(hook, body)])[0]

    def enqueue_many(self, items: list[tuple[Webhook, bytes]]) -> list[tuple[int | None, bool]]:
        """Persist several notifications in one transaction (group commit).

        A notification whose digest is already stored is a duplicate: nothing
        is written for it and it is reported as (None, True).
        """
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        now = time.time()
        rows: dict[str, dict[str, Any]] = {}
        for hook, body in items:
            rows.setdefault(hook.digest(), dict(
                digest=hook.digest(), group_key=hook.groupKey, received_at=now,
                body=body.decode("utf-8"), state="pending", attempts=0, steps=""))
        stmt = (insert(Notification).on_conflict_do_nothing(index_elements=["digest"])
                .returning(Notification.id, Notification.digest))  # one cached statement
        with self.engine.begin() as conn:
            inserted = {digest: id_ for id_, digest in conn.execute(stmt, list(rows.values()))}
        out: list[tuple[int | None, bool]] = []
        for hook, _ in items:
            new_id = inserted.pop(hook.digest(), None)  # a digest twice in one batch: first wins
            out.append((new_id, new_id is None))
        return out

    def claim(self, lease_seconds: float = 60.0) -> Claimed | None:
        """Take the oldest runnable notification; one per group at a time, in order."""
        now = time.time()
        with self._session() as s, s.begin():
            busy = select(Notification.group_key).where(
                Notification.state == "processing", Notification.lease_until > now)
            runnable = (
                (Notification.state == "pending")
                | ((Notification.state == "processing") & (Notification.lease_until <= now))
            )
            first_per_group = select(func.min(Notification.id)).where(
                Notification.state.in_(("pending", "processing"))).group_by(Notification.group_key)
            stmt = (select(Notification).where(runnable, Notification.group_key.not_in(busy),
                                              Notification.id.in_(first_per_group))
                    .where((Notification.lease_until.is_(None)) | (Notification.lease_until <= now))
                    .order_by(Notification.id).limit(1))
            if self.engine.dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            row = s.execute(stmt).scalar_one_or_none()
            if row is None:
                return None
            claimed = s.execute(
                update(Notification)
                .where(Notification.id == row.id, Notification.attempts == row.attempts)
                .values(state="processing", lease_until=now + lease_seconds, attempts=row.attempts + 1)
            ).rowcount
            if claimed != 1:
                return None
            return Claimed(row.id, row.group_key, row.body, row.attempts + 1, row.received_at)

    def finish(self, notification_id: int) -> None:
        with self._session() as s, s.begin():
            s.execute(update(Notification).where(Notification.id == notification_id)
                      .values(state="done", lease_until=None, done_at=time.time(), error=None))

    def retry_later(self, notification_id: int, error: str, delay: float, max_attempts: int) -> str:
        """Back off a failed notification, or park it as dead after `max_attempts`."""
        with self._session() as s, s.begin():
            row = s.get(Notification, notification_id)
            state = "dead" if row.attempts >= max_attempts else "pending"
            row.state, row.error = state, error[:2000]
            row.lease_until = time.time() + delay if state == "pending" else None
            return state

    def queue_depth(self) -> dict[str, int]:
        with self._session() as s:
            rows = s.execute(select(Notification.state, func.count()).group_by(Notification.state))
            return {state: n for state, n in rows}

    # -- groups ---------------------------------------------------------------------------

    def apply(self, hook: Webhook, notification_id: int | None = None) -> GroupView:
        """Record what a notification says about its group and alerts; report the changes.

        The changes (which alerts newly fire) are fixed on the first attempt and
        kept on the notification, so a retry after a crash redoes the same work.
        """
        now = time.time()
        with self._session() as s, s.begin():
            note = s.get(Notification, notification_id) if notification_id else None
            group = s.get(AlertGroup, hook.groupKey)
            if group is None:
                group = AlertGroup(group_key=hook.groupKey, status=hook.status, first_seen=now,
                                   updated_at=now)
                s.add(group)
            previous = {a.fingerprint: a for a in s.scalars(
                select(Alert).where(Alert.group_key == hook.groupKey))}
            new_firing = []
            for a in hook.alerts:
                old = previous.get(a.fingerprint)
                if a.status == "firing" and (old is None or old.status != "firing"):
                    new_firing.append(a.fingerprint)
                row = old or Alert(group_key=hook.groupKey, fingerprint=a.fingerprint)
                row.status, row.labels = a.status, json.dumps(a.labels, sort_keys=True)
                row.starts_at = a.startsAt.isoformat()
                row.ends_at = None if a.endsAt.year <= 1 else a.endsAt.isoformat()
                row.generator_url = a.generatorURL
                previous[a.fingerprint] = row
                s.add(row)
            if note is not None:
                if note.plan is None:
                    note.plan = json.dumps({"new_firing": new_firing})
                new_firing = json.loads(note.plan)["new_firing"]
            firing = sum(1 for a in previous.values() if a.status == "firing")
            page = hook.to_page()
            group.status = "firing" if firing else "resolved"
            group.severity = page.severity
            group.title = page.alertname
            group.summary = page.summary
            group.external_url = hook.externalURL
            group.updated_at = now
            if group.status == "resolved" and group.resolved_at is None:
                group.resolved_at = now
            elif group.status == "firing":
                group.resolved_at = None
            return self._view(group, firing, len(previous), new_firing,
                              [a.generator_url for a in previous.values() if a.generator_url])

    def steps_done(self, notification_id: int) -> set[str]:
        with self._session() as s:
            note = s.get(Notification, notification_id)
            return set(filter(None, (note.steps or "").split(","))) if note else set()

    def mark_step(self, notification_id: int, step: str) -> None:
        with self._session() as s, s.begin():
            note = s.get(Notification, notification_id)
            done = set(filter(None, (note.steps or "").split(","))) | {step}
            note.steps = ",".join(sorted(done))

    def set_thread(self, group_key: str, channel: str, thread_ts: str) -> None:
        with self._session() as s, s.begin():
            s.execute(update(AlertGroup).where(AlertGroup.group_key == group_key)
                      .values(channel=channel, thread_ts=thread_ts))

    def save_report(self, group_key: str, body: str) -> int:
        with self._session() as s, s.begin():
            row = ReportRow(group_key=group_key, created_at=time.time(), body=body)
            s.add(row)
            s.flush()
            return row.id

    def groups(self) -> list[GroupView]:
        with self._session() as s:
            out = []
            for g in s.scalars(select(AlertGroup).order_by(AlertGroup.first_seen)):
                alerts = list(s.scalars(select(Alert).where(Alert.group_key == g.group_key)))
                out.append(self._view(g, sum(a.status == "firing" for a in alerts), len(alerts), [], []))
            return out

    def reports(self, group_key: str) -> list[dict]:
        with self._session() as s:
            rows = s.scalars(select(ReportRow).where(ReportRow.group_key == group_key)
                             .order_by(ReportRow.id))
            return [json.loads(r.body) for r in rows]

    def notifications(self) -> list[dict]:
        with self._session() as s:
            return [{"id": n.id, "group_key": n.group_key, "state": n.state, "attempts": n.attempts,
                     "error": n.error, "received_at": n.received_at, "done_at": n.done_at} for n in s.scalars(select(Notification).order_by(Notification.id))]

    @staticmethod
    def _view(g: AlertGroup, firing: int, total: int, new_firing: list[str],
              generator_urls: list[str]) -> GroupView:
        return GroupView(
            group_key=g.group_key, status=g.status, severity=g.severity, title=g.title,
            summary=g.summary, channel=g.channel, thread_ts=g.thread_ts, first_seen=g.first_seen,
            resolved_at=g.resolved_at, firing=firing, total=total, external_url=g.external_url,
            new_firing=new_firing, generator_urls=generator_urls,
        )
