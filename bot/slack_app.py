"""Slack listeners: `/oncall`, the status-draft buttons and modal, and @mentions.

The same handlers serve both transports (HTTP Events API and Socket Mode);
each acknowledges first, then works, so Slack's 3-second limit is never at
the mercy of Prometheus or the store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any, Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import mentions
from bot.approvals import Actor, Draft, Outcome
from bot.chat_deps import ChatDeps
from bot.chat_delivery import SlackDelivery
from bot.chat_rate import ChannelLimiter
from bot.commands import Reply, UsageError, available, parse
from bot.outbox import Outbox, chat_step, default_owner
from bot.ownership import Owner
from bot.render.approval_blocks import (
    APPROVE, DISCARD, EDIT, EDIT_VIEW, decided_message, draft_message, edit_modal, stakeholder_message,
)
from bot.render.blockkit import MAX_BLOCKS, report_messages, section

log = logging.getLogger(__name__)


def _actor(user: dict[str, Any]) -> Actor:
    names = {user.get("username", ""), user.get("name", "")} - {""}
    return Actor(user_id=user["id"], display=user.get("username") or user.get("name") or user["id"],
                 identities=names)


def _messages(text: str) -> list[dict[str, Any]]:
    blocks = section(text)
    return [{"text": text[:3000], "blocks": blocks[i:i + MAX_BLOCKS]} for i in range(0, len(blocks), MAX_BLOCKS)]


async def post_reply(client: AsyncWebClient, channel: str, user: str, reply: Reply,
                     thread_ts: str | None = None, heading: str = "") -> None:
    """A command's answer: ephemeral to the asker, or in the channel (a report in full)."""
    if reply.ephemeral:
        for msg in _messages(reply.text):
            await client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **msg)
        return
    if reply.report:
        msgs = (_messages(heading) if heading else []) + report_messages(reply.report)
    else:
        msgs = _messages(f"{heading}\n{reply.text}" if heading else reply.text)
    for msg in msgs:
        await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **msg)


# Seconds a stopping server gives answers still being worked on: 50 queued
# commands took ~11 s on a slow 2-core machine (bench/slash_ack.py), and the
# pod's default 30 s grace must still cover closing the rest.
DRAIN_TIMEOUT = 20.0


