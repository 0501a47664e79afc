"""Rich terminal rendering, for the CLI and for running without Slack."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from bot.render.common import SEVERITY_TAG, evidence_label, parent_text
from bot.store import GroupView
from reasoning.report import DividerBlock, FindingBlock, HeaderBlock, LinksBlock, Report, TextBlock

_STYLE = {"page": "bold red", "warning": "yellow", "info": "cyan"}


def _mrkdwn(text: str) -> Text:
    """Our tiny markup (`*bold*`) to Rich text."""
    out = Text()
    for i, part in enumerate(text.split("*")):
        out.append(part, style="bold" if i % 2 else "")
    return out


def render_parent(group: GroupView) -> Panel:
    style = "red" if group.status == "firing" else "green"
    body = Text(parent_text(group), style=f"bold {style}")
    if group.summary:
        body.append("\n" + group.summary, style="")
    return Panel(body, title="incident", border_style=style)


def render_report(report: Report) -> Panel:
    parts: list = []
    for block in report.blocks():
        if isinstance(block, HeaderBlock):
            parts.append(Text(block.text, style="bold underline"))
        elif isinstance(block, TextBlock):
            parts.append(_mrkdwn(block.text))
        elif isinstance(block, DividerBlock):
            parts.append(Text("─" * 40, style="dim"))
        elif isinstance(block, LinksBlock):
            parts.extend(Text(f"{link.label}: {link.url}", style="blue") for link in block.links)
        elif isinstance(block, FindingBlock):
            f = block.finding
            tag = SEVERITY_TAG.get(f.severity.value, f.severity.value)
            parts.append(Text(f"[{tag}] {f.title}", style=_STYLE.get(f.severity.value, "")))
            parts.extend(Text(f"  • {d}") for d in f.details)
            for ev in f.evidence:
                parts.append(Text(f"    PromQL: {ev.query}" if ev.source == "prometheus"
                                  else f"    {ev.source}: {ev.query}", style="dim"))
                if ev.link:
                    parts.append(Text(f"    {evidence_label(ev)}: {ev.link}", style="blue"))
    return Panel(Group(*parts), title="report (thread reply)", border_style="cyan")


def print_report(report: Report, console: Console | None = None) -> None:
    (console or Console()).print(render_report(report))
