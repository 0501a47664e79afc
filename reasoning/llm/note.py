"""What the LLM did for one report: its outcome, usage and estimated cost.

A reader must know whether a human-facing answer came from rules alone or was
refined, and /metrics needs the tokens and dollars; both read this note.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Outcome = Literal["refined", "overloaded", "timeout", "budget", "invalid", "error"]


class LLMNote(BaseModel):
    outcome: Outcome
    detail: str = ""
    model: str
    steps: int = 0
    tool_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    elapsed_ms: float = 0.0
    summary: str = ""

    @property
    def refined(self) -> bool:
        return self.outcome == "refined"

    def line(self) -> str:
        """One line for the report: what the LLM contributed, or why the rules stand."""
        if self.refined:
            extra = f"; {self.detail}" if self.detail else ""
            return (f"AI analysis ({self.model}, {self.steps} steps, ~${self.cost_usd:.3f}) "
                    f"refined the rule-based hypotheses{extra}.")
        return (f"AI analysis not used ({self.outcome}: {self.detail}); "
                "the rule-based answer stands.")
