"""LLM settings as reasoning sees them, and the price table behind the cost cap.

`reasoning` may not import `bot`, so bot's Settings build this plain object
and pass it down; it carries the key, so its repr hides it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

PRICES = Path(__file__).with_name("prices.yaml")
DEFAULT_MODEL = "claude-sonnet-4-6"


@dataclass(frozen=True)
class Price:
    """USD per million input and output tokens."""

    input: float
    output: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / 1_000_000


@dataclass(frozen=True)
class LLMConfig:
    """Key, endpoint, model and the per-investigation budget."""

    api_key: str = field(repr=False)
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    max_steps: int = 6
    max_tokens: int = 120_000
    timeout: float = 45.0
    max_cost_usd: float = 0.50
    max_retries: int = 1
    anonymise: bool = False
    redact_emails: bool = True
    redact_ips: bool = True
    tool_output_chars: int = 6_000
    prices_file: Path = PRICES

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ValueError("an LLM config needs an API key")
        if self.max_steps < 1 or self.max_tokens < 1 or self.timeout <= 0 or self.max_cost_usd <= 0:
            raise ValueError("LLM budget values must be positive")

    def price(self) -> Price:
        return price_for(self.model, load_prices(self.prices_file))


def load_prices(path: Path = PRICES) -> dict[str, Price]:
    raw = yaml.safe_load(path.read_text()) or {}
    return {name: Price(float(p["input"]), float(p["output"])) for name, p in raw.items()}


def price_for(model: str, prices: dict[str, Price]) -> Price:
    """The longest key `model` starts with; `default` otherwise."""
    matches = [k for k in prices if k != "default" and model.startswith(k)]
    if matches:
        return prices[max(matches, key=len)]
    return prices.get("default", Price(15.0, 75.0))
