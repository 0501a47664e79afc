"""Containers that cannot run, from the API's pod status: waiting reasons and how they died.

Metrics show *that* pods restart; the pod status says *why*: an image that
cannot be pulled, a Secret or ConfigMap key that is missing, a process that
exits at start.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import ClassVar

from detectors.context import InvestigationContext, Subject
from detectors.finding import Finding, Severity
from detectors.kube_objects import container_statuses, replicaset_owners, workload_of_pod
from detectors.registry import register

SIGNALS = {
    "ImagePullBackOff": "image-pull", "ErrImagePull": "image-pull", "InvalidImageName": "image-pull",
    "CreateContainerConfigError": "config-error", "CreateContainerError": "config-error",
    "RunContainerError": "config-error", "CrashLoopBackOff": "crash-exit",
}


@register
class PodStatesDetector:
    name: ClassVar[str] = "pod-states"

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        if ctx.kube is None:
            return []
        pods, rss = await asyncio.gather(ctx.kube_list("pods"), ctx.kube_list("replicasets"))
        if pods is None or not pods.ok:
            return []
        owners = replicaset_owners(rss.data if rss is not None and rss.ok else [])
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        subjects: dict[tuple[str, str], Subject] = {}
        for pod in pods.data:
            name = pod["metadata"]["name"]
            for cs in container_statuses(pod):
                waiting = (cs.get("state") or {}).get("waiting") or {}
                reason = waiting.get("reason", "")
                if reason not in SIGNALS:
                    continue
                last = (cs.get("lastState") or {}).get("terminated") or {}
                signal = SIGNALS[reason]
                if signal == "crash-exit" and last.get("reason") == "OOMKilled":
                    signal = "oom-killed"
                detail = f"{name}/{cs.get('name')}: {reason}"
                if waiting.get("message"):
                    detail += f": {waiting['message']}"
                if last:
                    detail += (f" (last exit {last.get('exitCode')} {last.get('reason', '')}, "
                               f"{cs.get('restartCount', 0)} restarts)")
                key = (str(workload_of_pod(pod, owners)), signal)
                subjects[key] = workload_of_pod(pod, owners)
                groups[key].append(detail)
        return [self._finding(subjects[key], key[1], lines, pods) for key, lines in groups.items()]

    def _finding(self, subject: Subject, signal: str, lines: list[str], pods) -> Finding:
        reasons = sorted({line.split(": ")[1] for line in lines})
        return Finding(
            detector=self.name, signal=signal, subject=subject,
            severity=Severity.PAGE if len(lines) >= 2 else Severity.WARNING,
            score=round(min(1.0, 0.6 + 0.1 * len(lines)), 3), window="now",
            title=f"{subject.kind} {subject.name}: {len(lines)} container(s) waiting in {', '.join(reasons)}",
            details=sorted(lines)[:10], facts={"containers": len(lines), "reasons": reasons},
            evidence=[pods],
        )
