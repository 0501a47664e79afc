"""The last N log lines of a container's current and previous instance, and their error signatures.

An OOM-killed or crashing process leaves its last words in the *previous*
instance, so both are read: each over its own lifetime (from the pod status),
through LogReader (Loki when configured, else the pod log API). Error lines
are grouped by template (detectors.logsig) so "4,000 timeouts" reads as one
line with a count, a first-seen time and an example.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from adapters.envelope import SourceResult
from adapters.kube_describe import ContainerSummary, PodSummary
from adapters.logs import LogReader
from adapters.loki import LogLine
from detectors.kube_objects import parse_time
from detectors.log_signals import is_error
from detectors.logsig import TemplateMiner

Instance = Literal["current", "previous"]
LOOKBACK = timedelta(hours=24)  # a previous instance whose start time is unknown


class LogScan(BaseModel):
    """What was read for one container instance."""

    pod: str
    container: str
    instance: Instance
    source: str
    lines: int
    error_lines: int
    start: datetime
    end: datetime


def readable(template: str) -> str:
    """The template without its leading header wildcards (`<*> <*> <*> --- [app]` ...)."""
    return re.sub(r"^(?:(?:<\*>|-+|\d+|[A-Z]+)\s+)+", "", template) or template


class Signature(BaseModel):
    """One error template in the lines read, with where and when it showed."""

    template_id: str
    template: str
    count: int
    current: int = Field(description="of which in current containers")
    previous: int = Field(description="of which in previous (terminated) containers")
    first_seen: datetime
    last_seen: datetime
    pods: list[str]
    example: str


@dataclass
class Read:
    """One instance's lines, and the call that fetched them (without its payload)."""

    scan: LogScan
    lines: list[LogLine]
    result: SourceResult


async def read_pod(reader: LogReader, pod: PodSummary, lines: int, at: datetime,
                   timeout: float | None = None) -> list[Read]:
    """The last `lines` lines of every container instance of the pod (current, previous)."""
    calls = []
    for c in pod.containers:
        for instance, window in _windows(c, at):
            calls.append(_read(reader, pod, c.name, instance, window, lines, timeout))
    return list(await asyncio.gather(*calls))


def _windows(c: ContainerSummary, at: datetime) -> list[tuple[Instance, tuple[datetime, datetime]]]:
    """Lifetimes from the status: the running (or finished) instance, then the last one."""
    out: list[tuple[Instance, tuple[datetime, datetime]]] = []
    since = parse_time(c.since)
    if c.state in ("running", "terminated") and since is not None:
        out.append(("current", (since, at)))
    last = c.last_termination or {}
    if last:
        end = parse_time(last.get("finishedAt")) or at
        out.append(("previous", (parse_time(last.get("startedAt")) or end - LOOKBACK, end)))
    return out


async def _read(reader: LogReader, pod: PodSummary, container: str, instance: Instance,
                window: tuple[datetime, datetime], lines: int, timeout: float | None) -> Read:
    start, end = window
    result = await reader.logs(pod.namespace, start, end, pod=pod.name,
                               labels={"container": container}, limit=lines,
                               direction="backward", timeout=timeout)
    got = [ln for ln in (result.data or []) if ln.labels.get("container", container) == container]
    got = sorted(got, key=lambda ln: ln.ts_ns)[-lines:] if result.ok else []
    scan = LogScan(pod=pod.name, container=container, instance=instance, source=result.source,
                   lines=len(got), error_lines=sum(is_error(ln.line) for ln in got),
                   start=start, end=end)
    return Read(scan=scan, lines=got, result=result.model_copy(update={"data": None}))


def signatures(reads: list[Read], top: int = 5) -> list[Signature]:
    """Error templates over every instance read, most frequent first."""
    miner = TemplateMiner()
    stats: dict[str, dict] = {}
    ordered = sorted(((ln, r.scan) for r in reads for ln in r.lines), key=lambda x: x[0].ts_ns)
    for line, scan in ordered:
        if not is_error(line.line):
            continue
        match = miner.add(line.line)
        s = stats.setdefault(match.template_id, {"count": 0, "current": 0, "previous": 0,
                                                 "first": line.time, "last": line.time,
                                                 "pods": set(), "example": line.line})
        s["count"] += 1
        s[scan.instance] += 1
        s["last"] = line.time
        s["pods"].add(scan.pod)
    best = sorted(stats.items(), key=lambda kv: (-kv[1]["count"], kv[1]["first"]))[:top]
    return [Signature(template_id=tid, template=miner.template(tid) or "", count=s["count"],
                      current=s["current"], previous=s["previous"], first_seen=s["first"],
                      last_seen=s["last"], pods=sorted(s["pods"]), example=s["example"][:500])
            for tid, s in best]
