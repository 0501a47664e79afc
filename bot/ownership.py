"""The ownership map (policies/ownership.yaml): which team, channels and approvers a page has.

Routing and approval both read it, so "who may tell stakeholders" is written
down in one reviewed file rather than spread over chat settings.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel, Field

from reasoning.scope import scope_from_labels

if TYPE_CHECKING:
    from bot.settings import Settings


class Owner(BaseModel):
    """Where an incident goes and who may approve what stakeholders read."""

    team: str = "unowned"
    channel: str = Field("", description="incident threads; empty: the configured default")
    stakeholder_channel: str = Field("", description="approved status updates go here")
    approvers: list[str] = Field(default_factory=list, description="user ids, names or e-mails")
    approver_groups: list[str] = Field(default_factory=list, description="Slack user group ids")
    teams_conversation: str = Field("", description="Teams conversation for pages, if not the default")
    teams_stakeholder_conversation: str = ""

    def allows(self, identities: set[str]) -> bool:
        """True when any identity of the user (id, name, e-mail) is a listed approver."""
        listed = {a.strip().lower().lstrip("@") for a in self.approvers if a.strip()}
        return any(i.strip().lower().lstrip("@") in listed for i in identities if i)


class Rule(Owner):
    match: dict[str, str] = Field(default_factory=dict)


class OwnershipMap(BaseModel):
    default: Owner = Field(default_factory=Owner)
    owners: list[Rule] = Field(default_factory=list)

    @classmethod
    def load(cls, path: Path | str, default_channel: str = "") -> "OwnershipMap":
        """Read the map; a missing file means everything goes to the default channel."""
        path = Path(path)
        doc = (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}
        out = cls.model_validate(doc)
        if not out.default.channel:
            out.default.channel = default_channel
        return out

    @classmethod
    def from_settings(cls, settings: "Settings") -> "OwnershipMap":
        """The configured map, its defaults filled from ONCALL_SLACK_CHANNEL and the Teams settings."""
        out = cls.load(settings.ownership_file, settings.slack_channel)
        d = out.default
        d.teams_conversation = d.teams_conversation or settings.teams_conversation_id or ""
        d.teams_stakeholder_conversation = (d.teams_stakeholder_conversation
                                            or settings.teams_stakeholder_conversation_id or "")
        return out

    def resolve(self, labels: dict[str, str]) -> Owner:
        """The most specific matching entry (most keys matched; ties: file order), else default."""
        facts = dict(labels)
        namespace, service, _ = scope_from_labels(labels)
        if namespace:
            facts.setdefault("namespace", namespace)
        if service:
            facts.setdefault("service", service)
        best: Rule | None = None
        for rule in self.owners:
            if rule.match and all(_matches(facts.get(k), v) for k, v in rule.match.items()):
                if best is None or len(rule.match) > len(best.match):
                    best = rule
        if best is None:
            return self.default
        merged = best.model_dump(exclude={"match"})
        for key in ("channel", "stakeholder_channel", "teams_conversation", "teams_stakeholder_conversation"):
            merged[key] = merged[key] or getattr(self.default, key)
        return Owner.model_validate(merged)


def _matches(value: str | None, pattern: str) -> bool:
    return value is not None and fnmatch.fnmatchcase(value, str(pattern))
