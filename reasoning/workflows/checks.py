"""Next checks for on-demand workflows: concrete read-only commands, ranked.

The commands come from the same `policies/next_checks.yaml` the investigation
report uses (one list per cause), so a team that edits it changes both; a
workflow adds its own one-off checks and ranks everything by how strongly
what it found points there.
"""

from __future__ import annotations

from functools import lru_cache

import yaml
from pydantic import BaseModel, Field

from reasoning.advice import CHECKS


class NextCheck(BaseModel):
    """One read-only command or query, and why it is worth running."""

    command: str
    why: str
    score: float = Field(ge=0.0, le=1.0, description="how strongly the findings point here")


@lru_cache(maxsize=1)
def _templates() -> dict[str, list[str]]:
    return yaml.safe_load(CHECKS.read_text()) or {}


def for_cause(cause: str, why: str, score: float, *, namespace: str | None, name: str,
              kind: str = "deployment", service: str | None = None) -> list[NextCheck]:
    """The policy's checks for `cause`, filled in for one workload (or node)."""
    values = {"ns": namespace or "default", "name": name, "kind": kind.lower(),
              "service": service or name}
    return [NextCheck(command=t.format(**values), why=why, score=score)
            for t in _templates().get(cause, [])]


def ranked(checks: list[NextCheck], limit: int = 8) -> list[NextCheck]:
    """Best first; a command suggested twice keeps its strongest reason."""
    best: dict[str, NextCheck] = {}
    for check in checks:
        if check.command not in best or check.score > best[check.command].score:
            best[check.command] = check
    order = sorted(best.values(), key=lambda c: -c.score)  # stable: policy order on ties
    return order[:limit]
