"""Evidence the model may cite, by id, and tool results rendered as compact data.

Rule-based evidence gets ids E1..En and each tool result T1..Tn. Citations are
checked against this index, and a culprit must be named in something it
cites, so the model can neither invent evidence nor blame an object it never
saw. The index also remembers the exact (shielded) text the model was shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from adapters.envelope import SourceResult
from reasoning.hypotheses import Evidence

_NOISE = ("managedFields", "kubectl.kubernetes.io/last-applied-configuration")


@dataclass
class Item:
    evidence: Evidence
    sent: str  # what the model saw, for grounding checks
    from_tool: bool = False


class EvidenceIndex:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self._rule_keys: dict[tuple[str, str, str | None], str] = {}
        self._tools = 0

    def __contains__(self, eid: str) -> bool:
        return eid in self.items

    def add_rule(self, evidence: Evidence, sent: str) -> str:
        key = (evidence.text, evidence.source, evidence.query)
        if key not in self._rule_keys:
            self._rule_keys[key] = f"E{len(self._rule_keys) + 1}"
            self.items[self._rule_keys[key]] = Item(evidence, sent)
        return self._rule_keys[key]

    def add_result(self, result: SourceResult, sent: str) -> str:
        self._tools += 1
        eid = f"T{self._tools}"
        text = f"{result.source} {result.status.value}: {result.query}"
        self.items[eid] = Item(Evidence(text=text, source=result.source, query=result.query,
                                        link=result.link), sent, from_tool=True)
        return eid

    def cites(self, eid: str, fact: str) -> Evidence:
        """The evidence behind a citation: the rule's own words, or the model's reading
        of a tool result (with the query and link we ran, not ones it claims)."""
        item = self.items[eid]
        if not item.from_tool:
            return item.evidence
        return item.evidence.model_copy(update={"text": fact})

    def mentions(self, eid: str, name: str) -> bool:
        return eid in self.items and name.lower() in self.items[eid].sent.lower()


def payload(result: SourceResult, max_chars: int) -> dict[str, Any]:
    """The envelope as compact JSON-ready data, cut to about `max_chars`."""
    out = result.model_dump(mode="json", exclude={"elapsed_ms"}, exclude_none=True)
    out["data"] = _compact(out.get("data"))
    items = out["data"] if isinstance(out.get("data"), list) else None
    total = len(items) if items is not None else 0
    while items is not None and len(items) > 1 and _size(out) > max_chars:
        items = items[: max(1, len(items) // 2)]
        out["data"] = items
    if items is not None and len(items) < total:
        out.setdefault("warnings", []).append(f"truncated: showing {len(items)} of {total} items")
    if _size(out) > max_chars:
        out["data"] = json.dumps(out.get("data"), default=str)[:max_chars] + " …[truncated]"
    return out


def _compact(data: Any) -> Any:
    if isinstance(data, list):
        return [_compact(v) for v in data]
    if not isinstance(data, dict):
        return data
    if {"ts_ns", "labels", "line"} <= data.keys():  # a LogLine
        when = datetime.fromtimestamp(data["ts_ns"] / 1e9, tz=timezone.utc)
        return {"time": when.isoformat(timespec="milliseconds"), "labels": data["labels"],
                "line": data["line"]}
    return {k: _compact(v) for k, v in data.items() if k not in _NOISE}


def _size(value: Any) -> int:
    return len(json.dumps(value, default=str))
