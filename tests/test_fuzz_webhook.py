"""Fuzzing the Alertmanager webhook (hypothesis), on SQLite and on PostgreSQL.

Whatever arrives, intake answers 2xx or a clear 4xx, never 5xx; and whatever it
accepted is no garbage: the stored body parses again, and the worker's first
step (apply to the group and its alerts) stores it, within every column's type.

Slash command and interaction payloads arrive with the chat issue; their fuzz
tests belong beside its handlers (bot/commands.py, bot/slack_app.py).
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading

import httpx
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.server import STORE, make_app
from bot.settings import Settings
from bot.webhook import parse_webhook
from sandbox.procs import free_port
from tests.hooks import body
from tests.pgutil import drop_session_database, pg_available, schema_url

SPECIAL = st.sampled_from(["\x00", "\ud800", "\udfff", "\u2028", "\ufeff", "😀", '"', "\\", "\n",
                           "{}", "%s", "' OR 1=1 --", "a" * 300])
TEXT = st.lists(st.one_of(SPECIAL, st.characters()), max_size=12).map("".join)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12)
VALID = json.loads(body("fuzz", [("a0", "firing"), ("a1", "resolved")]))
PATHS = [("version",), ("groupKey",), ("status",), ("receiver",), ("groupLabels",),
         ("commonLabels",), ("commonAnnotations",), ("externalURL",), ("truncatedAlerts",),
         ("alerts",), ("alerts", 0), ("alerts", 0, "status"), ("alerts", 0, "labels"),
         ("alerts", 0, "startsAt"), ("alerts", 0, "endsAt"), ("alerts", 0, "fingerprint"),
         ("alerts", 0, "annotations"), ("alerts", 0, "generatorURL"),
         ("commonLabels", "severity"), ("groupLabels", "alertname")]


class Bot:
    """`make_app` serving from a thread of its own, so hypothesis can drive it synchronously."""

    def __init__(self, database_url: str) -> None:
        self.port, self.loop = free_port(), asyncio.new_event_loop()
        settings = Settings(_env_file=None, database_url=database_url, port=self.port)
        self.app = make_app(settings, run_worker=False)
        self.url = f"http://127.0.0.1:{self.port}/alertmanager"
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.runner = web.AppRunner(self.app, access_log=None)
            self.loop.run_until_complete(self.runner.setup())
            self.loop.run_until_complete(web.TCPSite(self.runner, "127.0.0.1", self.port).start())
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        started.wait(30)
        self.http = httpx.Client(timeout=10)

    @property
    def store(self):
        return self.app[STORE]

    def post(self, data: bytes) -> httpx.Response:
        return self.http.post(self.url, content=data, headers={"Content-Type": "application/json"})

    def close(self) -> None:
        self.http.close()
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def bot(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/fuzz.db"
    elif pg_available():
        url = schema_url()
    else:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    server = Bot(url)
    yield server
    server.close()
    drop_session_database()


def check(bot: Bot, data: bytes) -> None:
    """No 5xx; an accepted body is stored as sent and the worker can apply it."""
    resp = bot.post(data)
    assert resp.status_code < 500, resp.text
    answer = resp.json()
    if resp.status_code != 200:
        assert 400 <= resp.status_code < 500 and answer["error"]
        return
    hook = parse_webhook(data)  # accepted: it must parse, again, as the worker will
    if answer["status"] == "accepted":
        stored = {n["id"]: n for n in bot.store.notifications()}[answer["id"]]
        assert stored["group_key"] == hook.groupKey
        bot.store.apply(hook, answer["id"])


FAST = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@FAST
@given(value=JSON)
def test_any_json_is_a_clear_answer(bot, value):
    check(bot, json.dumps(value).encode())


@FAST
@given(raw=st.binary(max_size=300))
def test_any_bytes_are_a_clear_answer(bot, raw):
    check(bot, raw)


@FAST
@given(path=st.sampled_from(PATHS), value=JSON | TEXT, drop=st.booleans())
def test_a_valid_webhook_with_one_field_broken(bot, path, value, drop):
    data = copy.deepcopy(VALID)
    node = data
    for key in path[:-1]:
        node = node[key]
    if drop and isinstance(node, dict):
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    check(bot, json.dumps(data).encode())


@FAST
@given(group=TEXT.filter(bool), labels=st.dictionaries(TEXT, TEXT, max_size=5), summary=TEXT,
       fingerprint=TEXT.filter(bool), severity=TEXT)
def test_valid_webhooks_with_hostile_text_are_stored_and_applied(bot, group, labels, summary,
                                                                 fingerprint, severity):
    data = copy.deepcopy(VALID)
    data["groupKey"] = group
    data["commonLabels"] = {**labels, "severity": severity}
    data["commonAnnotations"] = {"summary": summary}
    data["alerts"][0]["labels"] = labels
    data["alerts"][0]["fingerprint"] = fingerprint
    check(bot, json.dumps(data).encode())
