"""Chat wiring of the HTTP app: Slack listeners (HTTP or Socket Mode) and Teams'
`POST /api/messages`. Kept out of bot/server.py so chat grows without
touching intake."""

from __future__ import annotations

import gc
import logging

from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bot.chat_deps import ChatDeps
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)
CHAT = web.AppKey("chat", ChatDeps)
TEAMS_BOT = web.AppKey("teams_bot", object)


def attach_chat(app: web.Application, settings: Settings, store: Store, slack: AsyncApp | None) -> None:
    deps = ChatDeps.build(settings, store)
    app[CHAT] = deps
    # Commands arrive signed over HTTP, over Socket Mode, or from Teams; with none
    # of those the workflows (Kubernetes client, detectors: ~55 MB) stay unloaded.
    commands = slack is not None and bool(settings.slack_signing_secret or settings.slack_app_token)

    async def close_deps(_: web.Application):
        if commands or TEAMS_BOT in app:
            _warm_workflows()
            gc.freeze()  # like serve's own imports: out of the collector's sight (bot/server.py)
        yield
        await deps.aclose()

    app.cleanup_ctx.append(close_deps)
    if slack is not None:
        from bot.slack_app import register
        from bot.slack_transport import socket_mode_lifecycle, web_api_session_lifecycle

        drain = register(slack, deps)
        app.cleanup_ctx.append(web_api_session_lifecycle(slack))

        async def drain_answers(_: web.Application):
            yield
            await drain()  # before the session above closes under them

        app.cleanup_ctx.append(drain_answers)
        if settings.slack_app_token is not None:
            app.cleanup_ctx.append(socket_mode_lifecycle(slack, settings))
    _attach_teams(app, settings, deps)


def _warm_workflows() -> None:
    """Import the workflow modules before serving: a first import inside an ack can take seconds."""
    from bot.workflow_calls import WORKFLOWS, find_workflow

    for name in WORKFLOWS:
        try:
            find_workflow(name)
        except Exception:  # not there yet, or broken: the command says so when asked
            pass


def _attach_teams(app: web.Application, settings: Settings, deps: ChatDeps) -> None:
    from bot.teams.adapter import make_adapter, messages_handler

    adapter = make_adapter(settings)
    if adapter is None:
        async def off(_: web.Request) -> web.Response:
            return web.json_response({"error": "Teams is not configured on this server"}, status=503)
        app.router.add_post("/api/messages", off)
        return
    from bot.teams.bot import OncallTeamsBot

    bot = OncallTeamsBot(deps, adapter, settings.teams_app_id or "")
    app[TEAMS_BOT] = bot
    app.router.add_post("/api/messages", messages_handler(adapter, bot))

    async def drain(_: web.Application):
        yield
        await bot.drain()

    app.cleanup_ctx.append(drain)


def teams_sink(settings: Settings, store: Store):
    """The page sink for Teams-only installs (no Slack token), or None."""
    from bot.teams.adapter import make_adapter

    adapter = make_adapter(settings)
    if adapter is None:
        return None
    from bot.ownership import OwnershipMap
    from bot.teams.sink import TeamsSink

    return TeamsSink(adapter, settings, store, OwnershipMap.from_settings(settings))
