"""Wording shared by every surface: status lines and evidence labels."""

from __future__ import annotations

import time

from adapters.envelope import SourceResult
from bot.store import GroupView

STATUS_ICON = {"firing": ":red_circle:", "resolved": ":large_green_circle:"}
STATUS_COLOR = {"firing": "#E01E5A", "resolved": "#2EB67D"}
SEVERITY_TAG = {"page": "PAGE", "warning": "WARN", "info": "INFO"}


def minutes_between(start: float, end: float | None) -> int:
    return max(0, round(((end or time.time()) - start) / 60))


def parent_text(group: GroupView) -> str:
    """One-line state of a group, the same on every surface."""
    if group.status == "resolved":
        return (f"RESOLVED after {minutes_between(group.first_seen, group.resolved_at)} min: "
                f"{group.title} ({group.severity})")
    return f"FIRING: {group.title} ({group.severity}), {group.firing} of {group.total} alerts firing"


def evidence_label(ev: SourceResult) -> str:
    """A short name for an evidence link, e.g. `Prometheus: 5m window`."""
    name = ev.source.capitalize()
    for token in ("[5m]", "[30m]", "[1h]", "[2h]", "[6h]", "[1d]", "[3d]"):
        if token in ev.query:
            return f"{name}: {token.strip('[]')} window"
    metric = ev.query.split("{", 1)[0].split("(")[-1].strip() or "query"
    return f"{name}: {metric}"[:75]
