"""Socket Mode: the same Bolt app over a websocket Slack opens to us, for
clusters that cannot expose /slack/events. Chosen by ONCALL_SLACK_APP_TOKEN."""

from __future__ import annotations

import logging
from typing import AsyncIterator

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from bot.settings import Settings

log = logging.getLogger(__name__)


def socket_mode_handler(app: AsyncApp, settings: Settings) -> AsyncSocketModeHandler | None:
    """A handler for `app` when an app-level (xapp-) token is configured, else None (HTTP)."""
    if settings.slack_app_token is None:
        return None
    return AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())


def socket_mode_lifecycle(app: AsyncApp, settings: Settings):
    """aiohttp cleanup context: connect when the server starts (the handler needs the running
    loop, so it is built here), disconnect when it stops."""

    async def run(_: web.Application) -> AsyncIterator[None]:
        handler = socket_mode_handler(app, settings)
        if handler is None:
            yield
            return
        await handler.connect_async()
        log.info("Slack Socket Mode connected")
        yield
        await handler.close_async()

    return run
