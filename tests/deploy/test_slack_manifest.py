"""The Slack app manifest asks for exactly the bot scopes the code needs.

Every Slack Web API method the bot calls (found in the source: client
attributes, and method names handed to the delivery layer as strings) must be
in METHOD_SCOPES below, so a new call cannot ship without a scope decision;
the manifest's bot scopes must equal what those methods, the slash command
and the subscribed events need: nothing missing, nothing extra.
"""

from __future__ import annotations

import ast
from pathlib import Path

import yaml
from slack_sdk.web.async_client import AsyncWebClient

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "slack-app-manifest.yaml"
CODE = ("bot", "adapters", "reasoning", "detectors")

# Bot-token scopes per method, from each method's page on docs.slack.dev.
# chat.postMessage also gets chat:write.public: threads go to the channels the
# ownership map names, which the bot has not necessarily been invited to.
METHOD_SCOPES: dict[str, set[str]] = {
    "chat_postMessage": {"chat:write", "chat:write.public"},
    "chat_update": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "views_open": set(),  # no scope: the trigger_id is the permission
    "usergroups_users_list": {"usergroups:read"},
    # The outbox looks for an uncertain earlier post in public and private
    # channels (bot.chat_delivery.SlackDelivery.find); not in DMs.
    "conversations_history": {"channels:history", "groups:history"},
    "conversations_replies": {"channels:history", "groups:history"},
}
EVENT_SCOPES = {"app_mention": "app_mentions:read"}


def called_methods() -> set[str]:
    """Slack client methods named anywhere in the product code."""
    api = {name for name in dir(AsyncWebClient) if "_" in name and not name.startswith("_")
           and callable(getattr(AsyncWebClient, name))}
    api -= {"api_call"}
    found: set[str] = set()
    for package in CODE:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Attribute) and node.attr in api:
                    found.add(node.attr)
                elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in api:
                    found.add(node.value)
    return found


def test_the_scan_finds_the_calls_we_know_of():
    assert {"chat_postMessage", "chat_update", "conversations_history",
            "usergroups_users_list", "views_open"} <= called_methods()


def test_every_called_method_has_a_scope_decision():
    assert called_methods() - METHOD_SCOPES.keys() == set(), "add the method's scopes to METHOD_SCOPES"


def test_manifest_bot_scopes_are_exactly_what_the_code_needs():
    manifest = yaml.safe_load(MANIFEST.read_text())
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    needed = set().union(*(METHOD_SCOPES[m] for m in called_methods()))
    needed |= {EVENT_SCOPES[e] for e in events}
    if manifest["features"].get("slash_commands"):
        needed.add("commands")
    assert granted == needed, f"missing {sorted(needed - granted)}, extra {sorted(granted - needed)}"


def test_readme_lists_the_manifest_scopes():
    manifest = yaml.safe_load(MANIFEST.read_text())
    readme = (ROOT / "README.md").read_text()
    missing = [s for s in manifest["oauth_config"]["scopes"]["bot"] if f"`{s}`" not in readme]
    assert missing == []
