"""Slack Block Kit rendering within Slack's limits.

Slack rejects a message over 50 blocks or a section text over 3,000 characters;
long reports are split across messages and long texts across sections, never
cut off silently.
"""

from __future__ import annotations

from typing import Any

from bot.render.common import (
    SEVERITY_TAG, STATUS_COLOR, STATUS_ICON, evidence_label, minutes_between, parent_text,
)
from bot.store import GroupView
from reasoning.report import (
    DividerBlock, FindingBlock, HeaderBlock, LinksBlock, Report, TextBlock,
)

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_BUTTONS = 25
MAX_URL = 3000


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split on line breaks where possible so every piece fits in one section."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            head, line = line[:limit], line[limit:]
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current)
    return pieces


def section(text: str) -> list[dict[str, Any]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": t or " "}} for t in split_text(text)]


def buttons(links: list[tuple[str, str]]) -> list[dict[str, Any]]:
    elems = [{"type": "button", "text": {"type": "plain_text", "text": label[:75]}, "url": url}
             for label, url in links if len(url) <= MAX_URL]
    return [{"type": "actions", "elements": elems[i:i + MAX_BUTTONS]}
            for i in range(0, len(elems), MAX_BUTTONS)]


def parent_message(group: GroupView) -> dict[str, Any]:
    """Top-of-thread message: status, severity, counts; coloured by status."""
    icon = STATUS_ICON.get(group.status, ":white_circle:")
    lines = [f"{icon} *{parent_text(group)}*"]
    if group.summary:
        lines.append(group.summary)
    lines.append(f"Started {minutes_between(group.first_seen, None)} min ago · report in thread")
    blocks = section("\n".join(lines))
    links = [("Open in Alertmanager", group.external_url)] if group.external_url.startswith("http") else []
    sources = [u for u in dict.fromkeys(group.generator_urls) if u.startswith("http")][:3]
    links += [(f"Alert rule query{f' {i + 1}' if len(sources) > 1 else ''}", u) for i, u in enumerate(sources)]
    blocks += buttons(links)
    return {
        "text": parent_text(group),
        "attachments": [{"color": STATUS_COLOR.get(group.status, "#888888"), "blocks": blocks}],
    }


def report_messages(report: Report) -> list[dict[str, Any]]:
    """The report as one or more thread replies, each within Slack's limits."""
    blocks: list[dict[str, Any]] = []
    for block in report.blocks():
        if isinstance(block, HeaderBlock):
            blocks.append({"type": "header", "text": {"type": "plain_text", "text": block.text[:150]}})
            if len(block.text) > 150:
                blocks += section(block.text)
        elif isinstance(block, TextBlock):
            blocks += section(block.text)
        elif isinstance(block, DividerBlock):
            blocks.append({"type": "divider"})
        elif isinstance(block, LinksBlock):
            blocks += buttons([(link.label, link.url) for link in block.links])
        elif isinstance(block, FindingBlock):
            blocks += _finding(block)
    chunks = [blocks[i:i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)] or [[]]
    return [{"text": report.tldr[0] if report.tldr else report.title, "blocks": c} for c in chunks]


def _finding(block: FindingBlock) -> list[dict[str, Any]]:
    f = block.finding
    tag = SEVERITY_TAG.get(f.severity.value, f.severity.value.upper())
    body = "\n".join([f"*[{tag}] {f.title}*"] + [f"• {d}" for d in f.details])
    out = section(body)
    queries = "\n".join(f"`{ev.query}`" for ev in f.evidence if ev.query)
    if queries:
        out += [{"type": "context", "elements": [{"type": "mrkdwn", "text": t}]}
                for t in split_text(queries, 2000)]
    out += buttons([(evidence_label(ev), ev.link) for ev in f.evidence if ev.link])
    return out
