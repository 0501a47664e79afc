"""`kubectl describe pod`, distilled: what an on-call engineer reads first.

A pod alone says little; its owner chain (Pod -> ReplicaSet -> Deployment)
names the workload to act on, container states and the last termination say
how it died (OOMKilled, exit 137), and recent events say what the cluster did
about it. Missing pieces (a forbidden owner, unreachable events) become
warnings on an otherwise useful summary.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import BaseModel

from adapters import events as ev
from adapters.envelope import SourceResult, Status
from adapters.kube import KubeClient
from adapters.kube_allowlist import BY_KIND

Json = dict[str, Any]
MAX_OWNER_DEPTH = 4


class ContainerSummary(BaseModel):
    name: str
    image: str | None = None
    ready: bool = False
    restarts: int = 0
    state: str = "unknown"  # running | waiting | terminated
    reason: str | None = None
    since: str | None = None
    last_termination: Json | None = None  # reason, exitCode, startedAt, finishedAt
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}


class PodSummary(BaseModel):
    namespace: str
    name: str
    phase: str | None = None
    node: str | None = None
    owners: list[str] = []  # nearest first: ["ReplicaSet/x", "Deployment/y"]
    containers: list[ContainerSummary] = []
    conditions: dict[str, str] = {}
    events: list[ev.KubeEvent] = []

    def render(self) -> str:
        """Plain text in the spirit of `kubectl describe`, for chat and prompts."""
        lines = [f"Pod {self.namespace}/{self.name}  phase={self.phase}  node={self.node}"]
        if self.owners:
            lines.append("Owned by: " + " -> ".join(self.owners))
        for c in self.containers:
            lines.append(f"  {c.name}: {c.state}{f' ({c.reason})' if c.reason else ''}"
                         f" ready={c.ready} restarts={c.restarts}"
                         + (f" limits={c.limits}" if c.limits else ""))
            if c.last_termination:
                t = c.last_termination
                lines.append(f"    last terminated: {t.get('reason')} exit={t.get('exitCode')}"
                             f" at {t.get('finishedAt')}")
        for e in self.events:
            lines.append(f"  event {e.type} {e.reason} x{e.count} (last {e.last}): {e.message}")
        return "\n".join(lines)


async def describe_pod(kube: KubeClient, namespace: str, name: str, *,
                       events_limit: int = 10, timeout: float | None = None) -> SourceResult:
    """A PodSummary as `data`; EMPTY if the pod does not exist."""
    started = time.perf_counter()
    found = await kube.get("pods", name, namespace, timeout=timeout)
    if not found.ok:
        return found
    pod: Json = found.data
    owners_task = asyncio.create_task(owner_chain(kube, namespace, pod, timeout=timeout))
    events = await kube.list("events", namespace, timeout=timeout,
                             field_selector=f"involvedObject.name={name}")
    owners, owner_warnings = await owners_task
    summary = summarize(pod)
    summary.owners = owners
    result = SourceResult(source="kubernetes", status=Status.OK,
                          query=f"describe pod {namespace}/{name}", data=summary,
                          warnings=owner_warnings)
    if events.failed:
        result.warnings.append(f"events: {events.status.value}: {events.error}")
    elif events.ok:
        summary.events = ev.merge(ev.from_api(i) for i in events.data)[:events_limit]
    result.elapsed_ms = (time.perf_counter() - started) * 1000
    return result


async def owner_chain(kube: KubeClient, namespace: str, obj: Json, *,
                      timeout: float | None = None) -> tuple[list[str], list[str]]:
    """Follow controller ownerReferences upwards; returns (chain, warnings)."""
    chain: list[str] = []
    warnings: list[str] = []
    for _ in range(MAX_OWNER_DEPTH):
        refs = (obj.get("metadata") or {}).get("ownerReferences") or []
        ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
        if ref is None:
            break
        chain.append(f"{ref['kind']}/{ref['name']}")
        resource = BY_KIND.get(ref["kind"])
        if resource is None:  # a custom controller (Rollout, ...): name it, do not read it
            break
        parent = await kube.get(resource, ref["name"], namespace, timeout=timeout)
        if not parent.ok:
            warnings.append(f"{ref['kind']}/{ref['name']}: {parent.status.value}: "
                            f"{parent.error}")
            break
        obj = parent.data
    return chain, warnings


def summarize(pod: Json) -> PodSummary:
    """The pod's own fields, without any further API call."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    statuses = {s.get("name"): s for s in status.get("containerStatuses") or []}
    containers = []
    for c in spec.get("containers") or []:
        st = statuses.get(c.get("name")) or {}
        state_name, detail = next(iter((st.get("state") or {}).items()), ("unknown", {}))
        resources = c.get("resources") or {}
        last = (st.get("lastState") or {}).get("terminated")
        containers.append(ContainerSummary(
            name=c.get("name", "?"), image=c.get("image"), ready=bool(st.get("ready")),
            restarts=int(st.get("restartCount") or 0), state=state_name,
            reason=(detail or {}).get("reason"),
            since=(detail or {}).get("startedAt") or (detail or {}).get("finishedAt"),
            last_termination={k: last.get(k) for k in ("reason", "exitCode", "startedAt",
                                                       "finishedAt")} if last else None,
            requests={k: str(v) for k, v in (resources.get("requests") or {}).items()},
            limits={k: str(v) for k, v in (resources.get("limits") or {}).items()}))
    return PodSummary(
        namespace=meta.get("namespace", ""), name=meta.get("name", ""),
        phase=status.get("phase"), node=spec.get("nodeName"), containers=containers,
        conditions={c.get("type"): c.get("status") for c in status.get("conditions") or []})
