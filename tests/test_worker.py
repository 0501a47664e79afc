"""Worker semantics: one thread per group, updates not new threads, retries, dead letters."""

from __future__ import annotations

import copy
import json

import httpx
import pytest

from bot.server import WORKER
from bot.store import GroupView
from reasoning.report import Report


class RecordingSink:
    """Chat sink that records what the worker asked for (Slack itself is covered end to end)."""

    def __init__(self, fail_times: int = 0) -> None:
        self.events: list[tuple[str, str]] = []
        self.fail_times = fail_times

    async def post_parent(self, group: GroupView) -> tuple[str, str]:
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("chat is down")
        self.events.append(("parent", group.status))
        return "C1", f"{len(self.events)}.0001"

    async def update_parent(self, group: GroupView) -> None:
        self.events.append(("update", f"{group.status} {group.firing}/{group.total}"))

    async def post_report(self, group: GroupView, report: Report) -> None:
        self.events.append(("report", report.title))

    async def post_note(self, group: GroupView, text: str) -> None:
        self.events.append(("note", text))


def webhook(body: bytes, *, status: str, alerts: list[tuple[str, str]]) -> bytes:
    data = json.loads(body)
    template = data["alerts"][0]
    data["status"] = status
    data["alerts"] = []
    for fingerprint, alert_status in alerts:
        a = copy.deepcopy(template)
        a["fingerprint"], a["status"] = fingerprint, alert_status
        if alert_status == "resolved":
            a["endsAt"] = "2026-11-20T10:30:00Z"
        data["alerts"].append(a)
    return json.dumps(data).encode()


async def deliver(bot, body: bytes) -> dict:
    async with httpx.AsyncClient() as client:
        resp = await client.post(bot.url + "/alertmanager", content=body)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def drain(bot) -> None:
    while await bot.app[WORKER].run_once():
        pass


@pytest.fixture
async def bot(start_bot):
    sink = RecordingSink()
    server = await start_bot(run_worker=False, sink=sink, prometheus_url="http://127.0.0.1:9",
                             investigation_deadline=2.0)
    server.sink = sink
    return server


async def test_fire_refire_join_and_resolve_stay_in_one_thread(bot, alerts_body):
    await deliver(bot, webhook(alerts_body, status="firing", alerts=[("a1", "firing")]))
    await drain(bot)
    assert bot.sink.events[0] == ("parent", "firing")
    assert [e[0] for e in bot.sink.events] == ["parent", "report"]

    # Alertmanager repeats the same group state: a new notification only if it differs
    assert (await deliver(bot, webhook(alerts_body, status="firing", alerts=[("a1", "firing")])))[
        "status"] == "duplicate"
    # a second alert joins the group: parent updated, a new report for the new alert
    await deliver(bot, webhook(alerts_body, status="firing", alerts=[("a1", "firing"), ("a2", "firing")]))
    await drain(bot)
    assert bot.sink.events[2:] == [("update", "firing 2/2"), ("report", bot.sink.events[1][1])]

    # everything resolves: the parent is edited, a note closes the thread
    await deliver(bot, webhook(alerts_body, status="resolved", alerts=[("a1", "resolved"), ("a2", "resolved")]))
    await drain(bot)
    assert bot.sink.events[4][0] == "update" and bot.sink.events[4][1] == "resolved 0/2"
    assert bot.sink.events[5][0] == "note" and "Resolved after" in bot.sink.events[5][1]
    assert sum(1 for e in bot.sink.events if e[0] == "parent") == 1
    [group] = bot.store.groups()
    assert group.status == "resolved" and group.thread_ts == "1.0001"


async def test_report_names_the_failed_source(bot, alerts_body):
    await deliver(bot, alerts_body)
    await drain(bot)
    [group] = bot.store.groups()
    [report] = bot.store.reports(group.group_key)
    assert "prometheus" in report["failures"]
    assert "ConnectError" in report["failures"]["prometheus"]


async def test_chat_failure_is_retried_then_dead_lettered(start_bot, alerts_body):
    sink = RecordingSink(fail_times=100)
    bot = await start_bot(run_worker=False, sink=sink, prometheus_url="http://127.0.0.1:9")
    worker = bot.app[WORKER]
    worker.max_attempts = 3
    await deliver(bot, alerts_body)
    for attempt in range(1, 4):
        assert await worker.run_once()
        [note] = bot.store.notifications()
        assert note["attempts"] == attempt and "chat is down" in note["error"]
        # backoff: not runnable again until its retry time
        assert not await worker.run_once()
        with bot.store.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE notifications SET lease_until = 0")
    [note] = bot.store.notifications()
    assert note["state"] == "dead"
    assert bot.store.queue_depth() == {"dead": 1}
