"""The store: a durable intake queue plus alert groups, alerts and reports.

SQLite by default (WAL, so intake and the worker don't block each other);
PostgreSQL (`postgresql+psycopg://`) for several replicas. The schema comes
from the Alembic migrations (bot.migrate), applied when the store opens.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import create_engine, event, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.migrate import upgrade
from bot.models import Alert, AlertGroup, Notification, ReportRow
from bot.store_queue import Claimed, QueueOps
from bot.webhook import Webhook

__all__ = ["Claimed", "GroupView", "Store"]


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
    labels: dict[str, str] = field(default_factory=dict)
    mode: str | None = None  # "thread", or "rollup" when summarised in a storm
    done_steps: set[str] = field(default_factory=set)  # of the notification applied (retries)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # transactions are begun below, not by the driver
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=5000")
    _wal(cur)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _wal(cur, patience: float = 5.0) -> None:
    """Switch to WAL, retrying: the switch needs an exclusive lock, and SQLite can answer
    "database is locked" at once, without its busy handler, while another replica
    opening the same file holds it (seen 3 times in 150 four-replica starts)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _sqlite_begin(conn) -> None:
    """Take the write lock up front: a read-then-write transaction that started
    deferred fails at once (SQLITE_BUSY_SNAPSHOT) if another process wrote
    meanwhile; an immediate one waits its turn (busy_timeout)."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class Store(QueueOps):
    def __init__(self, url: str, *, migrate: bool = True) -> None:
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
        elif url.startswith("postgresql"):
            # No pre-ping round trip per checkout: a connection dropped by a
            # failover fails one operation (retried), then the pool is refreshed.
            kwargs.update(pool_size=8, max_overflow=4, pool_recycle=600)
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        if migrate:
            upgrade(self.engine)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite allows one writer: one thread keeps its lock uncontended (no busy sleeps).
        workers = 1 if self.engine.dialect.name == "sqlite" else 4
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="store")

    def relaxed(self, s: Any) -> None:
        """This transaction may skip the WAL flush (PostgreSQL `synchronous_commit off`).

        For bookkeeping that is cheap to lose if the database itself crashes
        (send slots, lease renewals, step marks: the outbox still guards the
        posts), not for intake, claims, results or the outbox.
        """
        if self.engine.dialect.name == "postgresql":
            s.execute(text("SET LOCAL synchronous_commit TO OFF"))

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
            group.severity = page.severity[:32]  # the column is short; labels are not
            group.title = page.alertname
            group.summary = page.summary
            group.external_url = hook.externalURL
            group.labels = json.dumps(hook.groupLabels, sort_keys=True)
            group.updated_at = now
            if group.status == "resolved" and group.resolved_at is None:
                group.resolved_at = now
            elif group.status == "firing":
                group.resolved_at = None
            view = self._view(group, firing, len(previous), new_firing,
                              [a.generator_url for a in previous.values() if a.generator_url])
            if note is not None:
                view.done_steps = set(filter(None, (note.steps or "").split(",")))
            return view

    def steps_done(self, notification_id: int) -> set[str]:
        with self._session() as s:
            note = s.get(Notification, notification_id)
            return set(filter(None, (note.steps or "").split(","))) if note else set()

    def mark_step(self, notification_id: int, step: str) -> None:
        with self._session() as s, s.begin():
            self.relaxed(s)
            note = s.get(Notification, notification_id)
            done = set(filter(None, (note.steps or "").split(","))) | {step}
            note.steps = ",".join(sorted(done))

    def set_thread(self, group_key: str, channel: str, thread_ts: str) -> None:
        with self._session() as s, s.begin():
            s.execute(update(AlertGroup).where(AlertGroup.group_key == group_key)
                      .values(channel=channel, thread_ts=thread_ts))

    def save_report(self, group_key: str, body: str, notification_id: int | None = None) -> int:
        """Store a report; a retry of the same notification replaces its first one."""
        with self._session() as s, s.begin():
            row = None
            if notification_id is not None:
                row = s.scalars(select(ReportRow).where(
                    ReportRow.notification_id == notification_id)).one_or_none()
            if row is None:
                row = ReportRow(group_key=group_key, notification_id=notification_id)
                s.add(row)
            row.created_at, row.body = time.time(), body
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

    @staticmethod
    def _view(g: AlertGroup, firing: int, total: int, new_firing: list[str],
              generator_urls: list[str]) -> GroupView:
        return GroupView(
            group_key=g.group_key, status=g.status, severity=g.severity, title=g.title,
            summary=g.summary, channel=g.channel, thread_ts=g.thread_ts, first_seen=g.first_seen,
            resolved_at=g.resolved_at, firing=firing, total=total, external_url=g.external_url,
            new_firing=new_firing, generator_urls=generator_urls,
            labels=json.loads(g.labels or "{}"), mode=g.mode,
        )
