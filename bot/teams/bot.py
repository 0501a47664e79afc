"""The Teams bot: `@oncall health|triage|slo|canary|cost|status|help`, thread questions,
and the status-draft card actions, with the same rules as Slack.

Slow commands are answered at once ("working") and finished in the
background with a proactive reply, so Teams never waits on Prometheus.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re

from botbuilder.core import ActivityHandler, BotAdapter, CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ConversationReference

from bot import mentions
from bot.approvals import Actor, Draft, Outcome
from bot.chat_deps import ChatDeps
from bot.commands import Reply, Subcommand, UsageError, available, parse
from bot.ownership import Owner
from bot.render.adaptive_card import decided_card, draft_card, markdown, report_cards, stakeholder_card
from bot.teams import proactive

log = logging.getLogger(__name__)
_PREFIX = re.compile(r"^\s*(@?oncall\b[:,]?\s*)", re.I)


def card_activity(card: dict, text: str | None = None) -> Activity:
    return MessageFactory.attachment(CardFactory.adaptive_card(card), text=text)


def reply_activities(reply: Reply) -> list[Activity | str]:
    body = markdown(reply.text.replace("`/oncall ", "`@oncall "))
    if reply.report is None:
        return [MessageFactory.text(body)]
    return [MessageFactory.text(body)] + [card_activity(c) for c in report_cards(reply.report)]


class OncallTeamsBot(ActivityHandler):
    def __init__(self, deps: ChatDeps, adapter: BotAdapter | None = None, app_id: str = "") -> None:
        super().__init__()
        self.deps, self.adapter, self.app_id = deps, adapter, app_id
        self.pending: set[asyncio.Task] = set()

    async def drain(self) -> None:
        """Wait for background command results (tests, shutdown)."""
        while self.pending:
            await asyncio.gather(*list(self.pending), return_exceptions=True)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if isinstance(activity.value, dict) and activity.value.get("oncall_action"):
            await self._card_action(turn_context, activity.value)
            return
        text = _PREFIX.sub("", TurnContext.remove_recipient_mention(activity) or activity.text or "").strip()
        channel, root = proactive.split_thread(activity.conversation.id if activity.conversation else "")
        if root and mentions.intent(text):
            incident = await self.deps.store.run(self.deps.incidents.by_thread, channel, root)
            if incident is not None:
                await self._send(turn_context, await self.deps.work(mentions.answer(self.deps, text, incident)))
                return
        await self._command(turn_context, text)

    async def _send(self, ctx: TurnContext, reply: Reply) -> None:
        for activity in reply_activities(reply):
            await ctx.send_activity(activity)

    async def _command(self, ctx: TurnContext, text: str) -> None:
        try:
            sub, args = parse(text)
        except UsageError as exc:
            await self._send(ctx, Reply(str(exc)))
            return
        if not sub.workflow:
            await self._send(ctx, await sub.run(self.deps, args))
            return
        if reason := available(sub):
            await self._send(ctx, Reply(reason))
            return
        await ctx.send_activity(MessageFactory.text(f"Working on `@oncall {text}`…"))
        ref = TurnContext.get_conversation_reference(ctx.activity)
        task = asyncio.create_task(self._finish(ref, sub, args))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _finish(self, ref: ConversationReference, sub: Subcommand, args: dict) -> None:
        reply = await self.deps.work(sub.run(self.deps, args))

        async def callback(ctx: TurnContext) -> None:
            await self._send(ctx, reply)

        await self.adapter.continue_conversation(ref, callback, self.app_id)

    # -- status drafts ------------------------------------------------------------------

    @staticmethod
    def _actor(ctx: TurnContext) -> Actor:
        who = ctx.activity.from_property
        ids = {who.id or "", who.name or "", getattr(who, "aad_object_id", None) or ""} - {""}
        return Actor(user_id=getattr(who, "aad_object_id", None) or who.id, display=who.name or who.id,
                     identities=ids)

    async def _card_action(self, ctx: TurnContext, value: dict) -> None:
        action, actor = value.get("oncall_action"), self._actor(ctx)
        try:
            draft_id = int(value.get("draft"))
        except (TypeError, ValueError):
            await ctx.send_activity("That card action names no status draft.")
            return
        flow = self.deps.flow
        if action == "approve":
            outcome = await flow.approve(draft_id, actor, self._poster(ctx, actor))
        elif action == "discard":
            outcome = await flow.discard(draft_id, actor)
        elif action == "edit":
            outcome = await flow.edit(draft_id, str(value.get("text") or ""), actor)
        else:
            await ctx.send_activity(f"Unknown card action {action!r}.")
            return
        await self._after(ctx, outcome)

    def _poster(self, ctx: TurnContext, actor: Actor):
        async def post(owner: Owner, draft: Draft) -> tuple[str, str]:
            conversation = owner.teams_stakeholder_conversation
            ref = proactive.reference(conversation, ctx.activity.service_url or self.deps.settings.teams_service_url,
                                      self.app_id, ctx.activity.channel_id or "msteams")
            card = stakeholder_card(dataclasses.replace(draft, decided_by=actor.display))
            return conversation, await proactive.send(self.adapter, ref, self.app_id, card_activity(card))
        return post

    async def _after(self, ctx: TurnContext, outcome: Outcome) -> None:
        draft = outcome.draft
        if draft and draft.message_ts and outcome.kind in ("posted", "discarded", "edited"):
            if outcome.kind == "edited":
                owner = self.deps.ownership.resolve(draft.labels)
                card = draft_card(draft, owner.teams_stakeholder_conversation, owner.approvers)
            else:
                card = decided_card(draft)
            activity = card_activity(card)
            activity.id, activity.type = draft.message_ts, ActivityTypes.message
            await ctx.update_activity(activity)
        await ctx.send_activity(MessageFactory.text(markdown(outcome.message)))
