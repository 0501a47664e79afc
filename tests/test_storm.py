"""Storm acceptance: 1,000 alerts into one channel while Slack allows one message a second.

Two `oncall serve` replicas on PostgreSQL share the channel. The Slack stand-in
answers 429 with Retry-After past its rate. Time is compressed by SCALE: the
rate is SCALE msg/s and the storm and its window last 60/SCALE s, so the run
keeps the shape of the real one (1,000 alerts per storm window, N new threads
per window) in a quarter of the time. The rate assertion is on what the
stand-in received, 429s included, at the compressed rate.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter

import aiohttp

from bot.rollup import Storm
from bot.store import Store
from sandbox.slack import channel_id
from tests.hooks import body
from tests.pgutil import pg_url  # noqa: F401 - fixture
from tests.replicas import Replica, parents, posted_keys, replica_env, slack_standin, wait_for

SCALE = 4.0
RATE = 1.0 * SCALE  # messages per second per channel
WINDOW = 60.0 / SCALE  # the storm window, and how long the storm lasts
NEW_THREADS = 10  # new groups per window that get a thread of their own
ALERTS = 1000


def max_in_window(times: list[float], width: float) -> int:
    times, best, lo = sorted(times), 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - width:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def storm(urls: list[str]) -> Counter:
    """ALERTS new groups, evenly over WINDOW seconds, alternating replicas."""
    answers: Counter = Counter()
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        async def one(i: int) -> None:
            await asyncio.sleep(max(0.0, started + i * WINDOW / ALERTS - time.monotonic()))
            data = body(f"s{i:04d}", alertname=f"Storm{i:04d}")
            async with http.post(urls[i % 2] + "/alertmanager", data=data,
                                 headers={"Content-Type": "application/json"}) as resp:
                answers[resp.status] += 1

        await asyncio.gather(*(one(i) for i in range(ALERTS)))
    return answers


async def test_storm_is_rate_limited_summarised_and_drained(pg_url, tmp_path):  # noqa: F811
    slack_runner, slack_url, slack = await slack_standin(rate_limit=RATE)
    env = replica_env(pg_url, slack_url, "http://127.0.0.1:9", chat_rate_per_channel=RATE,
                      storm_new_groups=NEW_THREADS, storm_window=WINDOW, rollup_delay=10 / SCALE)
    replicas = [Replica("a", env, tmp_path), Replica("b", env, tmp_path)]
    store = None
    try:
        await asyncio.gather(*(r.ready() for r in replicas))
        t0 = time.monotonic()
        answers = await storm([r.url for r in replicas])
        assert answers == {200: ALERTS}  # no 5xx: intake only persists
        assert time.monotonic() - t0 < WINDOW * 1.5

        store = Store(pg_url)

        storm_state = Storm(store, limit=NEW_THREADS, window=WINDOW, delay=0)

        def drained() -> bool:
            depth = store.queue_depth()
            return set(depth) == {"done"} and depth["done"] > ALERTS and not storm_state.pending()

        await wait_for(drained, 180, 1.0, "queue drained")
        status = json.loads(subprocess.run(
            [sys.executable, "-m", "bot.cli", "status", "--json"], capture_output=True, text=True,
            env={**os.environ, "ONCALL_DATABASE_URL": pg_url}, check=True).stdout)
        assert status["queue"] == {"done": store.queue_depth()["done"]}
        assert status["oldest_pending_seconds"] == 0 and status["dead"] == []

        # every group is reported: in a thread of its own or listed in a roll-up
        writes = slack.writes(channel_id("#ha"))
        posted = [a for m, a in slack.calls if m == "chat.postMessage"]
        named = set(re.findall(r"Storm\d{4}", json.dumps(posted)))
        assert named == {f"Storm{i:04d}" for i in range(ALERTS)}
        threads = parents(slack)
        rollups = [m for m in threads if m["text"].startswith("Alert storm")]
        individual = [m for m in threads if not m["text"].startswith("Alert storm")]
        assert NEW_THREADS <= len(individual) <= 2 * NEW_THREADS  # at most one window's worth more
        assert rollups
        keys = posted_keys(slack)
        assert len(keys) == len(set(keys)), "a chat step was posted twice"

        # the stand-in never saw more than the sustained rate, 429s included
        times = [t for t, _, _ in writes]
        assert max_in_window(times, 1.0) <= RATE
        assert len(times) / (times[-1] - times[0]) <= RATE
        assert len(slack.limited) <= 2, slack.limited
        for r in replicas:
            assert '"level": "error"' not in r.log()
    finally:
        for r in replicas:
            r.stop()
        if store is not None:
            store.close()
        await slack_runner.cleanup()
