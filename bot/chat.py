"""Where incident threads go: Slack (through Bolt's Web API client) or the terminal."""

from __future__ import annotations

import itertools
from typing import Protocol

from rich.console import Console
from slack_bolt.async_app import AsyncApp

from bot.render import blockkit, terminal
from bot.store import GroupView
from reasoning.report import Report


class ChatSink(Protocol):
    async def post_parent(self, group: GroupView) -> tuple[str, str]:
        """Start a thread for a group; returns (channel, thread ts)."""

    async def update_parent(self, group: GroupView) -> None: ...

    async def post_report(self, group: GroupView, report: Report) -> None: ...

    async def post_note(self, group: GroupView, text: str) -> None: ...


class SlackSink:
    """Threads in Slack: parent message kept current, everything else as replies."""

    def __init__(self, app: AsyncApp, default_channel: str) -> None:
        self.client = app.client
        self.default_channel = default_channel

    async def post_parent(self, group: GroupView) -> tuple[str, str]:
        msg = blockkit.parent_message(group)
        resp = await self.client.chat_postMessage(channel=group.channel or self.default_channel, **msg)
        return resp["channel"], resp["ts"]

    async def update_parent(self, group: GroupView) -> None:
        await self.client.chat_update(channel=group.channel, ts=group.thread_ts,
                                      **blockkit.parent_message(group))

    async def post_report(self, group: GroupView, report: Report) -> None:
        for msg in blockkit.report_messages(report):
            await self.client.chat_postMessage(channel=group.channel, thread_ts=group.thread_ts, **msg)

    async def post_note(self, group: GroupView, text: str) -> None:
        await self.client.chat_postMessage(channel=group.channel, thread_ts=group.thread_ts, text=text)


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
