"""Fresh PostgreSQL databases or schemas for tests on the local server (127.0.0.1:5432, trust auth).

`pg_url`: a database of its own (for `oncall serve` subprocesses); `pg_schema_url`:
a schema of its own in one database per test session (faster, for in-process tests).

Skips when no server answers, so a clone without PostgreSQL still runs the
rest; CI machines have it started. ONCALL_TEST_PG overrides the server URL.
"""

from __future__ import annotations

import os
import uuid

import pytest

SERVER = os.environ.get("ONCALL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin():
    import psycopg

    return psycopg.connect(SERVER, autocommit=True, connect_timeout=3)


def pg_available() -> bool:
    try:
        with _admin():
            return True
    except Exception:
        return False


def create_database() -> str:
    name = f"oncall_test_{uuid.uuid4().hex[:12]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url():
    if not pg_available():
        pytest.skip(f"no PostgreSQL at {SERVER}")
    url = create_database()
    yield url
    drop_database(url)


_session_db: list[str] = []


def schema_url() -> str:
    """A new empty schema, as a URL whose connections default to it."""
    if not _session_db:
        _session_db.append(create_database())
    name = f"t_{uuid.uuid4().hex[:12]}"
    import psycopg

    plain = _session_db[0].replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    return f"{_session_db[0]}?options=-csearch_path%3D{name}"


def drop_session_database() -> None:
    while _session_db:
        drop_database(_session_db.pop())
