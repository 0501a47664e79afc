"""Workloads running fewer ready replicas than they want (Deployments and StatefulSets)."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from detectors.context import InvestigationContext, Subject
from detectors.finding import Finding, Severity
from detectors.promql import selector
from detectors.registry import register


@register
class ReplicasDetector:
    name: ClassVar[str] = "replicas"

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        ns = ctx.namespace
        deploy = (f"max by (namespace, deployment) ({selector('kube_deployment_status_replicas_unavailable', namespace=ns)}) > 0")
        sts = (f"max by (namespace, statefulset) ({selector('kube_statefulset_replicas', namespace=ns)})"
               f" - max by (namespace, statefulset) ({selector('kube_statefulset_status_replicas_ready', namespace=ns)}) > 0")
        desired = f"max by (namespace, deployment) ({selector('kube_deployment_spec_replicas', namespace=ns)})"
        d, s, want = await asyncio.gather(ctx.instant(deploy), ctx.instant(sts), ctx.instant(desired))
        wanted = {x.labels.get("deployment"): x.value for x in want.data or []}
        out = []
        for result, kind, label in ((d, "Deployment", "deployment"), (s, "StatefulSet", "statefulset")):
            for x in result.data or [] if result.ok else []:
                name = x.labels.get(label, "?")
                total = wanted.get(name) if kind == "Deployment" else None
                share = x.value / total if total else 1.0
                out.append(Finding(
                    detector=self.name, signal="replicas-unavailable",
                    subject=Subject(namespace=x.labels.get("namespace") or ns, kind=kind, name=name),
                    severity=Severity.PAGE if share >= 0.5 else Severity.WARNING,
                    score=round(min(1.0, 0.4 + 0.5 * share), 3), window="now",
                    title=f"{kind} {name}: {x.value:.0f} replica(s) unavailable"
                          + (f" of {total:.0f}" if total else ""),
                    facts={"unavailable": x.value, "desired": total},
                    evidence=[result],
                ))
        return out
