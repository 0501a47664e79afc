"""What a detector reports: one typed finding with the evidence behind it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from adapters.envelope import SourceResult
from detectors.context import Subject


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    PAGE = "page"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "page": 2}[self.value]


class Finding(BaseModel):
    """One observation about one subject, with the queries that prove it."""

    detector: str
    signal: str = Field("", description="what kind of fact this is (oom-killed, pending, "
                        "traffic-up...), the vocabulary reasoning rules match on")
    subject: Subject
    severity: Severity
    score: float = Field(ge=0.0, le=1.0)
    window: str = Field(description="the time window the finding covers, e.g. 1h")
    started: datetime | None = Field(
        None, description="when the condition began, where the detector can tell; "
        "correlation links findings by it")
    title: str = Field(description="one line a human reads first")
    details: list[str] = Field(default_factory=list, description="supporting facts, one per line")
    facts: dict[str, Any] = Field(default_factory=dict, description="machine-readable numbers")
    evidence: list[SourceResult] = Field(default_factory=list)
    sensitive: list[str] = Field(
        default_factory=list, description="keys of `facts` that must be redacted before leaving"
    )

    def sort_key(self) -> tuple[int, float]:
        return (self.severity.rank, self.score)
