"""Block Kit for status drafts: the draft with its buttons, the edit modal, the
decided state, and the message stakeholders receive."""

from __future__ import annotations

import time
from typing import Any

from bot.approvals import Draft
from bot.ownership import Owner
from bot.render.blockkit import buttons, section

APPROVE, EDIT, DISCARD, EDIT_VIEW = ("oncall_draft_approve", "oncall_draft_edit", "oncall_draft_discard",
                                     "oncall_draft_edit_view")
MODAL_TEXT_MAX = 3000  # plain_text_input max_length


def _when(ts: float | None) -> str:
    return time.strftime("%H:%M UTC", time.gmtime(ts or time.time()))


def draft_message(draft: Draft, owner: Owner) -> dict[str, Any]:
    """The draft in the incident thread, with Approve / Edit / Discard."""
    approvers = ", ".join(f"<@{a}>" if a[:1] in "UW" and a.isupper() else a for a in owner.approvers)
    groups = ", ".join(f"<!subteam^{g}>" for g in owner.approver_groups)
    who = ", ".join(x for x in (approvers, groups) if x) or "no approvers configured"
    blocks = section(f"*Status update draft* for {owner.stakeholder_channel or 'stakeholders'} "
                     "(not sent; needs approval)")
    blocks += section(draft.text)
    note = f"Draft #{draft.id} · approvers: {who}"
    if draft.edited_by:
        note += f" · edited by <@{draft.edited_by}>"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note[:2000]}]})
    value = str(draft.id)
    blocks.append({"type": "actions", "block_id": f"oncall_draft_{draft.id}", "elements": [
        {"type": "button", "action_id": APPROVE, "style": "primary", "value": value,
         "text": {"type": "plain_text", "text": "Approve and post"}},
        {"type": "button", "action_id": EDIT, "value": value, "text": {"type": "plain_text", "text": "Edit"}},
        {"type": "button", "action_id": DISCARD, "style": "danger", "value": value,
         "text": {"type": "plain_text", "text": "Discard"}},
    ]})
    return {"text": f"Status update draft #{draft.id} (needs approval)", "blocks": blocks}


def _channel(ref: str | None) -> str:
    return f"<#{ref}>" if ref and ref[:1] in "CG" and ref.isalnum() else (ref or "stakeholders")


def decided_message(draft: Draft) -> dict[str, Any]:
    """The draft after a decision: no buttons left to click."""
    who = f"by <@{draft.decided_by}> at {_when(draft.decided_at)}"
    if draft.status == "posted":
        icon, what = ":white_check_mark:", f"Status update posted to {_channel(draft.posted_to)} {who}"
    else:
        icon, what = ":wastebasket:", f"Status draft discarded {who}"
    blocks = section(f"{icon} *{what}*") + section(draft.text)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Draft #{draft.id}"}]})
    return {"text": what, "blocks": blocks}


def stakeholder_message(draft: Draft) -> dict[str, Any]:
    """What the stakeholder channel receives: the approved text, and who approved it."""
    blocks = section(draft.text)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text":
                   f"Incident: {draft.title} · approved by <@{draft.decided_by}>"[:2000]}]})
    return {"text": draft.text[:3000], "blocks": blocks}


def edit_modal(draft: Draft) -> dict[str, Any]:
    return {
        "type": "modal", "callback_id": EDIT_VIEW, "private_metadata": str(draft.id),
        "title": {"type": "plain_text", "text": "Edit status update"},
        "submit": {"type": "plain_text", "text": "Save draft"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [{"type": "input", "block_id": "draft", "label": {"type": "plain_text", "text": "Text"},
                    "element": {"type": "plain_text_input", "action_id": "text", "multiline": True,
                                "max_length": MODAL_TEXT_MAX, "initial_value": draft.text[:MODAL_TEXT_MAX]}}],
    }


def links_message(links: list[tuple[str, str]]) -> dict[str, Any] | None:
    if not links:
        return None
    return {"text": "Open in: " + ", ".join(label for label, _ in links),
            "blocks": section("*Open in*") + buttons(links)}
