"""Tables for human-approved status updates: the drafts and their audit trail.

Separate from bot/models.py (same metadata) so approvals never alter the
intake tables; `status` only ever moves forward by conditional UPDATEs.
"""

from __future__ import annotations

from sqlalchemy import Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models import Base


class StatusDraft(Base):
    """A stakeholder update waiting for (or given) a human decision."""

    __tablename__ = "status_drafts"
    __table_args__ = (UniqueConstraint("draft_key", name="uq_status_drafts_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draft_key: Mapped[str] = mapped_column(String(200))  # group + report time: one draft per report
    group_key: Mapped[str] = mapped_column(Text, index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[str] = mapped_column(Text, default="{}")  # the page's labels, for the ownership map
    platform: Mapped[str] = mapped_column(String(16), default="slack")
    channel: Mapped[str] = mapped_column(Text, default="")  # where the draft was shown
    thread_ts: Mapped[str | None] = mapped_column(String(200), nullable=True)
    message_ts: Mapped[str | None] = mapped_column(String(200), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[float] = mapped_column(Float)
    edited_by: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    posted_to: Mapped[str | None] = mapped_column(Text, nullable=True)
    posted_ts: Mapped[str | None] = mapped_column(String(200), nullable=True)


class AuditEntry(Base):
    """Who did what to a draft, when; never updated or deleted."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(32))
    draft_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
