"""Service level objectives: the policy file, their PromQL, and the workbook burn windows.

An SLO names an error and a total counter expression. Either may contain the
placeholder `{{window}}` (as in `sum(rate(x{code=~"5.."}[{{window}}]))`); a bare
selector or metric is wrapped as `sum(rate(SELECTOR[window]))`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, field_validator

from detectors.finding import Severity
from detectors.promql import quote, window

HOUR = 3600
DAY = 24 * HOUR
PLACEHOLDER = "{{window}}"
_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": HOUR, "d": DAY, "w": 7 * DAY}


def parse_duration(text: str | int) -> int:
    """`30d`, `28d`, `4w`, `1h` (or plain seconds) to seconds."""
    if isinstance(text, int):
        return text
    match = _DURATION.match(str(text).strip())
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30d, 28d, 4w)")
    return int(match.group(1)) * _UNIT[match.group(2)]


@dataclass(frozen=True)
class BurnWindow:
    """A long/short window pair and the share of the budget it may burn before alerting."""

    long: int
    short: int
    budget_share: float
    severity: Severity

    def factor(self, period: int) -> float:
        return self.budget_share * period / self.long


# Google SRE workbook, multiwindow multi-burn-rate: for 30 days 14.4x, 6x, 3x, 1x.
WORKBOOK_WINDOWS: tuple[BurnWindow, ...] = (
    BurnWindow(HOUR, 5 * 60, 0.02, Severity.PAGE),
    BurnWindow(6 * HOUR, 30 * 60, 0.05, Severity.PAGE),
    BurnWindow(DAY, 2 * HOUR, 0.10, Severity.WARNING),
    BurnWindow(3 * DAY, 6 * HOUR, 0.10, Severity.WARNING),
)
ALL_WINDOWS: tuple[int, ...] = tuple(sorted({w.long for w in WORKBOOK_WINDOWS}
                                            | {w.short for w in WORKBOOK_WINDOWS}))


class Slo(BaseModel):
    name: str
    service: str | None = None
    namespace: str | None = None
    objective: float = Field(gt=0, lt=1, description="e.g. 0.999")
    period: int = Field(30 * DAY, description="seconds; `30d` in YAML")
    errors: str
    total: str

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, v: str | int) -> int:
        return parse_duration(v)

    @field_validator("objective", mode="before")
    @classmethod
    def _objective(cls, v: float) -> float:
        v = float(v)
        return v / 100 if v > 1 else v  # 99.9 and 0.999 both mean 99.9 %

    @property
    def budget(self) -> float:
        return 1.0 - self.objective

    def burn(self, ratio: float) -> float:
        """An error ratio as a multiple of the budget: 1x spends it exactly over the period."""
        return ratio / self.budget

    def budget_spent(self, ratio: float, seconds: int) -> float:
        """Share of the period's error budget that `seconds` at `ratio` consume."""
        return self.burn(ratio) * seconds / self.period

    def rate(self, expr: str, seconds: int) -> str:
        if PLACEHOLDER in expr:
            return expr.replace(PLACEHOLDER, window(seconds))
        return f"sum(rate({expr}[{window(seconds)}]))"

    def ratio_expr(self, seconds: int) -> str:
        """Error ratio over a window, as PromQL."""
        return f"({self.rate(self.errors, seconds)}) / ({self.rate(self.total, seconds)})"

    def matches(self, namespace: str | None, service: str | None) -> bool:
        return (self.service in (None, service) and self.namespace in (None, namespace)
                and (self.service or self.namespace) is not None)


def default_slo(namespace: str | None, service: str, objective: float) -> Slo:
    """The convention when no policy names the service: HTTP 5xx over all requests."""
    ns = f"namespace={quote(namespace)}," if namespace else ""
    sel = f"{ns}service={quote(service)}"
    return Slo(name=f"{service}-availability", service=service, namespace=namespace,
               objective=objective, errors=f'http_requests_total{{{sel},code=~"5.."}}',
               total=f"http_requests_total{{{sel}}}")


def load_slos(path: Path) -> list[Slo]:
    """Read `policies/slo.yaml` (`slos: [...]`); a missing file means no SLOs."""
    if not path.exists():
        return []
    doc = yaml.safe_load(path.read_text()) or {}
    return [Slo.model_validate(item) for item in doc.get("slos", [])]


def find_slo(slos: list[Slo], namespace: str | None, service: str | None) -> Slo | None:
    return next((s for s in slos if s.matches(namespace, service)), None)
