"""The store as several replicas share it, on SQLite and on the real PostgreSQL:
migrations, group-ordered claims, leases and fencing, retries, the outbox,
shared channel slots and storm admission."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from bot import migrate, models
from bot.chat_rate import ChannelLimiter
from bot.outbox import Outbox
from bot.rollup import Storm
from bot.store import Store
from tests.hooks import hook
from tests.pgutil import drop_session_database, pg_available, schema_url


@pytest.fixture(scope="module", autouse=True)
def _pg_database():
    yield
    drop_session_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ha.db"
    if not pg_available():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    return schema_url()


@pytest.fixture
def replicas(db_url):
    """Two stores on one database: two replicas as far as the store can tell."""
    stores = [Store(db_url), Store(db_url)]
    yield stores
    for s in stores:
        s.close()


def test_migrations_upgrade_a_legacy_database_and_match_the_models(db_url):
    from sqlalchemy import create_engine

    engine = create_engine(db_url)
    migrate.upgrade(engine, "0001")  # what create_all made before migrations existed
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("INSERT INTO notifications (digest, group_key, received_at, body, state, "
                          "attempts, steps) VALUES ('d', 'g', 1, '{}', 'done', 1, '')"))
    engine.dispose()

    errors: list[BaseException] = []

    def start() -> None:
        try:
            Store(db_url).close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]  # replicas starting together
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store = Store(db_url)
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    assert [(n["state"], n["kind"]) for n in store.notifications()] == [("done", "webhook")]
    import bot.approval_models  # noqa: F401 - its tables are migrated too

    ours = {"notifications", "alert_groups", "alerts", "reports", "chat_steps", "chat_channels",
            "rollup_entries", "status_drafts", "audit_log"}  # a model change needs a migration

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table in ours

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        assert compare_metadata(context, models.Base.metadata) == []
    store.close()


def test_two_replicas_claim_each_notification_once_and_each_group_in_order(replicas):
    for g in range(20):
        for k in range(5):
            replicas[0].enqueue(*hook(f"g{g}", [(f"a{k}", "firing")]))
    seen: list[tuple[str, int, float, float, str]] = []
    lock = threading.Lock()

    def work(store: Store, name: str) -> None:
        idle = 0
        while idle < 20:
            c = store.claim(30.0, name)
            if c is None:
                idle += 1
                time.sleep(0.01)
                continue
            idle = 0
            start = time.monotonic()
            time.sleep(0.003)
            with lock:
                seen.append((c.group_key, c.id, start, time.monotonic(), name))
            assert store.finish(c.id, c.attempts)

    threads = [threading.Thread(target=work, args=(s, f"r{i}-{j}"))
               for i, s in enumerate(replicas) for j in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(i for _, i, *_ in seen) == list(range(1, 101))  # each once, none lost
    assert {o.split("-")[0] for *_, o in seen} == {"r0", "r1"}  # both replicas worked
    by_group = defaultdict(list)
    for g, i, start, end, _ in seen:
        by_group[g].append((start, end, i))
    for runs in by_group.values():
        runs.sort()
        assert [i for *_, i in runs] == sorted(i for *_, i in runs)  # in arrival order
        for (_, end, _), (start, _, _) in zip(runs, runs[1:]):
            assert end <= start  # never two of a group at once
    assert replicas[1].queue_depth() == {"done": 100}


def test_an_expired_lease_passes_the_work_on_and_fences_the_old_claim(replicas):
    a, b = replicas
    a.enqueue(*hook("lease"))
    first = a.claim(0.2, "a")
    assert b.claim(30.0, "b") is None  # live lease: the group is busy
    assert a.renew(first.id, first.attempts, 0.2)
    time.sleep(0.3)
    second = b.claim(30.0, "b")
    assert second.id == first.id and second.attempts == first.attempts + 1
    assert not a.renew(first.id, first.attempts, 30.0)
    assert not a.finish(first.id, first.attempts)
    assert a.retry_later(first.id, "late", 1.0, 5, first.attempts) == "lost"
    assert b.finish(second.id, second.attempts)
    assert [n["owner"] for n in b.notifications()] == ["b"]


def test_failures_back_off_then_dead_letter_then_requeue(replicas):
    a, _ = replicas
    a.enqueue(*hook("dead"))
    for attempt in (1, 2):
        c = a.claim(30.0, "a")
        assert c.attempts == attempt
        state = a.retry_later(c.id, "boom", 0.2, 2, c.attempts)
        assert state == ("pending" if attempt == 1 else "dead")
        if attempt == 1:
            assert a.claim(30.0, "a") is None  # backing off
            time.sleep(0.25)
    assert a.queue_depth() == {"dead": 1}
    assert [d["error"] for d in a.dead_letters()] == ["boom"]
    assert a.requeue(c.id) and a.claim(30.0, "a").attempts == 1


async def test_outbox_posts_once_and_reconciles_an_interrupted_post(replicas):
    a, b = replicas
    calls: list[str] = []

    async def post() -> tuple[str, str]:
        calls.append("post")
        return "C1", f"{len(calls)}.0"

    box_a, box_b = Outbox(a, "a"), Outbox(b, "b")
    assert await box_a.once("parent:g", post) == ("C1", "1.0")
    assert await box_b.once("parent:g", post) == ("C1", "1.0")  # other replica: recorded, skipped
    assert calls == ["post"]

    # a crash after the intent was written (the post may or may not have happened)
    assert (await a.run(box_a.begin, "n7:report#0")).state == "new"

    async def found(since: float):
        assert since <= time.time()
        return "C1", "99.0"

    assert await box_b.once("n7:report#0", post, reconcile=found) == ("C1", "99.0")
    assert calls == ["post"]
    assert (await a.run(box_a.begin, "n8:report#0")).state == "new"

    async def missing(since: float):
        return None

    assert await box_b.once("n8:report#0", post, reconcile=missing) == ("C1", "2.0")

    async def refused() -> tuple[str, str]:
        raise PermissionError("not_in_channel")

    with pytest.raises(PermissionError):
        await box_a.once("n9:note", refused, refused=(PermissionError,))
    assert (await a.run(box_a.begin, "n9:note")).state == "new"  # refused: clean slate


def test_channel_slots_are_shared_by_replicas(replicas):
    limiters = [ChannelLimiter(s, 24.0) for s in replicas]  # 50 ms apart (20% headroom)
    slots: list[float] = []

    def reserve(lim: ChannelLimiter, channel: str) -> None:
        for _ in range(10):
            slots.append(lim.reserve(channel)[0])

    limiters[0].reserve("#ops")
    limiters[0].learn("#ops", "C0OPS")  # Slack answered with the ID: one queue for both
    threads = [threading.Thread(target=reserve, args=(lim, ch))
               for lim in limiters for ch in ("#ops", "C0OPS")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slots.sort()
    assert len(slots) == 40
    assert min(b - a for a, b in zip(slots, slots[1:])) >= 0.05 - 1e-6
    limiters[1].push_back("#ops", time.time() + 5)
    assert limiters[0].reserve("C0OPS")[0] >= slots[-1] + 0.05 - 1e-6
    slot, blocked = limiters[0].reserve("C0OPS")
    assert slot > time.time() + 4.9 and blocked == pytest.approx(time.time() + 5, abs=0.5)


def test_storm_admits_n_threads_then_rolls_up_once_across_replicas(replicas):
    a, b = replicas
    storms = [Storm(s, limit=3, window=60.0, delay=0.0) for s in replicas]
    modes = []
    for g in range(10):
        h, raw = hook(f"s{g}")
        a.apply(h)
        modes.append(storms[g % 2].admit(h.groupKey, "#ops", True))
    assert modes == ["thread"] * 3 + ["rollup"] * 7
    results: list[int] = []
    threads = [threading.Thread(target=lambda s=s: results.append(s.schedule())) for s in storms * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 1  # one job for the batch, whoever scheduled it
    [job] = [n for n in a.notifications() if n["kind"] == "rollup"]
    members = storms[1].members(job["id"])
    assert [m.labels["group"] for m in members] == [f"s{g}" for g in range(3, 10)]
    assert storms[0].pending() == 0
    # after the storm window a rolled-up group with new alerts may get its own thread
    quiet = Storm(a, limit=3, window=0.0, delay=0.0)
    assert quiet.admit(members[0].group_key, "#ops", promote=False) == "rollup"
    assert quiet.admit(members[0].group_key, "#ops", promote=True) == "thread"


def test_limiter_wait_sleeps_until_the_slot(replicas):
    lim = ChannelLimiter(replicas[0], 12.0)  # 100 ms apart

    async def three() -> float:
        started = time.monotonic()
        for _ in range(3):
            await lim.wait("#w")
        return time.monotonic() - started

    assert 0.18 <= asyncio.run(three()) < 1.0
