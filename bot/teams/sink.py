"""Pages into Teams, proactively: a parent card in the owning team's channel
conversation, the report and the status draft as replies in its thread."""

from __future__ import annotations

from botbuilder.core import BotAdapter, MessageFactory
from botbuilder.schema import ActivityTypes

from bot.approvals import Approvals
from bot.deeplinks import incident_links
from bot.incidents import Incidents
from bot.ownership import OwnershipMap
from bot.render.adaptive_card import draft_card, parent_card, report_cards
from bot.rollup import group_line
from bot.settings import Settings
from bot.store import GroupView, Store
from bot.teams import proactive
from bot.teams.bot import card_activity
from reasoning.report import Report


class TeamsSink:
    def __init__(self, adapter: BotAdapter, settings: Settings, store: Store,
                 ownership: OwnershipMap) -> None:
        self.adapter, self.settings, self.store, self.ownership = adapter, settings, store, ownership
        self.app_id = settings.teams_app_id or ""
        self.incidents, self.approvals = Incidents(store), Approvals(store)

    def _ref(self, conversation: str):
        return proactive.reference(conversation, self.settings.teams_service_url, self.app_id)

    async def _send(self, conversation: str, activity) -> str:
        return await proactive.send(self.adapter, self._ref(conversation), self.app_id, activity)

    async def _labels(self, group: GroupView) -> dict[str, str]:
        """Labels all the group's alerts share (its groupLabels alone may lack the namespace)."""
        return await self.store.run(self.incidents.labels, group.group_key)

    async def route(self, group: GroupView) -> str:
        """The owners' conversation: storms are counted and rolled up there (see Storm.admit)."""
        return self.ownership.resolve(await self._labels(group)).teams_conversation

    async def post_parent(self, group: GroupView) -> tuple[str, str]:
        conversation = await self.route(group)
        if not conversation:
            raise RuntimeError("no Teams conversation for this page: set ONCALL_TEAMS_CONVERSATION_ID")
        return conversation, await self._send(conversation, card_activity(parent_card(group)))

    async def update_parent(self, group: GroupView) -> None:
        activity = card_activity(parent_card(group))
        activity.id, activity.type = group.thread_ts, ActivityTypes.message
        await proactive.update(self.adapter, self._ref(group.channel), self.app_id, activity)

    async def post_report(self, group: GroupView, report: Report) -> None:
        thread = proactive.thread_id(group.channel, group.thread_ts)
        labels = await self._labels(group)
        links = incident_links(self.settings, labels, report, alertmanager_ui=group.external_url)
        for card in report_cards(report.model_copy(update={"status_draft": ""}), links):
            await self._send(thread, card_activity(card))
        if not report.status_draft:
            return
        key = f"teams|{group.group_key}|{report.generated_at.isoformat()}"[-200:]
        draft = await self.store.run(self.approvals.create, key, group.group_key, report.title, labels,
                                     "teams", thread, group.thread_ts, report.status_draft)
        if draft.message_ts:
            return
        owner = self.ownership.resolve(labels)
        card = draft_card(draft, owner.teams_stakeholder_conversation, owner.approvers)
        await self.store.run(self.approvals.set_message, draft.id, thread,
                             await self._send(thread, card_activity(card)))

    async def post_note(self, group: GroupView, text: str) -> None:
        await self._send(proactive.thread_id(group.channel, group.thread_ts), MessageFactory.text(text))

    async def post_rollup(self, channel: str, groups: list[GroupView], window: float, limit: int) -> None:
        conversation = channel or self.ownership.default.teams_conversation
        lines = [f"**Alert storm**: {len(groups)} more new groups in {window:.0f} s"]
        lines += [f"- {group_line(g)}" for g in groups[:50]]
        await self._send(conversation, MessageFactory.text("\n".join(lines)))
