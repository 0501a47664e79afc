"""The per-investigation budget: model calls, tokens, wall time, estimated dollars.

Checked before each call with a projection of that call's cost, so the loop
stops before overspending rather than after; the caller keeps the rule-based
answer when it stops.
"""

from __future__ import annotations

import time
from typing import Callable

from reasoning.llm.config import LLMConfig, Price

MAX_OUTPUT = 4096  # per call: enough for submit_report with five hypotheses
MIN_OUTPUT = 1024  # a call with less room than this cannot produce an answer


class BudgetExceeded(Exception):
    """The next call would break the budget; `str(exc)` says which limit."""


class Budget:
    def __init__(self, config: LLMConfig, price: Price,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config, self.price, self._clock = config, price, clock
        self.started = clock()
        self.steps = self.input_tokens = self.output_tokens = self.tool_calls = 0

    @property
    def cost_usd(self) -> float:
        return self.price.cost(self.input_tokens, self.output_tokens)

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def remaining_seconds(self) -> float:
        return self.config.timeout - (self._clock() - self.started)

    def is_last_step(self) -> bool:
        return self.steps == self.config.max_steps - 1

    def output_cap(self, input_estimate: int) -> int:
        return max(0, min(MAX_OUTPUT, self.config.max_tokens - self.tokens - input_estimate))

    def check(self, input_estimate: int) -> None:
        """Raise BudgetExceeded if a call of about `input_estimate` input tokens may not run."""
        c = self.config
        if self.steps >= c.max_steps:
            raise BudgetExceeded(f"all {c.max_steps} model calls used")
        if self.remaining_seconds() <= 0:
            raise BudgetExceeded(f"wall time of {c.timeout:g}s used")
        if self.output_cap(input_estimate) < MIN_OUTPUT:
            raise BudgetExceeded(f"token budget of {c.max_tokens} nearly used ({self.tokens})")
        projected = self.cost_usd + self.price.cost(input_estimate, self.output_cap(input_estimate))
        if projected > c.max_cost_usd:
            raise BudgetExceeded(f"next call could bring the cost to ${projected:.3f}, "
                                 f"over the ${c.max_cost_usd:g} cap")

    def charge(self, input_tokens: int, output_tokens: int) -> None:
        self.steps += 1
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens


def estimate_tokens(*parts: str) -> int:
    """A deliberately high estimate (3 characters a token) for budget projections."""
    return sum(len(p) for p in parts) // 3 + 1
