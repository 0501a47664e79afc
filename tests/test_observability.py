"""The bot observing itself and being operable: JSON logs with the incident id,
`oncall status` with dead letters, `/metrics`, and Slack delivery under 429s."""

from __future__ import annotations

import io
import json
import logging
import re
import time

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from typer.testing import CliRunner

from bot.chat_delivery import SlackDelivery, SlackRefused
from bot.chat_rate import ChannelLimiter
from bot.cli import app as cli
from bot.logs import JsonFormatter, incident, incident_id, setup_logging
from bot.outbox import Outbox, chat_step
from bot.server import WORKER
from bot.store import Store
from tests.hooks import hook
from tests.replicas import TOKEN, slack_standin


def test_json_logs_carry_the_incident():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("worker"))
    log = logging.getLogger("oncall.test.json")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with incident('{}:{alertname="X"}', 42):
            log.warning("posting %s", "parent")
        log.info("outside")
    finally:
        log.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["msg"] == "posting parent" and inside["level"] == "warning"
    assert inside["incident"] == incident_id('{}:{alertname="X"}') and inside["notification"] == 42
    assert inside["group_key"] == '{}:{alertname="X"}' and inside["role"] == "worker"
    assert "incident" not in outside


def test_setup_logging_replaces_handlers():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        setup_logging("WARNING", "json", role="serve")
        assert len(root.handlers) == 1 and isinstance(root.handlers[0].formatter, JsonFormatter)
        assert root.level == logging.WARNING
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_oncall_status_shows_dead_letters_and_retries_one(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/status.db"
    store = Store(url)
    store.enqueue(*hook("status-dead"))
    c = store.claim(30.0, "me")
    assert store.retry_later(c.id, "RuntimeError('chat is down')", 1.0, 1, c.attempts) == "dead"
    store.enqueue(*hook("status-pending"))
    store.close()
    monkeypatch.setenv("ONCALL_DATABASE_URL", url)
    runner = CliRunner()
    shown = runner.invoke(cli, ["status"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "dead letters" in shown.output and "chat is down" in shown.output
    data = json.loads(runner.invoke(cli, ["status", "--json"]).output)
    assert data["queue"] == {"dead": 1, "pending": 1} and data["oldest_pending_seconds"] >= 0
    assert [d["id"] for d in data["dead"]] == [c.id]
    assert runner.invoke(cli, ["status", "--retry", str(c.id)]).exit_code == 0
    assert json.loads(runner.invoke(cli, ["status", "--json"]).output)["queue"] == {"pending": 2}
    assert runner.invoke(cli, ["status", "--retry", str(c.id)]).exit_code == 1  # not dead now


async def test_metrics_show_queue_age_stages_and_source_errors(start_bot, alerts_body):
    from tests.test_worker import RecordingSink, deliver, drain

    bot = await start_bot(run_worker=False, sink=RecordingSink(), prometheus_url="http://127.0.0.1:9",
                          investigation_deadline=1.0)
    await deliver(bot, alerts_body)
    async with httpx.AsyncClient() as client:
        before = (await client.get(bot.url + "/metrics")).text
        await drain(bot)
        after = (await client.get(bot.url + "/metrics")).text
    def oldest(text: str) -> float:
        return float(re.search(r"^oncall_queue_oldest_pending_seconds (\S+)$", text, re.M)[1])

    assert oldest(before) > 0 and oldest(after) == 0
    assert 'oncall_queue_notifications{state="done"} 1.0' in after
    for stage in ("apply", "investigate", "post_parent", "post_report", "total"):
        assert f'oncall_stage_seconds_count{{stage="{stage}"}}' in after
    assert 'oncall_source_errors_total{source="prometheus"}' in after
    assert bot.app[WORKER].owner in {n["owner"] for n in bot.store.notifications()}


@pytest.fixture
async def slack():
    runner, url, recorder = await slack_standin(rate_limit=2.0)
    yield AsyncWebClient(token=TOKEN, base_url=url, retry_handlers=[]), recorder
    await runner.cleanup()


async def test_delivery_honours_429_and_never_reposts_a_done_step(slack, tmp_path):
    client, recorder = slack
    store = Store(f"sqlite:///{tmp_path}/d.db")
    delivery = SlackDelivery(client, outbox=Outbox(store, "me"), limiter=ChannelLimiter(store, 100))
    started = time.time()
    for i in range(5):  # the limiter allows 100/s, Slack 2/s: 429s, each honoured
        with chat_step(f"n{i}:note"):
            await delivery.post("#obs", text=f"note {i}")
    assert len(recorder.messages) == 5 and recorder.limited
    for at, channel, retry_after in recorder.limited:
        later = [t for t, _, ch in recorder.writes(channel) if t > at]
        assert not later or later[0] >= at + retry_after - 0.05  # nobody went before Retry-After
    assert time.time() - started >= 1.0
    with chat_step("n0:note"):  # a retry of a done step
        assert await delivery.post("#obs", text="note 0") == (recorder.messages[min(recorder.messages)]["channel"], min(recorder.messages))
    assert len(recorder.messages) == 5
    store.close()


async def test_an_interrupted_post_is_found_by_its_metadata(slack, tmp_path):
    client, recorder = slack
    store = Store(f"sqlite:///{tmp_path}/r.db")
    box = Outbox(store, "me")
    delivery = SlackDelivery(client, outbox=box, limiter=ChannelLimiter(store, 100))
    # the first attempt recorded its intent and posted, then died before recording the ts
    await store.run(box.begin, "parent:g1")
    await delivery._post("#obs", None, "parent:g1", {"text": "FIRING g1"})
    with chat_step("parent:g1"):
        channel, ts = await delivery.post("#obs", text="FIRING g1")
    assert len(recorder.messages) == 1 and ts in recorder.messages
    assert (await store.run(box.lookup, "parent:g1")).ts == ts
    with pytest.raises(SlackRefused):  # a refusal clears the intent: the retry starts fresh
        with chat_step("n5:report#0"):
            await delivery.post("", thread_ts=ts, text="no channel")
    assert await store.run(box.lookup, "n5:report#0") is None
    store.close()
