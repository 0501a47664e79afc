"""Run an investigation's source calls at once, under one deadline.

The page must be answered in seconds even when a source is slow or dead, so
every call starts immediately (within per-source concurrency limits that spare
a struggling backend), and at the deadline whatever has not finished becomes a
TIMEOUT envelope. A call that raises becomes an ERROR envelope. The result
always has one envelope per call, in call order, and names the failed sources.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Mapping, Sequence

from adapters.envelope import SourceResult, Status

DEFAULT_LIMITS = {"prometheus": 16, "loki": 8, "kubernetes": 8}


@dataclass(frozen=True)
class Call:
    """One pending source call: what it is (for the envelope if it never answers) and
    how to make it."""

    source: str
    query: str
    run: Callable[[], Awaitable[SourceResult]]


@dataclass
class FanoutResult:
    results: list[SourceResult]
    elapsed_ms: float
    failures: dict[str, list[str]] = field(default_factory=dict)

    def failed_sources(self) -> list[str]:
        return sorted(self.failures)

    def summary(self) -> str:
        """One line for a report: which sources failed and how."""
        if not self.failures:
            return "all sources answered"
        return "; ".join(f"{src}: {', '.join(sorted(set(why)))}"
                         for src, why in sorted(self.failures.items()))


async def fan_out(
    calls: Sequence[Call], *, deadline: float,
    limits: Mapping[str, int] | None = None, default_limit: int = 4,
) -> FanoutResult:
    """Run `calls` concurrently; return within `deadline` seconds, one envelope per call."""
    started = time.perf_counter()
    limits = {**DEFAULT_LIMITS, **(limits or {})}
    gates = {src: asyncio.Semaphore(limits.get(src, default_limit))
             for src in {c.source for c in calls}}

    async def guarded(call: Call) -> SourceResult:
        async with gates[call.source]:
            return await call.run()

    tasks = [asyncio.create_task(guarded(c)) for c in calls]
    if tasks:
        await asyncio.wait(tasks, timeout=max(deadline, 0.0))
    results = []
    for call, task in zip(calls, tasks):
        results.append(_outcome(call, task, deadline))
        if not task.done():
            task.cancel()
    failures: dict[str, list[str]] = {}
    for r in results:
        if r.failed:
            failures.setdefault(r.source, []).append(r.status.value)
    return FanoutResult(results, (time.perf_counter() - started) * 1000, failures)


def _outcome(call: Call, task: asyncio.Task[SourceResult], deadline: float) -> SourceResult:
    if not task.done():
        return SourceResult(source=call.source, status=Status.TIMEOUT, query=call.query,
                            error=f"no answer within the {deadline:g}s investigation deadline",
                            elapsed_ms=deadline * 1000)
    if task.cancelled():
        return SourceResult(source=call.source, status=Status.ERROR, query=call.query,
                            error="cancelled")
    exc = task.exception()
    if exc is not None:
        return SourceResult(source=call.source, status=Status.ERROR, query=call.query,
                            error=f"{type(exc).__name__}: {exc}")
    result = task.result()
    if not isinstance(result, SourceResult):
        return SourceResult(source=call.source, status=Status.ERROR, query=call.query,
                            error=f"returned {type(result).__name__}, not a SourceResult")
    return result
