"""Acceptance of the HA store: two `oncall serve` processes sharing the real PostgreSQL.

- an Alertmanager HA pair's traffic (every notification to both replicas) makes one
  thread and one investigation per group, nothing else;
- `kill -9` of a replica mid-investigation: the other takes the work over after the
  lease expires and finishes it; nothing is lost and nothing is posted twice.
The storm (1,000 alerts into one channel under Slack's rate limit) is test_storm.py.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import aiohttp

from bot.store import Store
from tests.hooks import body, lifecycle
from tests.pgutil import pg_url  # noqa: F401 - fixture
from tests.replicas import (
    Replica, parents, posted_keys, replica_env, slack_standin, slow_prometheus, wait_for,
)

JSON = {"Content-Type": "application/json"}


def errors_in(log: str) -> list[str]:
    lines = [line for line in log.splitlines() if line.strip()]
    return [line for line in lines if '"level": "error"' in line or "Traceback" in line]


async def send_all(jobs: list[tuple[str, bytes]], limit: int = 40) -> Counter:
    """POST every (url, body) at most `limit` at a time; count (status, answer)."""
    seen: Counter = Counter()
    sem = asyncio.Semaphore(limit)
    async with aiohttp.ClientSession() as http:
        async def one(url: str, data: bytes) -> None:
            async with sem, http.post(url + "/alertmanager", data=data, headers=JSON) as resp:
                seen[(resp.status, (await resp.json()).get("status"))] += 1

        await asyncio.gather(*(one(u, d) for u, d in jobs))
    return seen


async def test_ha_pair_traffic_to_two_replicas_makes_one_thread_per_group(pg_url, tmp_path):  # noqa: F811
    slack_runner, slack_url, slack = await slack_standin()
    env = replica_env(pg_url, slack_url, "http://127.0.0.1:9", chat_rate_per_channel=0,
                      storm_new_groups=0)
    replicas = [Replica("a", env, tmp_path), Replica("b", env, tmp_path)]
    store = None
    try:
        await asyncio.gather(*(r.ready() for r in replicas))
        groups = [f"g{g:03d}" for g in range(100)]
        bodies = {g: lifecycle(g, alertname=f"Ha{g}") for g in groups}
        answers: Counter = Counter()
        for k in range(5):  # Alertmanager sends a group's notifications in order
            jobs = []
            for i, g in enumerate(groups):
                first, second = replicas[(i + k) % 2], replicas[(i + k + 1) % 2]
                jobs += [(first.url, bodies[g][k]), (second.url, bodies[g][k])]
            answers += await send_all(jobs)
        assert answers == {(200, "accepted"): 500, (200, "duplicate"): 500}

        store = Store(pg_url)
        await wait_for(lambda: store.queue_depth() == {"done": 500}, 180, what="queue drained")

        threads = parents(slack)
        assert len(threads) == 100
        assert sorted(m["text"].split("Ha", 1)[1].split(" ")[0] for m in threads) == groups
        keys = posted_keys(slack)
        assert len(keys) == len(set(keys)), "a chat step was posted twice"
        assert sum(k.endswith(":report#0") for k in keys) == 100
        assert sum(k.endswith(":resolved") for k in keys) == 100
        for group in store.groups():
            assert len(store.reports(group.group_key)) == 1, group.group_key
            assert group.status == "resolved" and group.thread_ts
        notes = store.notifications()
        assert {n["attempts"] for n in notes} == {1}  # nothing failed, nothing retried
        assert len({n["owner"] for n in notes}) == 2  # both replicas' workers shared it
        for r in replicas:
            assert errors_in(r.log()) == []
    finally:
        for r in replicas:
            r.stop()
        if store is not None:
            store.close()
        await slack_runner.cleanup()


async def test_kill_9_mid_investigation_the_other_replica_finishes(pg_url, tmp_path):  # noqa: F811
    slack_runner, slack_url, slack = await slack_standin()
    prom_runner, prom_url = await slow_prometheus(60)  # investigations run to their deadline
    env = replica_env(pg_url, slack_url, prom_url, investigation_deadline=3, worker_lease=2,
                      chat_rate_per_channel=0, storm_new_groups=0, worker_concurrency=4)
    a, b = Replica("a", env, tmp_path), Replica("b", env, tmp_path)
    store = None
    try:
        await asyncio.gather(a.ready(), b.ready())
        groups = [f"crash{g}" for g in range(6)]  # more than b can hold: a holds some
        jobs = [((a, b)[i % 2].url, body(g, alertname=f"Crash{g}")) for i, g in enumerate(groups)]
        assert await send_all(jobs) == {(200, "accepted"): 6}
        store = Store(pg_url)
        worker_a, worker_b = a.worker_pid(), b.worker_pid()

        def all_investigating() -> list[dict]:
            flight = store.in_flight()
            ok = len(flight) == 6 and len(parents(slack)) == 6
            return [n for n in flight if n["owner"].endswith(f":{worker_a}")] if ok else []

        held = await wait_for(all_investigating, 30, 0.05, "both replicas investigating")
        assert not any(k.endswith(":report#0") for k in posted_keys(slack))  # mid-investigation
        a.kill()

        await wait_for(lambda: store.queue_depth() == {"done": 6}, 60, what="b finished a's work")
        notes = {n["id"]: n for n in store.notifications()}
        for n in held:
            assert notes[n["id"]]["attempts"] == 2  # a's attempt, then b's
            assert notes[n["id"]]["owner"].endswith(f":{worker_b}")
        keys = posted_keys(slack)
        assert len(keys) == len(set(keys)), "a chat step was posted twice"
        assert len(parents(slack)) == 6  # b reused a's threads
        assert sum(k.endswith(":report#0") for k in keys) == 6
        for group in store.groups():
            assert len(store.reports(group.group_key)) == 1
        assert errors_in(b.log()) == []
        lines = [json.loads(line) for line in b.log().splitlines() if line.startswith("{")]
        assert all(line["incident"].startswith("inc-") for line in lines if line.get("notification"))
    finally:
        for r in (a, b):
            r.stop()
        if store is not None:
            store.close()
        await slack_runner.cleanup()
        await prom_runner.cleanup()
