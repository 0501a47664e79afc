"""One call for "the events around this incident", from the API and from Loki.

Either source may be missing or failing; the answer then comes from the other
with a warning naming what is missing, so a report can say "events from the
API only (Loki: timeout)" instead of silently showing an hour of history.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from adapters import events as ev
from adapters.envelope import SourceResult, Status, TimeRange
from adapters.kube import KubeClient
from adapters.loki import LokiClient

DEFAULT_SELECTOR = '{job=~".*event.*"}'  # kubernetes-event-exporter, Alloy's kubernetes_events


class EventReader:
    """Merged, de-duplicated Kubernetes events for a namespace (and optionally one object)."""

    def __init__(self, kube: KubeClient | None, loki: LokiClient | None, *,
                 loki_selector: str = DEFAULT_SELECTOR, loki_limit: int = 5000) -> None:
        self.kube, self.loki = kube, loki
        self.loki_selector, self.loki_limit = loki_selector, loki_limit

    def loki_query(self, name: str | None) -> str:
        """LogQL for the exporter's lines. Only an object name narrows it in LogQL: the
        namespace sits in the line (JSON exporters) or in a stream label (Alloy), so
        it is matched after parsing."""
        return self.loki_selector + (f' |= "{name}"' if name else "")

    async def events(
        self, namespace: str | None, start: datetime, end: datetime, *,
        name: str | None = None, kind: str | None = None, timeout: float | None = None,
    ) -> SourceResult:
        """Events touching [start, end] (data: list[KubeEvent], newest first)."""
        started = time.perf_counter()
        calls, labels = [], []
        if self.kube is not None:
            fields = ",".join(f"involvedObject.{k}={v}" for k, v in
                              (("kind", kind), ("name", name)) if v) or None
            calls.append(self.kube.list("events", namespace, field_selector=fields,
                                        timeout=timeout))
            labels.append("kubernetes")
        if self.loki is not None:
            calls.append(self.loki.query_range(self.loki_query(name), start, end,
                                               limit=self.loki_limit, timeout=timeout))
            labels.append("loki")
        answers = list(await asyncio.gather(*calls))
        found: list[ev.KubeEvent] = []
        result = SourceResult(source="kubernetes", status=Status.OK,
                              query=" + ".join(a.query for a in answers) or "events",
                              range=TimeRange(start=start, end=end))
        for label, answer in zip(labels, answers):
            if answer.failed:
                result.warnings.append(f"events from {label} unavailable: "
                                       f"{answer.status.value}: {answer.error}")
            elif answer.ok and label == "kubernetes":
                found += [ev.from_api(item) for item in answer.data]
            elif answer.ok:
                parsed = (ev.from_log_line(ln.line, ln.labels, ln.ts_ns) for ln in answer.data)
                found += [e for e in parsed if e is not None]
            result.warnings += answer.warnings
        found = [e for e in found if _matches(e, namespace, kind, name)]
        result.data = ev.within(ev.merge(found), start, end)
        failures = [a for a in answers if a.failed]
        if not answers:
            result.status, result.error = Status.ERROR, "no events source configured"
        elif len(failures) == len(answers):
            result.status, result.error = failures[0].status, failures[0].error
        elif not result.data:
            result.status = Status.EMPTY
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        return result


def _matches(event: ev.KubeEvent, namespace: str | None, kind: str | None,
             name: str | None) -> bool:
    return ((not namespace or event.namespace == namespace) and (not kind or event.kind == kind)
            and (not name or event.name == name))
