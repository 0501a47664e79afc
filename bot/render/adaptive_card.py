"""Adaptive Cards (schema 1.5, what Teams renders) for reports, parents and status drafts.

Teams refuses a message over about 28 KB, so a long report becomes several
cards, split between elements and never cut. Slack-style markup from the
report (`*bold*`, `<url|label>`) is turned into the Markdown subset cards use.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.approvals import Draft
from bot.render.common import SEVERITY_TAG, evidence_label, minutes_between, parent_text
from bot.store import GroupView
from reasoning.report import DividerBlock, FindingBlock, HeaderBlock, LinksBlock, Report, TextBlock

VERSION = "1.5"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
MAX_CARD_BYTES = 24_000  # under Teams' ~28 KB message limit, with room for the envelope
MAX_ACTIONS = 5  # buttons Teams shows in one row before hiding them in "..."
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
_BOLD = re.compile(r"(?<![*\w])\*([^*\n]+)\*(?![*\w])")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
COLOR = {"page": "Attention", "warning": "Warning", "info": "Default"}


def markdown(text: str) -> str:
    """Slack mrkdwn to Adaptive Card Markdown: bold, links; newlines kept."""
    return _BOLD.sub(r"**\1**", _LINK.sub(r"[\2](\1)", text))


def text(value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": markdown(value) or " ", "wrap": True, **extra}


def open_urls(links: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """ActionSets of Action.OpenUrl: plain links the client opens, no bot round trip."""
    actions = [{"type": "Action.OpenUrl", "title": label[:60], "url": url} for label, url in links
               if url.startswith("http")]
    return [{"type": "ActionSet", "actions": actions[i:i + MAX_ACTIONS]}
            for i in range(0, len(actions), MAX_ACTIONS)]


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None,
         fallback: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        out["actions"] = actions
    if fallback:
        out["fallbackText"] = fallback[:500]
    return out


def _finding(block: FindingBlock) -> dict[str, Any]:
    f = block.finding
    tag = SEVERITY_TAG.get(f.severity.value, f.severity.value.upper())
    items = [text(f"[{tag}] {f.title}", weight="Bolder", color=COLOR.get(f.severity.value, "Default"))]
    if f.details:
        items.append(text("\n".join(f"- {d}" for d in f.details), spacing="Small"))
    queries = [ev.query for ev in f.evidence if ev.query]
    if queries:
        items.append(text("\n\n".join(queries), fontType="Monospace", isSubtle=True, size="Small"))
    items += open_urls([(evidence_label(ev), ev.link) for ev in f.evidence if ev.link])
    return {"type": "Container", "separator": True, "items": items}


def report_elements(report: Report) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    separate = False
    for block in report.blocks():
        if isinstance(block, HeaderBlock):
            out.append(text(block.text, size="Large", weight="Bolder"))
        elif isinstance(block, TextBlock):
            out.append(text(block.text, separator=separate))
        elif isinstance(block, DividerBlock):
            separate = True
            continue
        elif isinstance(block, LinksBlock):
            out += open_urls([(link.label, link.url) for link in block.links])
        elif isinstance(block, FindingBlock):
            out.append(_finding(block))
        separate = False
    return out


def _size(body: list[dict[str, Any]]) -> int:
    return len(json.dumps(card(body), ensure_ascii=False).encode())


def report_cards(report: Report, links: list[tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    """The report as one card, or several when it would not fit one Teams message."""
    elements = report_elements(report) + (open_urls(links) if links else [])
    cards: list[list[dict[str, Any]]] = [[]]
    for element in elements:
        if cards[-1] and _size(cards[-1] + [element]) > MAX_CARD_BYTES:
            cards.append([text(f"{report.title} (continued)", weight="Bolder")])
        cards[-1].append(element)
    summary = report.tldr[0] if report.tldr else report.title
    return [card(body, fallback=summary) for body in cards]


def parent_card(group: GroupView) -> dict[str, Any]:
    """Top of an incident thread: coloured by status, kept current by updates."""
    style = "attention" if group.status == "firing" else "good"
    items = [text(parent_text(group), weight="Bolder", size="Medium")]
    if group.summary:
        items.append(text(group.summary))
    items.append(text(f"Started {minutes_between(group.first_seen, None)} min ago · report in thread",
                      isSubtle=True, size="Small"))
    links = [("Open in Alertmanager", group.external_url)] if group.external_url.startswith("http") else []
    body = [{"type": "Container", "style": style, "bleed": True, "items": items}] + open_urls(links)
    return card(body, fallback=parent_text(group))


def draft_card(draft: Draft, stakeholders: str, approvers: list[str]) -> dict[str, Any]:
    """The status draft with Approve / Edit / Discard; Edit shows an input in place."""
    ref = {"draft": draft.id}
    edit = card([{"type": "Input.Text", "id": "text", "isMultiline": True, "value": draft.text,
                  "maxLength": 3000, "label": "Status update", "isRequired": True,
                  "errorMessage": "The update cannot be empty"}],
                [{"type": "Action.Submit", "title": "Save draft", "data": {"oncall_action": "edit", **ref}}])
    del edit["$schema"]
    note = f"Draft #{draft.id} · approvers: {', '.join(approvers) or 'none configured'}"
    if draft.edited_by:
        note += f" · edited by {draft.edited_by}"
    body = [text(f"**Status update draft** for {stakeholders or 'stakeholders'} (not sent; needs approval)"),
            text(draft.text), text(note, isSubtle=True, size="Small")]
    actions = [
        {"type": "Action.Submit", "title": "Approve and post", "style": "positive",
         "data": {"oncall_action": "approve", **ref}},
        {"type": "Action.ShowCard", "title": "Edit", "card": edit},
        {"type": "Action.Submit", "title": "Discard", "style": "destructive",
         "data": {"oncall_action": "discard", **ref}},
    ]
    return card(body, actions, fallback=f"Status update draft #{draft.id}")


def decided_card(draft: Draft) -> dict[str, Any]:
    if draft.status == "posted":
        head = f"✅ **Status update posted** to {draft.posted_to or 'stakeholders'} by {draft.decided_by}"
    else:
        head = f"🗑️ **Status draft discarded** by {draft.decided_by}"
    return card([text(head), text(draft.text), text(f"Draft #{draft.id}", isSubtle=True, size="Small")],
                fallback=head)


def stakeholder_card(draft: Draft) -> dict[str, Any]:
    return card([text(draft.text), text(f"Incident: {draft.title} · approved by {draft.decided_by}",
                                        isSubtle=True, size="Small")], fallback=draft.text)


def reply_card(value: str) -> dict[str, Any]:
    """A command's answer as a card (keeps bullets and bold as in Slack)."""
    return card([text(value)], fallback=value[:500])
