"""Tables of the store: notifications (the durable work queue), alert groups,
their alerts, the reports written for them, and the chat bookkeeping that
lets several replicas share one Slack channel (outbox, rate slots, roll-ups).

The schema is owned by the Alembic migrations in bot/migrations/; a change
here needs a new migration there (tests compare the two).
"""

from __future__ import annotations

from sqlalchemy import Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Notification(Base):
    """One accepted webhook, persisted before it is acknowledged."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("digest", name="uq_notifications_digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(64))
    group_key: Mapped[str] = mapped_column(Text, index=True)
    received_at: Mapped[float] = mapped_column(Float)
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    done_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    plan: Mapped[str | None] = mapped_column(Text, nullable=True)  # changes it brought, fixed once
    steps: Mapped[str] = mapped_column(Text, default="")  # chat steps done, for safe retries
    kind: Mapped[str] = mapped_column(String(16), default="webhook")  # or "rollup"
    owner: Mapped[str | None] = mapped_column(Text, nullable=True)  # host:pid holding the lease


class AlertGroup(Base):
    """An Alertmanager group (by `groupKey`) and the chat thread that follows it."""

    __tablename__ = "alert_groups"

    group_key: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(32), default="unknown")
    title: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str | None] = mapped_column(Text, nullable=True)
    thread_ts: Mapped[str | None] = mapped_column(String(64), nullable=True)
    first_seen: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    resolved_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    external_url: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[str] = mapped_column(Text, default="{}")  # groupLabels, JSON
    route: Mapped[str | None] = mapped_column(Text, nullable=True)  # channel it was admitted to
    mode: Mapped[str | None] = mapped_column(String(16), nullable=True)  # "thread" or "rollup"
    admitted_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Alert(Base):
    """One alert of a group, by Alertmanager fingerprint."""

    __tablename__ = "alerts"

    group_key: Mapped[str] = mapped_column(Text, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    labels: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[str] = mapped_column(String(40))
    ends_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    generator_url: Mapped[str] = mapped_column(Text, default="")


class ReportRow(Base):
    """A report as posted, in its JSON form."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_key: Mapped[str] = mapped_column(Text, index=True)
    created_at: Mapped[float] = mapped_column(Float)
    body: Mapped[str] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("notification_id", name="uq_reports_notification_id"),)
    notification_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ChatStep(Base):
    """Outbox: a chat side effect recorded before the call and its result after."""

    __tablename__ = "chat_steps"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # "started" or "done"
    owner: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[float] = mapped_column(Float)
    done_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    channel: Mapped[str | None] = mapped_column(Text, nullable=True)
    ts: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ChatChannel(Base):
    """Per-channel send slots shared by every replica (Slack allows ~1 msg/s/channel)."""

    __tablename__ = "chat_channels"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    next_at: Mapped[float] = mapped_column(Float, default=0.0)
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)  # Slack's Retry-After
    channel_id: Mapped[str | None] = mapped_column(Text, nullable=True)  # for a "#name"


class RollupEntry(Base):
    """A new group summarised in a channel's roll-up instead of a thread of its own."""

    __tablename__ = "rollup_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    __table_args__ = (UniqueConstraint("group_key", name="uq_rollup_entries_group_key"),)
    group_key: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text, index=True)
    added_at: Mapped[float] = mapped_column(Float)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
