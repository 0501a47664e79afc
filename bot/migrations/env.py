"""Alembic environment: the connection comes from bot.migrate, never from an ini file,
so the same migrations run against whatever ONCALL_DATABASE_URL names."""

from __future__ import annotations

from alembic import context

from bot.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
