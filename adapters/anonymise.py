"""Reversible anonymisation of cluster object names for LLM prompts.

Pod, namespace and node names can reveal customers, products or
infrastructure layout. Before a prompt leaves, each known name becomes a stable
placeholder (`pod-1`, `namespace-1`, `node-1`); the model reasons about the
placeholders, and its answer is mapped back before a human reads it. Names are
matched whole (not inside longer names), longest first, so a pod named after
its namespace keeps both mappings intact.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

_EDGE_BEFORE = r"(?<![A-Za-z0-9-])"
_EDGE_AFTER = r"(?![A-Za-z0-9-])"


class Anonymiser:
    """A two-way name <-> placeholder table, built up as names are learned."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.to_alias: dict[str, str] = {}
        self.to_name: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._forward: re.Pattern[str] | None = None
        self._backward: re.Pattern[str] | None = None

    def add(self, kind: str, name: str) -> str:
        """The placeholder for `name` (created on first sight)."""
        if not name:
            return name
        if name in self.to_alias:
            return self.to_alias[name]
        self._counts[kind] = self._counts.get(kind, 0) + 1
        alias = f"{self.prefix}{kind}-{self._counts[kind]}"
        self.to_alias[name], self.to_name[alias] = alias, name
        self._forward = self._backward = None
        return alias

    def add_many(self, kind: str, names: Iterable[str]) -> None:
        for name in names:
            self.add(kind, name)

    def learn_objects(self, objects: Iterable[dict[str, Any]], kind: str | None = None) -> None:
        """Learn names from raw Kubernetes objects: their namespace, name and node.

        List items carry no `kind`, so pass it (e.g. "pod") for those."""
        for obj in objects:
            meta = obj.get("metadata") or {}
            this = (kind or obj.get("kind") or "object").lower()
            if meta.get("namespace"):
                self.add("namespace", meta["namespace"])
            if meta.get("name"):
                self.add(this, meta["name"])
            node = (obj.get("spec") or {}).get("nodeName")
            if node:
                self.add("node", node)

    def anonymise(self, text: str) -> str:
        if not self.to_alias:
            return text
        if self._forward is None:
            self._forward = _alternation(self.to_alias)
        return self._forward.sub(lambda m: self.to_alias[m.group(0)], text)

    def restore(self, text: str) -> str:
        if not self.to_name:
            return text
        if self._backward is None:
            self._backward = _alternation(self.to_name)
        return self._backward.sub(lambda m: self.to_name[m.group(0)], text)


def _alternation(words: dict[str, str]) -> re.Pattern[str]:
    ordered = sorted(words, key=len, reverse=True)
    return re.compile(_EDGE_BEFORE + "(?:" + "|".join(map(re.escape, ordered)) + ")"
                      + _EDGE_AFTER)
