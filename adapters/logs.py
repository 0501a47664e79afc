"""Workload logs from Loki, or from the pod log API where no Loki is configured.

Both paths answer with the same envelope (source, LogQL-or-API query, range,
data: list[LogLine] in the asked direction), so detectors and renderers never
care which one ran. The fallback reads each matching pod's current container
log and, when a container restarted inside the window, its previous one too:
that is where an OOM-killed process's last words are.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import Any

from adapters.envelope import SourceResult, Status, TimeRange
from adapters.kube import KubeClient, rfc3339_ns
from adapters.loki import LogLine, LokiClient


class LogReader:
    """Pod and workload logs; Loki when available, the Kubernetes API otherwise."""

    def __init__(self, loki: LokiClient | None, kube: KubeClient | None, *,
                 tail_per_container: int = 5000) -> None:
        self.loki, self.kube = loki, kube
        self.tail_per_container = tail_per_container

    async def logs(
        self, namespace: str, start: datetime, end: datetime, *,
        labels: dict[str, str] | None = None, pod: str | None = None,
        contains: str | None = None, limit: int = 1000, direction: str = "backward",
        timeout: float | None = None,
    ) -> SourceResult:
        """Lines of the pods matching `labels` (or the one `pod`) in [start, end]."""
        if self.loki is not None:
            expr = logql(namespace, labels, pod, contains)
            return await self.loki.query_range(expr, start, end, limit=limit,
                                               direction=direction, timeout=timeout)
        if self.kube is not None:
            return await self._from_api(namespace, start, end, labels, pod, contains, limit,
                                        direction, timeout)
        return SourceResult(source="loki", status=Status.ERROR, query="logs",
                            error="neither Loki nor the Kubernetes API is configured")

    async def _from_api(
        self, namespace: str, start: datetime, end: datetime, labels: dict[str, str] | None,
        pod: str | None, contains: str | None, limit: int, direction: str,
        timeout: float | None,
    ) -> SourceResult:
        assert self.kube is not None
        started = time.perf_counter()
        selector = ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items())) or None
        if pod:
            found = await self.kube.get("pods", pod, namespace, timeout=timeout)
            pods = [found.data] if found.ok else []
        else:
            found = await self.kube.list("pods", namespace, label_selector=selector,
                                         timeout=timeout)
            pods = found.data if found.ok else []
        result = SourceResult(source="kubernetes", status=Status.OK,
                              query=_describe(namespace, selector, pod, contains),
                              range=TimeRange(start=start, end=end))
        if not found.ok:
            result.status, result.error = found.status, found.error
            result.elapsed_ms = (time.perf_counter() - started) * 1000
            return result
        since = max(1, int((datetime.now(timezone.utc) - start).total_seconds()) + 1)
        calls = [self.kube.pod_logs(namespace, name, container=c, previous=prev,
                                    tail=self.tail_per_container,
                                    since_seconds=None if prev else since, timeout=timeout)
                 for name, c, prev in _containers(pods, start)]
        answers = await asyncio.gather(*calls)
        lo, hi = _ns(start), _ns(end)
        lines: list[LogLine] = []
        for (name, container, prev), answer in zip(_containers(pods, start), answers):
            if answer.failed:
                which = f"{name}/{container}{' (previous)' if prev else ''}"
                result.warnings.append(f"{which}: {answer.status.value}: {answer.error}")
                continue
            for ln in answer.data or []:
                if lo <= ln.ts_ns <= hi and (not contains or contains in ln.line):
                    lines.append(LogLine(ln.ts_ns, {**ln.labels, "container": container},
                                         ln.line))
        lines.sort(key=lambda ln: ln.ts_ns, reverse=direction == "backward")
        if len(lines) > limit:
            result.warnings.append(f"stopped at the cap of {limit} lines; more exist")
        result.data = lines[:limit]
        if not result.data:
            both_failed = calls and all(a.failed for a in answers)
            result.status = Status.ERROR if both_failed else Status.EMPTY
            result.error = answers[0].error if both_failed else None
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        return result


def logql(namespace: str, labels: dict[str, str] | None, pod: str | None,
          contains: str | None) -> str:
    """The LogQL stream selector (and line filter) for the same question."""
    matchers = {"namespace": namespace, **(labels or {}), **({"pod": pod} if pod else {})}
    selector = ", ".join(f'{k}="{_quote(v)}"' for k, v in matchers.items())
    return "{" + selector + "}" + (f' |= "{_quote(contains)}"' if contains else "")


def _containers(pods: list[dict[str, Any]], start: datetime) -> list[tuple[str, str, bool]]:
    """(pod, container, previous?) to read: every container, plus the previous instance
    of those whose last termination ended inside the window."""
    out = []
    for pod in pods:
        name = pod["metadata"]["name"]
        statuses = {s["name"]: s for s in (pod.get("status") or {}).get("containerStatuses")
                    or []}
        for spec in (pod.get("spec") or {}).get("containers") or []:
            out.append((name, spec["name"], False))
            last = ((statuses.get(spec["name"]) or {}).get("lastState") or {}).get("terminated")
            finished = rfc3339_ns((last or {}).get("finishedAt") or "")
            if finished is not None and finished >= _ns(start):
                out.append((name, spec["name"], True))
    return out


def _describe(namespace: str, selector: str | None, pod: str | None,
              contains: str | None) -> str:
    what = f"pods/{pod}" if pod else "pods" + (f"?labelSelector={selector}" if selector else "")
    grep = f' |= "{contains}"' if contains else ""
    return f"GET /api/v1/namespaces/{namespace}/{what} -> pods/log{grep}"


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _ns(when: datetime) -> int:
    return int(when.timestamp()) * 10**9 + when.microsecond * 1000
