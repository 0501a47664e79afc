"""Several replicas on one database: lease owners, job kinds, chat outbox,
shared per-channel send slots, storm admission and roll-ups.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as t:
        t.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="webhook"))
        t.add_column(sa.Column("owner", sa.Text, nullable=True))
    with op.batch_alter_table("alert_groups") as t:
        t.add_column(sa.Column("labels", sa.Text, nullable=False, server_default="{}"))
        t.add_column(sa.Column("route", sa.Text, nullable=True))
        t.add_column(sa.Column("mode", sa.String(16), nullable=True))
        t.add_column(sa.Column("admitted_at", sa.Float, nullable=True))
    with op.batch_alter_table("reports") as t:
        t.add_column(sa.Column("notification_id", sa.Integer, nullable=True))
        t.create_unique_constraint("uq_reports_notification_id", ["notification_id"])
    op.create_table(
        "chat_steps",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("done_at", sa.Float, nullable=True),
        sa.Column("channel", sa.Text, nullable=True),
        sa.Column("ts", sa.String(64), nullable=True),
    )
    op.create_table(
        "chat_channels",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("next_at", sa.Float, nullable=False),
        sa.Column("blocked_until", sa.Float, nullable=False, server_default="0"),
        sa.Column("channel_id", sa.Text, nullable=True),
    )
    op.create_table(
        "rollup_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_key", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("added_at", sa.Float, nullable=False),
        sa.Column("job_id", sa.Integer, nullable=True),
        sa.UniqueConstraint("group_key", name="uq_rollup_entries_group_key"),
    )
    op.create_index("ix_rollup_entries_channel", "rollup_entries", ["channel"])
    op.create_index("ix_rollup_entries_job_id", "rollup_entries", ["job_id"])


def downgrade() -> None:
    for table in ("rollup_entries", "chat_channels", "chat_steps"):
        op.drop_table(table)
    with op.batch_alter_table("reports") as t:
        t.drop_constraint("uq_reports_notification_id", type_="unique")
        t.drop_column("notification_id")
    with op.batch_alter_table("alert_groups") as t:
        for col in ("admitted_at", "mode", "route", "labels"):
            t.drop_column(col)
    with op.batch_alter_table("notifications") as t:
        t.drop_column("owner")
        t.drop_column("kind")
