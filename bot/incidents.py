"""Read-only views of incidents for chat: open groups, the group behind a thread,
its labels, its page and its latest report.

Reads the store's tables directly so the chat layer needs no change to the
store's write path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Alert, AlertGroup, ReportRow
from bot.store import Store
from reasoning.page import Page, PageAlert
from reasoning.report import Report


@dataclass
class Incident:
    group_key: str
    title: str
    severity: str
    status: str
    channel: str | None
    thread_ts: str | None
    first_seen: float
    firing: int
    total: int


class Incidents:
    """Blocking queries; call them through `store.run`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _session(self) -> Session:
        return Session(self.store.engine)

    def _incident(self, s: Session, g: AlertGroup) -> Incident:
        alerts = list(s.scalars(select(Alert.status).where(Alert.group_key == g.group_key)))
        return Incident(g.group_key, g.title, g.severity, g.status, g.channel, g.thread_ts, g.first_seen,
                        sum(a == "firing" for a in alerts), len(alerts))

    def open(self) -> list[Incident]:
        with self._session() as s:
            rows = s.scalars(select(AlertGroup).where(AlertGroup.status == "firing")
                             .order_by(AlertGroup.first_seen))
            return [self._incident(s, g) for g in rows]

    def by_thread(self, channel: str, thread_ts: str) -> Incident | None:
        with self._session() as s:
            g = s.scalars(select(AlertGroup).where(AlertGroup.thread_ts == thread_ts,
                                                   AlertGroup.channel == channel)).first()
            return self._incident(s, g) if g else None

    def labels(self, group_key: str) -> dict[str, str]:
        """Labels every alert of the group shares (what Alertmanager calls commonLabels)."""
        with self._session() as s:
            sets = [json.loads(raw) for raw in s.scalars(select(Alert.labels).where(Alert.group_key == group_key))]
        if not sets:
            return {}
        common = dict(sets[0])
        for other in sets[1:]:
            common = {k: v for k, v in common.items() if other.get(k) == v}
        return common

    def page(self, group_key: str) -> Page | None:
        """The group as a page again, for a re-investigation from chat."""
        with self._session() as s:
            g = s.get(AlertGroup, group_key)
            if g is None:
                return None
            alerts = list(s.scalars(select(Alert).where(Alert.group_key == group_key)))
        return Page(group_key=group_key, status=g.status, common_labels=self.labels(group_key),
                    common_annotations={"summary": g.summary} if g.summary else {},
                    alerts=[PageAlert(fingerprint=a.fingerprint, status=a.status, labels=json.loads(a.labels),
                                      starts_at=datetime.fromisoformat(a.starts_at) if a.starts_at else None)
                            for a in alerts])

    def latest_report(self, group_key: str) -> Report | None:
        with self._session() as s:
            body = s.scalars(select(ReportRow.body).where(ReportRow.group_key == group_key)
                             .order_by(ReportRow.id.desc()).limit(1)).first()
        return Report.model_validate_json(body) if body else None
