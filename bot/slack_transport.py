"""Socket Mode: the same Bolt app over a websocket Slack opens to us, for
clusters that cannot expose /slack/events. Chosen by ONCALL_SLACK_APP_TOKEN."""

from __future__ import annotations

import logging
from typing import AsyncIterator

import aiohttp
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


def web_api_session_lifecycle(app: AsyncApp):
    """aiohttp cleanup context: one keep-alive session for the Web API client while serving.

    Without it slack_sdk opens a session and a TCP (and TLS) connection per call,
    and a burst of command results spends the acknowledging loop's time
    connecting (bench/slash_ack.py). The session belongs to the server's loop:
    the client must only be used there (the chat background loop never posts).
    """

    async def run(_: web.Application) -> AsyncIterator[None]:
        client = app.client
        if client.session is not None and not client.session.closed:
            yield  # the caller brought its own
            return
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=client.timeout))
        client.session = session
        yield
        client.session = None
        await session.close()

    return run
