"""Slack Web API methods of the interactive bot, for the loopback stand-in:
ephemeral messages, modals and user-group membership, in Slack's shapes."""

from __future__ import annotations

import json
from typing import Any


def interactive_method(recorder: Any, method: str, args: dict[str, Any]) -> dict[str, Any] | None:
    """The answer to `method`, or None when it is not one of these."""
    if method == "chat.postEphemeral":
        if not args.get("channel") or not args.get("user"):
            return {"ok": False, "error": "channel_not_found" if not args.get("channel") else "user_not_found"}
        return {"ok": True, "message_ts": recorder.next_ts()}
    if method in ("views.open", "views.update", "views.push"):
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not view or (method != "views.update" and not args.get("trigger_id")):
            return {"ok": False, "error": "invalid_arguments"}
        views = recorder.__dict__.setdefault("views", {})
        view_id = args.get("view_id") or f"V{len(views) + 1:08d}"
        views[view_id] = {**view, "id": view_id}
        return {"ok": True, "view": views[view_id]}
    if method == "usergroups.users.list":
        groups = recorder.__dict__.get("usergroups", {})
        if args.get("usergroup") not in groups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": groups[args["usergroup"]]}
    return None
