"""Approval drafts and their audit log (bot/approval_models.py), so every replica
finds them made by the migration instead of racing to `create_all` them.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_drafts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("draft_key", sa.String(200), nullable=False),
        sa.Column("group_key", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("thread_ts", sa.String(200), nullable=True),
        sa.Column("message_ts", sa.String(200), nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("edited_by", sa.Text, nullable=True),
        sa.Column("decided_by", sa.Text, nullable=True),
        sa.Column("decided_at", sa.Float, nullable=True),
        sa.Column("posted_to", sa.Text, nullable=True),
        sa.Column("posted_ts", sa.String(200), nullable=True),
        sa.UniqueConstraint("draft_key", name="uq_status_drafts_key"),
        if_not_exists=True,
    )
    op.create_index("ix_status_drafts_group_key", "status_drafts", ["group_key"], if_not_exists=True)
    op.create_index("ix_status_drafts_status", "status_drafts", ["status"], if_not_exists=True)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("draft_id", sa.Integer, nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        if_not_exists=True,
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"], if_not_exists=True)
    op.create_index("ix_audit_log_draft_id", "audit_log", ["draft_id"], if_not_exists=True)


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("status_drafts")
