"""Nodes NotReady or under memory/disk/PID pressure, with the page's pods on them."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import ClassVar

from detectors.context import InvestigationContext, Subject
from detectors.finding import Finding, Severity
from detectors.promql import selector
from detectors.registry import register


@register
class NodeHealthDetector:
    name: ClassVar[str] = "node-health"

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        not_ready = 'max by (node) (kube_node_status_condition{condition="Ready",status=~"false|unknown"}) == 1'
        pressure = ('max by (node, condition) (kube_node_status_condition{condition=~"MemoryPressure|'
                    'DiskPressure|PIDPressure|NetworkUnavailable",status="true"}) == 1')
        placed = f"max by (node, pod) ({selector('kube_pod_info', namespace=ctx.namespace)})"
        down, pressed, pods = await asyncio.gather(*(ctx.instant(q) for q in (not_ready, pressure, placed)))
        on_node: dict[str, list[str]] = defaultdict(list)
        for s in pods.data or [] if pods.ok else []:
            on_node[s.labels.get("node", "")].append(s.labels.get("pod", ""))
        problems: dict[str, list[str]] = defaultdict(list)
        for s in down.data or [] if down.ok else []:
            problems[s.labels.get("node", "")].append("NotReady")
        for s in pressed.data or [] if pressed.ok else []:
            problems[s.labels.get("node", "")].append(s.labels.get("condition", "Pressure"))
        out = []
        for node, conditions in problems.items():
            affected = sorted(on_node.get(node, []))
            is_down = "NotReady" in conditions
            out.append(Finding(
                detector=self.name, signal="node-not-ready" if is_down else "node-pressure",
                subject=Subject(namespace=None, kind="Node", name=node),
                severity=Severity.PAGE if is_down and affected else Severity.WARNING,
                score=round(min(1.0, (0.6 if is_down else 0.4) + 0.05 * len(affected)), 3), window="now",
                title=f"Node {node}: {', '.join(conditions)}; {len(affected)} pod(s) of "
                      f"{ctx.namespace or 'the cluster'} on it",
                details=affected, facts={"conditions": conditions, "pods": affected},
                evidence=[down if is_down else pressed, pods],
            ))
        return out
