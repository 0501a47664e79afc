"""Tables of the store: notifications (the durable intake queue), alert groups,
their alerts, and the reports written for them."""

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
