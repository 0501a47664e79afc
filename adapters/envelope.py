"""The one result type every data-source call returns.

Detectors, renderers and the LLM read only this envelope: what was asked (the
query), of which source, over what time, how it went (status, elapsed, error),
what came back (data) and where a human can see it (link).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Status(StrEnum):
    OK = "ok"
    EMPTY = "empty"
    ERROR = "error"
    TIMEOUT = "timeout"
    FORBIDDEN = "forbidden"


class TimeRange(BaseModel):
    start: datetime
    end: datetime
    step_seconds: float | None = None


class SourceResult(BaseModel):
    """Outcome of one read-only call to one data source."""

    source: str = Field(description="prometheus, loki or kubernetes")
    status: Status
    query: str = Field(description="the exact query or API path that ran")
    data: Any = None
    at: datetime | None = Field(default=None, description="evaluation time of an instant query")
    range: TimeRange | None = None
    link: str | None = Field(default=None, description="deep link a human can open")
    elapsed_ms: float = 0.0
    error: str | None = None
    warnings: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    @property
    def failed(self) -> bool:
        return self.status in (Status.ERROR, Status.TIMEOUT, Status.FORBIDDEN)
