"""A storm is counted and rolled up in the channel its groups route to (the
ownership map), not in the default channel."""

from __future__ import annotations

import json

import httpx

from bot.models import AlertGroup
from sandbox.slack import channel_id


def page(name: str, namespace: str, service: str) -> bytes:
    labels = {"alertname": name, "namespace": namespace, "service": service, "severity": "warning"}
    return json.dumps({
        "version": "4", "receiver": "oncall-copilot", "status": "firing", "truncatedAlerts": 0,
        "groupKey": f'{{}}:{{alertname="{name}"}}', "externalURL": "http://127.0.0.1:9093",
        "groupLabels": {"alertname": name}, "commonLabels": labels,
        "commonAnnotations": {"summary": f"{name} in {namespace}"},
        "alerts": [{"status": "firing", "labels": labels, "annotations": {},
                    "startsAt": "2026-11-26T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "", "fingerprint": f"{name}-fp"}],
    }).encode()


async def test_rollup_goes_to_the_owners_channel(chat_bot):
    bot = await chat_bot(run_worker=True, storm_new_groups=1, storm_window=600.0, rollup_delay=0.2)
    async with httpx.AsyncClient() as client:
        for body in [page(f"Shop{i}", "shop", "checkout") for i in range(3)] + \
                [page("Other0", "payments", "ledger")]:
            assert (await client.post(bot.url + "/alertmanager", content=body)).status_code == 200

    def rollups(channel: str) -> list[dict]:
        return [m for m in bot.posts_to(channel) if m["text"].startswith("Alert storm")]

    await bot.slack.wait_for(lambda s: rollups("#shop-checkout-oncall")
                             and bot.posts_to("#oncall-default"), timeout=30)
    shop_parents = [m for m in bot.posts_to("#shop-checkout-oncall")
                    if not m.get("thread_ts") and not m["text"].startswith("Alert storm")]
    assert len(shop_parents) == 1, "one thread within the limit, the rest rolled up"
    listed = json.dumps(rollups("#shop-checkout-oncall")[0]["blocks"])
    assert sum(f"Shop{i}" in listed for i in range(3)) == 2
    default = bot.posts_to("#oncall-default")
    assert not [m for m in default if m["text"].startswith("Alert storm")]
    assert any("Other0" in json.dumps(m) for m in default if not m.get("thread_ts")), \
        "another team's group is not counted against the shop channel's storm"
    with bot.store._session() as s:
        routes = {g.group_key: g.route for g in s.query(AlertGroup)}
    assert sorted(routes.values()) == ["#oncall-default"] + ["#shop-checkout-oncall"] * 3
    assert channel_id("#shop-checkout-oncall") != channel_id("#oncall-default")
