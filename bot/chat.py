"""Where incident threads go: Slack (through Bolt's Web API client) or the terminal.

Slack writes go through bot.chat_delivery (once per chat step, per-channel
slots, 429 handling); the worker names the steps.
"""

from __future__ import annotations

import itertools
from typing import Protocol

from rich.console import Console
from slack_bolt.async_app import AsyncApp

from bot.chat_delivery import SlackDelivery
from bot.render import blockkit, terminal
from bot.rollup import group_line, rollup_messages
from bot.store import GroupView
from reasoning.report import Report


class ChatSink(Protocol):
    async def post_parent(self, group: GroupView) -> tuple[str, str]:
        """Start a thread for a group; returns (channel, thread ts)."""

    async def update_parent(self, group: GroupView) -> None: ...

    async def post_report(self, group: GroupView, report: Report) -> None: ...

    async def post_note(self, group: GroupView, text: str) -> None: ...

    async def post_rollup(self, channel: str, groups: list[GroupView], window: float,
                          limit: int) -> None:
        """One message (or a few, within limits) listing groups summarised in a storm."""


class SlackSink:
    """Threads in Slack: parent message kept current, everything else as replies."""

    def __init__(self, app: AsyncApp, default_channel: str,
                 delivery: SlackDelivery | None = None) -> None:
        self.client = app.client
        self.default_channel = default_channel
        self.delivery = delivery or SlackDelivery(app.client)

    async def post_parent(self, group: GroupView) -> tuple[str, str]:
        msg = blockkit.parent_message(group)
        return await self.delivery.post(group.channel or self.default_channel, **msg)

    async def update_parent(self, group: GroupView) -> None:
        await self.delivery.update(group.channel, group.thread_ts, **blockkit.parent_message(group))

    async def post_report(self, group: GroupView, report: Report) -> None:
        for i, msg in enumerate(blockkit.report_messages(report)):
            await self.delivery.post(group.channel, thread_ts=group.thread_ts, part=f"#{i}", **msg)

    async def post_note(self, group: GroupView, text: str) -> None:
        await self.delivery.post(group.channel, thread_ts=group.thread_ts, text=text)

    async def post_rollup(self, channel: str, groups: list[GroupView], window: float,
                          limit: int) -> None:
        for i, msg in enumerate(rollup_messages(channel, groups, window, limit)):
            await self.delivery.post(channel, part=f"#{i}", **msg)


class TerminalSink:
    """No Slack token: print the same thread to the terminal so nothing is lost."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self._ts = itertools.count(1)

    async def post_parent(self, group: GroupView) -> tuple[str, str]:
        self.console.print(terminal.render_parent(group))
        return "terminal", f"{next(self._ts)}.000000"

    async def update_parent(self, group: GroupView) -> None:
        self.console.print(terminal.render_parent(group))

    async def post_report(self, group: GroupView, report: Report) -> None:
        self.console.print(terminal.render_report(report))

    async def post_note(self, group: GroupView, text: str) -> None:
        self.console.print(f"  ↳ {text}")

    async def post_rollup(self, channel: str, groups: list[GroupView], window: float,
                          limit: int) -> None:
        self.console.print(f"[bold red]Alert storm[/bold red]: {len(groups)} more new groups")
        for g in groups:
            self.console.print("  " + group_line(g), markup=False)
