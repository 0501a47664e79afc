"""The Slack thread of a page, as the chat issue wants it: in the owning team's
channel, with deep links and a status draft that waits for approval.

Wraps the plain SlackSink (which keeps parent, report and notes in one thread)
instead of changing it, so delivery concerns (retries, rate limits) stay there.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.approvals import Approvals
from bot.chat import ChatSink
from bot.deeplinks import incident_links
from bot.incidents import Incidents
from bot.ownership import OwnershipMap
from bot.render.approval_blocks import draft_message, links_message
from bot.settings import Settings
from bot.store import GroupView, Store
from reasoning.report import Report

log = logging.getLogger(__name__)


class IncidentSink:
    def __init__(self, inner: ChatSink, store: Store, settings: Settings, client: AsyncWebClient,
                 ownership: OwnershipMap | None = None) -> None:
        self.inner, self.store, self.settings, self.client = inner, store, settings, client
        self.ownership = ownership or OwnershipMap.from_settings(settings)
        self.incidents, self.approvals = Incidents(store), Approvals(store)

    async def _labels(self, group: GroupView) -> dict[str, str]:
        """Labels all the group's alerts share (its groupLabels alone may lack the namespace)."""
        return await self.store.run(self.incidents.labels, group.group_key)

    async def route(self, group: GroupView) -> str:
        """The channel the ownership map names for the page's labels.

        The worker asks before a group's first post, so storm counting and the
        roll-up happen in the owners' channel, where the thread would have gone.
        """
        owner = self.ownership.resolve(await self._labels(group))
        return owner.channel or self.settings.slack_channel

    async def post_parent(self, group: GroupView) -> tuple[str, str]:
        """A new thread goes to the channel the ownership map names for the page's labels."""
        if not group.channel:
            group.channel = await self.route(group)
        return await self.inner.post_parent(group)

    def __getattr__(self, name: str) -> Any:
        """Anything else the worker asks of a sink (roll-ups...) is the inner sink's job."""
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    async def _post(self, group: GroupView, part: str, msg: dict[str, Any]) -> tuple[str, str]:
        """Through the inner sink's delivery (once per chat step, rate-limited) when it has one."""
        delivery = getattr(self.inner, "delivery", None)
        if delivery is not None:
            return await delivery.post(group.channel, thread_ts=group.thread_ts, part=part, **msg)
        resp = await self.client.chat_postMessage(channel=group.channel, thread_ts=group.thread_ts, **msg)
        return resp["channel"], resp["ts"]

    async def update_parent(self, group: GroupView) -> None:
        await self.inner.update_parent(group)

    async def post_note(self, group: GroupView, text: str) -> None:
        await self.inner.post_note(group, text)

    async def post_report(self, group: GroupView, report: Report) -> None:
        """The report (its draft shown apart, with buttons), then links, then the draft."""
        await self.inner.post_report(group, report.model_copy(update={"status_draft": ""}))
        labels = await self._labels(group)
        links = links_message(incident_links(self.settings, labels, report,
                                             alertmanager_ui=group.external_url))
        if links:
            await self._post(group, "#links", links)
        if report.status_draft:
            await self.post_draft(group, report, labels)

    async def post_draft(self, group: GroupView, report: Report, labels: dict[str, str]) -> None:
        key = f"{group.group_key}|{report.generated_at.isoformat()}"[-200:]
        draft = await self.store.run(self.approvals.create, key, group.group_key, report.title, labels,
                                     "slack", group.channel or "", group.thread_ts, report.status_draft)
        if draft.message_ts:  # a retry after the draft was shown
            return
        owner = self.ownership.resolve(labels)
        channel, ts = await self._post(group, "#draft", draft_message(draft, owner))
        await self.store.run(self.approvals.set_message, draft.id, channel, ts)
