"""`policies/cost.yaml`: unit prices and thresholds of `oncall cost`, validated.

Prices are configuration, not code: every team pays different rates, and the
report is only as useful as the numbers it multiplies by.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from detectors.slo import parse_duration

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "policies" / "cost.yaml"
Resource = Literal["cpu", "memory"]


class CostPolicy(BaseModel):
    currency: str = "USD"
    cpu_core_hour: float = Field(0.0316, ge=0)
    memory_gib_hour: float = Field(0.0042, ge=0)
    hours_per_month: float = Field(730, gt=0)
    window: str = "1h"
    crash_reasons: list[str] = ["OOMKilled", "Error", "ContainerCannotRun", "StartError"]
    require_requests: list[Resource] = ["cpu", "memory"]
    require_limits: list[Resource] = ["cpu", "memory"]
    max_limit_request_ratio: float = Field(2.0, gt=0)
    usage_quantile: float = Field(0.95, gt=0, le=1)
    overprovision_factor: float = Field(2.0, gt=1)
    min_excess_cpu_cores: float = Field(0.05, ge=0)
    min_excess_memory_gib: float = Field(0.0625, ge=0)

    @field_validator("window")
    @classmethod
    def _window(cls, v: str) -> str:
        if parse_duration(v) < 300:
            raise ValueError("window must be at least 5m")
        return v

    def hourly(self, cores: float, gib: float) -> float:
        """What `cores` and `gib` of requests cost per hour."""
        return cores * self.cpu_core_hour + gib * self.memory_gib_hour

    def monthly(self, cores: float, gib: float) -> float:
        return self.hourly(cores, gib) * self.hours_per_month


def load_cost_policy(path: Path | None = None) -> CostPolicy:
    """The policy file (default: the shipped one); ValueError when it is broken."""
    path = path or DEFAULT_PATH
    if not path.exists():
        return CostPolicy()
    try:
        return CostPolicy.model_validate(yaml.safe_load(path.read_text()) or {})
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not YAML: {' '.join(str(exc).split())}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{path}: {problems}") from None