def register(app: AsyncApp, deps: ChatDeps) -> Callable[[], Awaitable[None]]:
    """Attach every listener to `app` (HTTP or Socket Mode: the same app).

    Each listener acks and hands the rest to `later`, so with
    process_before_response the HTTP answer leaves as soon as the ack is made.
    Returns `drain`: await it when stopping, before the Web API client closes,
    so results already acknowledged are still posted.
    """
    tasks: set[asyncio.Task] = set()
    # Writes to channels (stakeholder posts, draft edits) take the same per-channel
    # slots as the worker's pages, so approving during a storm stays within the rate.
    delivery = SlackDelivery(app.client, outbox=Outbox(deps.store, default_owner()),
                             limiter=ChannelLimiter(deps.store, deps.settings.chat_rate_per_channel))

    async def drain() -> None:
        if tasks:
            _, pending = await asyncio.wait(set(tasks), timeout=DRAIN_TIMEOUT)
            if pending:
                log.warning("stopping with %d acknowledged command(s) unanswered after %.0f s",
                            len(pending), DRAIN_TIMEOUT)

    def later(coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        task.add_done_callback(_log_failure)

    async def in_group(groups: list[str], actor: Actor) -> bool:
        for group in groups:
            try:
                resp = await app.client.usergroups_users_list(usergroup=group)
            except SlackApiError:
                log.warning("could not read members of user group %s", group)
                continue
            if actor.user_id in resp.get("users", []):
                return True
        return False

    @app.command("/oncall")
    async def oncall(ack, command, client: AsyncWebClient) -> None:
        text = (command.get("text") or "").strip()
        try:
            sub, args = parse(text)
        except UsageError as exc:
            await ack(response_type="ephemeral", text=str(exc))
            return
        if not sub.workflow:
            reply = await sub.run(deps, args)
            await ack(response_type="ephemeral", text=reply.text[:3000], blocks=section(reply.text)[:MAX_BLOCKS])
            return
        if reason := available(sub):
            await ack(response_type="ephemeral", text=reason)
            return
        await ack(response_type="ephemeral", text=f":hourglass_flowing_sand: Working on `/oncall {text}`…")
        later(finish_command(client, command, sub, args, text))

    async def finish_command(client: AsyncWebClient, command: dict, sub, args: dict, text: str) -> None:
        reply = await deps.work(sub.run(deps, args))
        channel, user = command["channel_id"], command["user_id"]
        try:
            await post_reply(client, channel, user, reply, heading=f"<@{user}> ran `/oncall {text}`")
        except SlackApiError as exc:  # e.g. not in that channel: tell the asker at least
            log.warning("posting /oncall %s result failed: %s", sub.name, exc.response.get("error"))
            await client.chat_postEphemeral(channel=channel, user=user, text=reply.text[:3000])

    async def after_decision(client: AsyncWebClient, body: dict, actor: Actor, outcome: Outcome) -> None:
        draft = outcome.draft
        if outcome.kind != "discarded" or not draft:  # the clicker hears first: the edit may queue
            channel = (body.get("channel") or {}).get("id") or (draft.channel if draft else "")
            thread = (body.get("message") or {}).get("thread_ts")
            await client.chat_postEphemeral(channel=channel, user=actor.user_id, thread_ts=thread,
                                            text=outcome.message)
        if outcome.kind in ("posted", "discarded") and draft and draft.message_ts:
            await delivery.update(draft.channel, draft.message_ts, **decided_message(draft))

    async def approve_draft(client: AsyncWebClient, body: dict, draft_id: int) -> None:
        actor = _actor(body["user"])

        async def post(owner: Owner, draft: Draft) -> tuple[str, str]:
            msg = stakeholder_message(dataclasses.replace(draft, decided_by=actor.user_id))
            with chat_step(f"approval:{draft.id}"):  # an uncertain earlier try is looked up first
                return await delivery.post(owner.stakeholder_channel, **msg)

        await after_decision(client, body, actor, await deps.flow.approve(draft_id, actor, post, in_group))

    async def discard_draft(client: AsyncWebClient, body: dict, draft_id: int) -> None:
        actor = _actor(body["user"])
        await after_decision(client, body, actor, await deps.flow.discard(draft_id, actor, in_group))

    async def open_editor(client: AsyncWebClient, body: dict, draft_id: int) -> None:
        draft = await deps.store.run(deps.approvals.get, draft_id)
        if draft is None or draft.status != "pending":
            await client.chat_postEphemeral(channel=body["channel"]["id"], user=body["user"]["id"],
                                            text="This status draft can no longer be edited.")
            return
        await client.views_open(trigger_id=body["trigger_id"], view=edit_modal(draft))

    for action_id, work in ((APPROVE, approve_draft), (DISCARD, discard_draft), (EDIT, open_editor)):
        def listener(work=work):
            async def on_click(ack, body, action, client: AsyncWebClient) -> None:
                await ack()
                later(work(client, body, int(action["value"])))
            return on_click
        app.action(action_id)(listener())

    @app.view(EDIT_VIEW)
    async def edit_submitted(ack, body, view, client: AsyncWebClient) -> None:
        text = view["state"]["values"]["draft"]["text"].get("value") or ""
        outcome = await deps.flow.edit(int(view["private_metadata"]), text, _actor(body["user"]))
        if outcome.kind != "edited" or outcome.draft is None:
            await ack(response_action="errors", errors={"draft": outcome.message[:150]})
            return
        await ack()
        draft = outcome.draft
        if draft.message_ts:
            owner = deps.ownership.resolve(draft.labels)
            later(delivery.update(draft.channel, draft.message_ts, **draft_message(draft, owner)))

    async def answer_mention(client: AsyncWebClient, event: dict) -> None:
        channel, thread = event["channel"], event.get("thread_ts")
        incident = await deps.store.run(deps.incidents.by_thread, channel, thread) if thread else None
        reply = await deps.work(mentions.answer(deps, event.get("text", ""), incident))
        reply = dataclasses.replace(reply, ephemeral=False)
        await post_reply(client, channel, event.get("user", ""), reply, thread_ts=thread or event.get("ts"),
                         heading=reply.text if reply.report else "")

    @app.event("app_mention")
    async def mentioned(event, client: AsyncWebClient) -> None:
        later(answer_mention(client, event))

    return drain


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("chat work failed", exc_info=task.exception())
