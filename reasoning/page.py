"""The page being investigated, independent of how it arrived (webhook, CLI, chat)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class PageAlert(BaseModel):
    fingerprint: str
    status: str
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class Page(BaseModel):
    """One alert group as reasoning sees it."""

    group_key: str
    status: str
    common_labels: dict[str, str] = Field(default_factory=dict)
    common_annotations: dict[str, str] = Field(default_factory=dict)
    alerts: list[PageAlert] = Field(default_factory=list)

    @property
    def firing(self) -> list[PageAlert]:
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def alertname(self) -> str:
        names = sorted({a.labels.get("alertname", "?") for a in self.alerts})
        return self.common_labels.get("alertname") or ", ".join(names) or "alert"

    @property
    def severity(self) -> str:
        return self.common_labels.get("severity") or max(
            (a.labels.get("severity", "") for a in self.alerts), default=""
        ) or "unknown"

    @property
    def summary(self) -> str:
        return (self.common_annotations.get("summary")
                or self.common_annotations.get("description")
                or next((a.annotations.get("summary", "") for a in self.alerts), ""))
