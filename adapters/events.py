"""Kubernetes events from the API and from Loki, merged into one de-duplicated list.

The API server keeps events for about an hour; an event exporter (for example
kubernetes-event-exporter writing each Event as JSON, or Grafana Alloy's
`loki.source.kubernetes_events` writing logfmt) keeps them in Loki for as long
as logs live. Reading both gives the recent detail and a 6-hour baseline, and
the same event seen in both places (or shipped again on every count bump) is
reported once.
"""

from __future__ import annotations

import json
import re
import shlex
from datetime import datetime, timezone
from typing import Any, Iterable

from pydantic import BaseModel

Json = dict[str, Any]
_LOGFMT_KEYS = {"name", "kind", "reason", "type", "msg"}


class KubeEvent(BaseModel):
    """One event, whatever its source or API version."""

    namespace: str | None = None
    kind: str = ""
    name: str = ""
    reason: str = ""
    type: str = "Normal"
    message: str = ""
    count: int = 1
    first: datetime | None = None
    last: datetime | None = None
    component: str | None = None
    sources: list[str] = []

    @property
    def key(self) -> tuple[str | None, str, str, str, str]:
        return self.namespace, self.kind, self.name, self.reason, self.message

    @property
    def object(self) -> str:
        return f"{self.kind}/{self.name}"


def from_api(item: Json) -> KubeEvent:
    """A core/v1 or events.k8s.io/v1 Event (raw JSON) as a KubeEvent."""
    meta = item.get("metadata") or {}
    regarding = item.get("involvedObject") or item.get("regarding") or {}
    series = item.get("series") or {}
    first = item.get("firstTimestamp") or item.get("deprecatedFirstTimestamp") \
        or item.get("eventTime") or meta.get("creationTimestamp")
    last = series.get("lastObservedTime") or item.get("lastTimestamp") \
        or item.get("deprecatedLastTimestamp") or item.get("eventTime") or first
    count = series.get("count") or item.get("count") or item.get("deprecatedCount") or 1
    source = item.get("source") or item.get("deprecatedSource") or {}
    return KubeEvent(
        namespace=regarding.get("namespace") or meta.get("namespace"),
        kind=regarding.get("kind") or "", name=regarding.get("name") or "",
        reason=item.get("reason") or "", type=item.get("type") or "Normal",
        message=(item.get("message") or item.get("note") or "").strip(), count=int(count),
        first=_time(first), last=_time(last),
        component=item.get("reportingComponent") or item.get("reportingController")
        or source.get("component"), sources=["api"])


def from_log_line(line: str, labels: dict[str, str], ts_ns: int) -> KubeEvent | None:
    """An exporter's log line as a KubeEvent: Event JSON, or Alloy's logfmt/JSON fields.

    Returns None for lines that are not events (an exporter's own chatter).
    """
    text = line.strip()
    at = datetime.fromtimestamp(ts_ns / 1e9, tz=timezone.utc)
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            return None
        if not isinstance(doc, dict):
            return None
        if "involvedObject" in doc or "regarding" in doc:
            event = from_api(doc)
        elif _LOGFMT_KEYS & doc.keys():
            event = _from_fields({k: str(v) for k, v in doc.items()}, labels, at)
        else:
            return None
    else:
        fields = _logfmt(text)
        if not {"reason", "msg"} <= fields.keys():
            return None
        event = _from_fields(fields, labels, at)
    event.sources = ["loki"]
    event.last = event.last or at
    event.first = event.first or at
    return event


def merge(events: Iterable[KubeEvent]) -> list[KubeEvent]:
    """Collapse copies of one event (same object, reason and message), newest first.

    Counts: the largest explicit count seen, or the number of distinct sightings
    when the exporter ships one line per occurrence.
    """
    groups: dict[tuple[Any, ...], list[KubeEvent]] = {}
    for event in events:
        groups.setdefault(event.key, []).append(event)
    out = []
    for copies in groups.values():
        firsts = [e.first for e in copies if e.first]
        lasts = [e.last for e in copies if e.last]
        sightings = len({e.last for e in copies if "loki" in e.sources and e.count == 1})
        merged = copies[0].model_copy(update={
            "first": min(firsts) if firsts else None, "last": max(lasts) if lasts else None,
            "count": max([e.count for e in copies] + [sightings]),
            "sources": sorted({s for e in copies for s in e.sources}),
            "component": next((e.component for e in copies if e.component), None),
        })
        out.append(merged)
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    out.sort(key=lambda e: e.last or epoch, reverse=True)
    return out


def within(events: Iterable[KubeEvent], start: datetime, end: datetime) -> list[KubeEvent]:
    """Events whose [first, last] span touches [start, end]."""
    return [e for e in events if (e.last or end) >= start and (e.first or start) <= end]


def _from_fields(fields: dict[str, str], labels: dict[str, str], at: datetime) -> KubeEvent:
    count = fields.get("count", "1")
    return KubeEvent(
        namespace=fields.get("namespace") or labels.get("namespace"),
        kind=fields.get("kind", ""), name=fields.get("name", ""),
        reason=fields.get("reason", ""), type=fields.get("type", "Normal"),
        message=fields.get("msg", "").strip(), count=int(count) if count.isdigit() else 1,
        first=at, last=at,
        component=fields.get("reportingcontroller") or fields.get("sourcecomponent") or None)


def _logfmt(text: str) -> dict[str, str]:
    """key=value pairs with double-quoted values; malformed input gives what parsed."""
    try:
        parts = shlex.split(text, posix=True)
    except ValueError:
        parts = text.split()
    return dict(p.split("=", 1) for p in parts if re.match(r"^[A-Za-z_][\w.]*=", p))


def _time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
