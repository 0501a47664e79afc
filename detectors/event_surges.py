"""Warning-event surges per workload against the preceding hours.

Events come from the API and, where an exporter ships them, from Loki (the
API keeps about an hour). Reasons map to signals; counts of the last 30 minutes
are compared with the baseline rate so a chronic warning does not look new.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import timedelta
from typing import ClassVar

from detectors.context import InvestigationContext, Subject
from detectors.finding import Finding, Severity
from detectors.kube_objects import object_workload, replicaset_owners, workload_of_pod
from detectors.registry import register

RECENT = timedelta(minutes=30)
HISTORY = timedelta(hours=6)
SURGE = 3.0

# event reason -> signal; (reason, message words) refine the ambiguous ones
REASONS = {
    "FailedScheduling": "failed-scheduling", "OOMKilling": "oom-killed", "Evicted": "evicted",
    "Evicting": "evicted", "NodeNotReady": "node-not-ready", "NodeNotSchedulable": "node-not-ready",
    "EvictionThresholdMet": "node-pressure", "FreeDiskSpaceFailed": "node-pressure",
    "SystemOOM": "node-pressure", "ErrImagePull": "image-pull", "ImagePullBackOff": "image-pull",
    "FailedMount": "config-error", "FailedCreatePodSandBox": "node-pressure",
    "Unhealthy": "probe-failing", "BackOff": "crash-exit", "Failed": "failed",
}


def signal_of(reason: str, message: str) -> str:
    text = message.lower()
    if reason in ("BackOff", "Failed") and ("image" in text or "pull" in text):
        return "image-pull"
    if reason == "Failed" and ("secret" in text or "configmap" in text or "config" in text):
        return "config-error"
    return REASONS.get(reason, "warning-events")


@register
class EventSurgeDetector:
    name: ClassVar[str] = "event-surges"

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        if ctx.events is None:
            return []
        start = ctx.at - HISTORY
        events = await ctx.once("events", lambda: ctx.events.events(
            ctx.namespace, start, ctx.at, timeout=ctx.query_timeout))
        if not events.ok:
            return []
        pods_r, rss_r = await asyncio.gather(ctx.kube_list("pods"), ctx.kube_list("replicasets"))
        owners = replicaset_owners(rss_r.data if rss_r is not None and rss_r.ok else [])
        pods = {p["metadata"]["name"]: workload_of_pod(p, owners)
                for p in (pods_r.data if pods_r is not None and pods_r.ok else [])}
        recent: dict[tuple[str, str], list] = defaultdict(list)
        before: dict[tuple[str, str], int] = defaultdict(int)
        subjects: dict[tuple[str, str], Subject] = {}
        for e in events.data:
            if e.type != "Warning" or e.last is None:
                continue
            subject = object_workload(e.kind, e.name, e.namespace or ctx.namespace, pods, owners)
            key = (str(subject), signal_of(e.reason, e.message))
            subjects[key] = subject
            if e.last >= ctx.at - RECENT:
                recent[key].append(e)
            else:
                before[key] += e.count
        out = []
        for key, items in recent.items():
            count = sum(e.count for e in items)
            baseline = before.get(key, 0) * RECENT / (HISTORY - RECENT)
            if count < 3 or count < SURGE * baseline:
                continue
            reasons = sorted({e.reason for e in items})
            samples = [f"{e.reason} ({e.object}, x{e.count}): {e.message}" for e in items[:5]]
            out.append(Finding(
                detector=self.name, signal=key[1], subject=subjects[key],
                severity=Severity.WARNING, score=round(min(1.0, 0.4 + 0.05 * count), 3), window="30m",
                started=min(e.first or e.last for e in items),
                title=(f"{subjects[key].kind} {subjects[key].name}: {count} Warning event(s) "
                       f"{'/'.join(reasons)} in 30 min (usually {baseline:.1f})"),
                details=samples, facts={"count": count, "baseline": baseline, "reasons": reasons},
                evidence=[events],
            ))
        return out
