"""Recent rollouts: a ReplicaSet whose pods appeared within the last two hours.

Seen from kube-state-metrics alone (kube_pod_info's created_by_name), so it
works without API access; the age comes from when the new ReplicaSet's pods
were first scraped.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import ClassVar

from detectors.context import InvestigationContext
from detectors.finding import Finding, Severity
from detectors.kube_objects import images, parse_time
from detectors.promql import selector
from detectors.registry import register
from detectors.workloads import owner_of

LOOKBACK = "2h"


@register
class RolloutDetector:
    name: ClassVar[str] = "rollout"

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        pods = selector("kube_pod_info", namespace=ctx.namespace, created_by_kind="ReplicaSet")
        by = "count by (namespace, created_by_name)"
        new = f"{by} ({pods}) unless {by} ({pods} offset {LOOKBACK})"
        first_seen = f"min_over_time(timestamp({by} ({pods}))[{LOOKBACK}:1m])"
        before = f"{by} ({pods} offset {LOOKBACK})"
        data_start = f"min_over_time(timestamp(count({pods}))[{LOOKBACK}:1m])"
        fresh, seen, old, start, rss = await asyncio.gather(
            ctx.instant(new), ctx.instant(first_seen), ctx.instant(before), ctx.instant(data_start),
            ctx.kube_list("replicasets"))
        if not fresh.ok:
            return []
        objects = {r["metadata"]["name"]: r for r in (rss.data if rss is not None and rss.ok else [])}
        recorded_from = start.data[0].value if start.ok and start.data else None
        since = {s.labels.get("created_by_name"): s.value for s in seen.data or []}
        previous: dict[str, list[str]] = {}
        for s in old.data or []:
            rs = s.labels.get("created_by_name", "")
            previous.setdefault(owner_of("ReplicaSet", rs, "", None).name, []).append(rs)
        now = ctx.at.timestamp() if ctx.at else time.time()
        out = []
        for s in fresh.data:
            rs = s.labels.get("created_by_name", "")
            subject = owner_of("ReplicaSet", rs, "", s.labels.get("namespace") or ctx.namespace)
            created = parse_time((objects.get(rs) or {}).get("metadata", {}).get("creationTimestamp"))
            if created is not None:  # the API knows when it was made
                age_min = (now - created.timestamp()) / 60
                if age_min > 120:
                    continue
            elif rs in since and recorded_from is not None and since[rs] - recorded_from < 300:
                continue  # present since metrics began: no way to tell it is new
            else:
                age_min = (now - since[rs]) / 60 if rs in since else None
            replaced = sorted(previous.get(subject.name, []))
            recent = age_min is not None and age_min <= 60
            change = _image_change(objects.get(rs), [objects[r] for r in replaced if r in objects])
            evidence = [fresh, seen] + ([rss] if change else [])
            out.append(Finding(
                detector=self.name, signal="new-rollout", subject=subject,
                severity=Severity.WARNING, score=0.9 if recent else 0.6, window=LOOKBACK,
                started=created or (datetime.fromtimestamp(now - age_min * 60, timezone.utc)
                                    if age_min is not None else None),
                title=(f"Deployment {subject.name} rolled out ReplicaSet {rs}"
                       + (f" {age_min:.0f} min ago" if age_min is not None else " recently")
                       + (f", replacing {', '.join(replaced)}" if replaced else "")
                       + (f": {change}" if change else "")),
                details=[f"{s.value:.0f} pod(s) of the new ReplicaSet running"],
                facts={"replicaset": rs, "age_minutes": age_min, "replaced": replaced, "pods": s.value,
                       "change": change},
                evidence=evidence,
            ))
        return out


def _image_change(new: dict | None, old: list[dict]) -> str | None:
    """`image repo:v2 (was repo:v1), revision 8` from the ReplicaSets' pod templates."""
    if new is None:
        return None
    now = images(new)
    before = [i for r in old for i in images(r) if i not in now]
    revision = (new["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
    text = f"image {', '.join(i.rsplit('/', 1)[-1] for i in now)}"
    if before:
        text += f" (was {', '.join(sorted({i.rsplit('/', 1)[-1] for i in before}))})"
    return text + (f", revision {revision}" if revision else "")
