"""Sending to a Teams conversation the bot was not just spoken to in (pages,
stakeholder updates, late command results): continue_conversation."""

from __future__ import annotations

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, ConversationReference


def reference(conversation_id: str, service_url: str, app_id: str, channel_id: str = "msteams"
              ) -> ConversationReference:
    return ConversationReference(channel_id=channel_id, service_url=service_url,
                                 conversation=ConversationAccount(id=conversation_id, is_group=True),
                                 bot=ChannelAccount(id=f"28:{app_id}"))


def thread_id(conversation_id: str, message_id: str) -> str:
    """Teams addresses replies in a channel thread as `<channel>;messageid=<root>`."""
    return f"{conversation_id.split(';messageid=')[0]};messageid={message_id}"


def split_thread(conversation_id: str) -> tuple[str, str | None]:
    channel, _, root = conversation_id.partition(";messageid=")
    return channel, root or None


async def send(adapter: BotAdapter, ref: ConversationReference, app_id: str, activity: Activity | str) -> str:
    """Send one activity into `ref`'s conversation; its id."""
    sent: dict[str, str] = {}

    async def callback(ctx: TurnContext) -> None:
        resp = await ctx.send_activity(activity)
        sent["id"] = resp.id if resp and resp.id else ""

    await adapter.continue_conversation(ref, callback, app_id)
    return sent.get("id", "")


async def update(adapter: BotAdapter, ref: ConversationReference, app_id: str, activity: Activity) -> None:
    async def callback(ctx: TurnContext) -> None:
        await ctx.update_activity(activity)

    await adapter.continue_conversation(ref, callback, app_id)
