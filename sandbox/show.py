"""Print a Slack thread as the stand-in received it, for the demo."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.text import Text


def _block_lines(block: dict[str, Any]) -> list[Text]:
    kind = block.get("type")
    if kind == "header":
        return [Text(block["text"]["text"], style="bold underline")]
    if kind == "section":
        return [Text(block["text"]["text"].replace("*", ""))]
    if kind == "context":
        return [Text(e.get("text", ""), style="dim") for e in block.get("elements", [])]
    if kind == "divider":
        return [Text("─" * 40, style="dim")]
    if kind == "actions":  # buttons: labels only, clickable where the terminal supports links
        line = Text()
        for e in block.get("elements", []):
            line.append(f"[{e['text']['text']}]", style=f"blue link {e.get('url', '')}")
            line.append(" ")
        return [line]
    return []


def message_panel(msg: dict[str, Any], title: str) -> Panel:
    blocks = list(msg.get("blocks") or [])
    for att in msg.get("attachments") or []:
        blocks.extend(att.get("blocks") or [])
    lines: list[Text] = [line for b in blocks for line in _block_lines(b)] or [Text(msg.get("text", ""))]
    body = Text("\n").join(lines)
    return Panel(body, title=title, border_style="red" if "FIRING" in msg.get("text", "") else "cyan")


def print_thread(messages: list[dict[str, Any]], console: Console | None = None) -> None:
    console = console or Console()
    for i, msg in enumerate(messages):
        where = f"#{msg.get('channel')} parent ts={msg['ts']}" if i == 0 else f"reply in thread {msg.get('thread_ts')}"
        console.print(message_panel(msg, where))
