"""Ownership map, command router, workflow calls, Slack draft blocks, Socket Mode wiring."""

from __future__ import annotations

import pytest

from bot.commands import ROUTER, UsageError, help_text, parse
from bot.ownership import OwnershipMap
from bot.settings import Settings
from bot.workflow_calls import NotAvailable, call_workflow, render_result

MAP = OwnershipMap.model_validate({
    "default": {"team": "platform", "channel": "#oncall", "stakeholder_channel": "#incidents"},
    "owners": [
        {"match": {"namespace": "shop"}, "team": "shop", "channel": "#shop", "approvers": ["U1"]},
        {"match": {"namespace": "shop", "service": "checkout"}, "team": "checkout", "channel": "#checkout",
         "approvers": ["U2", "@Alice"]},
        {"match": {"namespace": "payments-*"}, "team": "payments", "stakeholder_channel": "#pay-status"},
    ]})


@pytest.mark.parametrize("labels, team, channel, stakeholders", [
    ({"namespace": "shop", "service": "checkout"}, "checkout", "#checkout", "#incidents"),
    ({"namespace": "shop", "pod": "checkout-5255lpzzwd-58tv8"}, "checkout", "#checkout", "#incidents"),
    ({"namespace": "shop", "service": "cart"}, "shop", "#shop", "#incidents"),
    ({"namespace": "payments-eu"}, "payments", "#oncall", "#pay-status"),
    ({"namespace": "kube-system"}, "platform", "#oncall", "#incidents"),
    ({}, "platform", "#oncall", "#incidents"),
])
def test_most_specific_owner_wins(labels, team, channel, stakeholders):
    owner = MAP.resolve(labels)
    assert (owner.team, owner.channel, owner.stakeholder_channel) == (team, channel, stakeholders)


def test_approvers_match_any_identity_case_insensitively():
    owner = MAP.resolve({"namespace": "shop", "service": "checkout"})
    assert owner.allows({"U9", "alice"}) and owner.allows({"U2"}) and not owner.allows({"U1", "bob"})


def test_missing_file_routes_everything_to_the_default_channel(tmp_path):
    m = OwnershipMap.load(tmp_path / "none.yaml", "#fallback")
    assert m.resolve({"namespace": "x"}).channel == "#fallback" and not m.resolve({}).allows({"U1"})


def test_shipped_ownership_file_loads():
    settings = Settings(_env_file=None, teams_stakeholder_conversation_id="19:s")
    m = OwnershipMap.from_settings(settings)
    assert m.resolve({"namespace": "shop", "service": "checkout"}).team == "checkout"
    assert m.resolve({"namespace": "shop"}).teams_stakeholder_conversation == "19:s"


def test_every_subcommand_has_usage_and_help_lists_them():
    text = help_text()
    assert set(ROUTER) == {"health", "triage", "slo", "canary", "cost", "status", "help"}
    assert all(f"`/oncall {s.usage}`" in text for s in ROUTER.values())
    assert parse("")[0].name == "help" and parse("HELP triage")[1] == {"topic": "triage"}
    with pytest.raises(UsageError, match="Usage: `/oncall triage"):
        parse("triage svc/x")


async def test_call_workflow_supplies_by_name_and_reports_missing():
    async def wf(prometheus, namespace=None, *, lines: int = 10):
        return {"got": [prometheus, namespace, lines]}

    assert await call_workflow(wf, {"prometheus": "P", "lines": 3, "extra": 1}) == {"got": ["P", None, 3]}
    with pytest.raises(NotAvailable, match="needs `prometheus`"):
        await call_workflow(wf, {})


def test_render_result_is_readable_for_models_and_dicts():
    text = render_result({"pods_not_ready": [f"p{i}" for i in range(20)], "ok": True, "empty": []})
    assert "*pods not ready*" in text and "… and 5 more" in text and "empty" not in text
    text = render_result({"command": "health", "ok": True, "evidence": [{"query": "up"}], "summary": "all well"})
    assert text.splitlines() == ["*summary*: all well", "*ok*: True"]


async def test_socket_mode_handler_uses_the_same_app():
    from bot.runtime import make_slack_app
    from bot.slack_app import register
    from bot.slack_transport import socket_mode_handler

    settings = Settings(_env_file=None, slack_bot_token="xoxb-x", slack_app_token="xapp-1-test")
    app = make_slack_app(settings)
    assert socket_mode_handler(app, Settings(_env_file=None, slack_bot_token="xoxb-x")) is None
    handler = socket_mode_handler(app, settings)
    assert handler.app is app and handler.client.app_token == "xapp-1-test"
    assert handler.client.web_client is app.client


async def test_socket_mode_server_registers_listeners_and_lifecycle(tmp_path):
    from bot.server import SLACK, make_app

    settings = Settings(_env_file=None, slack_bot_token="xoxb-x", slack_app_token="xapp-1-test",
                        database_url=f"sqlite:///{tmp_path}/s.db")
    app = make_app(settings, run_worker=False)
    listeners = app[SLACK]._async_listeners
    assert len(listeners) >= 5  # /oncall, approve, discard, edit, modal, app_mention
    assert any(getattr(c, "__qualname__", "").startswith("socket_mode_lifecycle") for c in app.cleanup_ctx)
