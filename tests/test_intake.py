"""Intake: validated, persisted before the ack, duplicates and bad input refused."""

from __future__ import annotations

import json

import httpx
import pytest

TOKEN = "s3cret-webhook-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def bot(start_bot):
    return await start_bot(run_worker=False, webhook_token=TOKEN)


async def post(bot, body: bytes, headers=AUTH) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(bot.url + "/alertmanager", content=body,
                                 headers={"Content-Type": "application/json", **headers})


async def test_valid_webhook_is_stored_before_ack(bot, alerts_body):
    resp = await post(bot, alerts_body)
    assert resp.status_code == 200
    assert resp.json()["status"] == "accepted"
    stored = bot.store.notifications()
    assert [n["id"] for n in stored] == [resp.json()["id"]]
    assert stored[0]["state"] == "pending"
    assert stored[0]["group_key"] == json.loads(alerts_body)["groupKey"]


async def test_ha_duplicate_is_acknowledged_but_stored_once(bot, alerts_body):
    first, second = await post(bot, alerts_body), await post(bot, alerts_body)
    assert first.json()["status"] == "accepted"
    assert second.status_code == 200 and second.json()["status"] == "duplicate"
    assert len(bot.store.notifications()) == 1


def _mutate(body: bytes, **changes) -> bytes:
    data = json.loads(body)
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return json.dumps(data).encode()


@pytest.mark.parametrize("case, make, status, reason", [
    ("truncated JSON", lambda b: b[: len(b) // 2], 400, "not valid JSON"),
    ("wrong version", lambda b: _mutate(b, version="3"), 400, "version"),
    ("missing alerts", lambda b: _mutate(b, alerts=None), 400, "alerts"),
    ("empty alerts", lambda b: _mutate(b, alerts=[]), 400, "alerts"),
    ("alert without fingerprint", lambda b: _mutate(b, alerts=[{"status": "firing", "labels": {},
        "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z"}]), 400, "alerts.0.fingerprint"),
    ("not an object", lambda b: b"[1, 2]", 400, "JSON object"),
    ("oversize body", lambda b: b + b" " * (1024 * 1024), 413, "body over"),
])
async def test_bad_input_is_a_clear_4xx_and_stores_nothing(bot, alerts_body, case, make, status, reason):
    resp = await post(bot, make(alerts_body))
    assert resp.status_code == status, case
    assert reason in resp.json()["error"], resp.json()
    assert bot.store.notifications() == []
    # the server keeps serving: a good webhook right after is accepted
    assert (await post(bot, alerts_body)).json()["status"] == "accepted"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}])
async def test_wrong_token_is_401(bot, alerts_body, headers):
    resp = await post(bot, alerts_body, headers=headers)
    assert resp.status_code == 401
    assert "token" in resp.json()["error"]
    assert bot.store.notifications() == []


async def test_healthz_and_metrics(bot, alerts_body):
    await post(bot, alerts_body)
    await post(bot, b"{")
    async with httpx.AsyncClient() as client:
        health = await client.get(bot.url + "/healthz")
        metrics = (await client.get(bot.url + "/metrics")).text
    assert health.json() == {"status": "ok"}
    assert 'oncall_webhooks_total{outcome="invalid"}' in metrics
    assert 'oncall_queue_notifications{state="pending"} 1.0' in metrics


async def test_slack_events_without_slack_is_503(bot):
    async with httpx.AsyncClient() as client:
        resp = await client.post(bot.url + "/slack/events", content=b"token=x")
    assert resp.status_code == 503


async def test_slack_events_without_a_signing_secret_are_refused_and_webhooks_still_served(
        start_bot, alerts_body):
    bot = await start_bot(run_worker=False, slack_bot_token="xoxb-no-secret")  # Socket Mode only
    async with httpx.AsyncClient() as client:
        resp = await client.post(bot.url + "/slack/events", content=b"command=%2Foncall&text=help")
        hook = await client.post(bot.url + "/alertmanager", content=alerts_body,
                                 headers={"Content-Type": "application/json"})
    assert resp.status_code == 503 and "ONCALL_SLACK_SIGNING_SECRET" in resp.json()["error"]
    assert hook.status_code == 200 and hook.json()["status"] == "accepted"
