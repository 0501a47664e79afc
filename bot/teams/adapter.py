"""CloudAdapter from settings, and the aiohttp handler for `POST /api/messages`.

Every request's Bot Framework JWT is checked by the adapter; without an app id
Teams is off and the route answers 503 rather than accepting anonymous calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from bot.settings import Settings

if TYPE_CHECKING:  # botbuilder loads only where Teams is configured (~45 MB otherwise idle)
    from botbuilder.core import Bot
    from botbuilder.integration.aiohttp import CloudAdapter


@dataclass
class BotConfig:
    """The attribute names botbuilder's configuration classes read."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str | None


def bot_config(settings: Settings) -> BotConfig | None:
    if not settings.teams_app_id:
        return None
    password = settings.teams_app_password.get_secret_value() if settings.teams_app_password else ""
    kind = "SingleTenant" if settings.teams_tenant_id else "MultiTenant"
    return BotConfig(settings.teams_app_id, password, kind, settings.teams_tenant_id)


def make_adapter(settings: Settings) -> CloudAdapter | None:
    config = bot_config(settings)
    if config is None:
        return None
    from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

    return CloudAdapter(ConfigurationBotFrameworkAuthentication(config))


def messages_handler(adapter: CloudAdapter, bot: Bot):
    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot) or web.Response(status=201)
    return messages
