"""`oncall agent-run` against a live cluster: sweep namespaces, speak only on news.

Alertmanager pages on the rules someone wrote; the sweep runs every detector
over whole namespaces on a timer and catches what no rule covers yet. To stay
worth reading it posts only when a namespace has a finding at or above the
threshold that it has not already posted (same detector, same subject), keeps
one thread per namespace, and marks that thread resolved once the namespace is
clean again. `--once` sweeps one round and prints the reports, posting nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from adapters.prometheus import PrometheusClient
from bot.chat import ChatSink
from bot.ownership import OwnershipMap
from bot.store import GroupView
from detectors import Finding, Severity
from reasoning import Report
from reasoning.investigate import investigate
from reasoning.page import Page, PageAlert

SWEEP_ALERT = "OncallSweep"


def sweep_page(namespace: str) -> Page:
    """The namespace as a page, so the sweep runs exactly what a real page runs."""
    labels = {"alertname": SWEEP_ALERT, "namespace": namespace, "severity": "info"}
    summary = {"summary": f"scheduled sweep of namespace {namespace}"}
    return Page(group_key=f"oncall-sweep:{namespace}", status="firing", common_labels=labels,
                common_annotations=summary,
                alerts=[PageAlert(fingerprint=f"sweep-{namespace}", status="firing",
                                  labels=labels, annotations=summary)])


def over_threshold(findings: list[Finding], threshold: Severity) -> dict[str, Finding]:
    """Findings at or above `threshold`, keyed by what they are about (detector + subject)."""
    out: dict[str, Finding] = {}
    for f in findings:
        if f.severity.rank >= threshold.rank:
            s = f.subject
            out.setdefault(f"{f.detector}|{s.namespace}|{s.kind}|{s.name}", f)
    return out


@dataclass
class Thread:
    """What was last said about one namespace."""

    group: GroupView
    keys: set[str] = field(default_factory=set)


@dataclass
class Outcome:
    namespace: str
    report: Report
    crossed: list[str]
    action: str  # "posted", "updated", "resolved", "quiet"


class Sweeper:
    """One round investigates every namespace; chat hears only what is new."""

    def __init__(self, prometheus: PrometheusClient, namespaces: list[str], *,
                 threshold: Severity = Severity.PAGE, sink: ChatSink | None = None,
                 ownership: OwnershipMap | None = None, default_channel: str = "",
                 deadline: float = 8.0, investigate_kwargs: dict | None = None) -> None:
        self.prometheus, self.namespaces, self.threshold = prometheus, namespaces, threshold
        self.sink, self.ownership, self.default_channel = sink, ownership, default_channel
        self.deadline, self.kwargs = deadline, investigate_kwargs or {}
        self.threads: dict[str, Thread] = {}

    async def round(self, at: datetime | None = None) -> list[Outcome]:
        outcomes = []
        for namespace in self.namespaces:  # one at a time: each already fans out in parallel
            report = await investigate(sweep_page(namespace), self.prometheus, at=at,
                                       deadline=self.deadline, **self.kwargs)
            crossed = over_threshold(report.findings, self.threshold)
            action = await self._tell(namespace, report, crossed) if self.sink else "quiet"
            outcomes.append(Outcome(namespace, report, sorted(crossed), action))
        return outcomes

    async def _tell(self, namespace: str, report: Report, crossed: dict[str, Finding]) -> str:
        assert self.sink is not None
        thread = self.threads.get(namespace)
        if not crossed:
            if thread is None or thread.group.status == "resolved":
                return "quiet"
            thread.group.status, thread.group.firing = "resolved", 0
            thread.group.resolved_at = time.time()
            await self.sink.update_parent(thread.group)
            return "resolved"
        if thread is not None and thread.group.status == "firing" and set(crossed) <= thread.keys:
            return "quiet"  # nothing new since the last post
        worst = max((f.severity for f in crossed.values()), key=lambda s: s.rank)
        titles = sorted({f.title for f in crossed.values()})
        if thread is None:
            thread = self.threads[namespace] = Thread(self._group(namespace, worst, titles))
            channel = (self.ownership.resolve({"namespace": namespace}).channel
                       if self.ownership else None)
            thread.group.channel = channel or self.default_channel or None
            thread.group.channel, thread.group.thread_ts = await self.sink.post_parent(thread.group)
            action = "posted"
        else:
            g, fresh = thread.group, self._group(namespace, worst, titles)
            g.status, g.resolved_at, g.severity = "firing", None, worst.value
            g.title, g.summary, g.firing, g.total = fresh.title, fresh.summary, fresh.firing, fresh.total
            await self.sink.update_parent(g)
            action = "updated"
        thread.keys = set(crossed)
        await self.sink.post_report(thread.group, report)
        return action

    def _group(self, namespace: str, worst: Severity, titles: list[str]) -> GroupView:
        return GroupView(
            group_key=f"oncall-sweep:{namespace}", status="firing", severity=worst.value,
            title=f"Sweep of {namespace}: {len(titles)} finding{'s' if len(titles) != 1 else ''}",
            summary="; ".join(titles)[:300], channel=None, thread_ts=None,
            first_seen=time.time(), resolved_at=None, firing=len(titles), total=len(titles),
            external_url="", labels={"namespace": namespace, "alertname": SWEEP_ALERT})
