"""Plain facts read off raw Kubernetes objects, shared by the health, triage and cost workflows.

Objects stay the API server's JSON (as adapters.kube returns them); these
helpers name the few fields the workflows need (resource quantities, owning
workload, readiness, why a pod waits) so each workflow reads them the same way.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Iterable

from adapters.events import KubeEvent
from detectors.kube_objects import container_statuses, parse_time, workload_of_pod

Json = dict[str, Any]
GiB = float(2**30)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
PRESSURE = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")


_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([a-zA-Z]*)$")
_SUFFIX = {"": 1.0, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
           "P": 1e15, "E": 1e18, "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40,
           "Pi": 2.0**50, "Ei": 2.0**60}


def quantity(value: object) -> float | None:
    """A resource quantity: `500m` -> 0.5, `768Mi` -> 805306368.0, `1e3` -> 1000.0; None
    when absent or unreadable. (Own parser: kubernetes.utils also holds write helpers.)"""
    match = _QUANTITY.match(str(value).strip()) if value not in (None, "") else None
    if not match or match.group(2) not in _SUFFIX:
        return None
    return float(match.group(1)) * _SUFFIX[match.group(2)]


def meta(obj: Json) -> Json:
    return obj.get("metadata") or {}


def workload(pod: Json, rs_owners: dict[str, str]) -> str:
    """`Deployment/checkout`, `StatefulSet/db`, or `Pod/name` for a bare pod."""
    subject = workload_of_pod(pod, rs_owners)
    return f"{subject.kind}/{subject.name}"


def containers(pod: Json) -> list[Json]:
    return list((pod.get("spec") or {}).get("containers") or [])


def resources(container: Json, kind: str) -> dict[str, float]:
    """A container's `requests` or `limits` as numbers (cores, bytes)."""
    raw = (container.get("resources") or {}).get(kind) or {}
    out = {}
    for name in ("cpu", "memory"):
        value = quantity(raw.get(name))
        if value is not None:
            out[name] = value
    return out


def pod_requests(pod: Json) -> tuple[float, float]:
    """(cores, bytes) the pod's app containers request."""
    cores = sum(resources(c, "requests").get("cpu", 0.0) for c in containers(pod))
    memory = sum(resources(c, "requests").get("memory", 0.0) for c in containers(pod))
    return cores, memory


def condition(obj: Json, kind: str) -> Json:
    return next((c for c in (obj.get("status") or {}).get("conditions") or []
                 if c.get("type") == kind), {})


def is_ready(pod: Json) -> bool:
    return condition(pod, "Ready").get("status") == "True"


def phase(pod: Json) -> str:
    return (pod.get("status") or {}).get("phase") or "Unknown"


def waiting(pod: Json) -> list[str]:
    """`container: Reason (message)` for each container that is not running, and why."""
    out = []
    for cs in container_statuses(pod):
        state = cs.get("state") or {}
        detail = state.get("waiting") or state.get("terminated")
        if detail and detail.get("reason") not in (None, "Completed"):
            text = f"{cs.get('name')}: {detail['reason']}"
            if detail.get("message"):
                text += f" ({detail['message'][:160]})"
            out.append(text)
    return out


def not_ready_containers(pod: Json) -> list[str]:
    return [cs.get("name", "?") for cs in (pod.get("status") or {}).get("containerStatuses") or []
            if not cs.get("ready")]


def last_termination(status: Json) -> Json:
    return (status.get("lastState") or {}).get("terminated") or {}


def node_problems(node: Json) -> list[str]:
    """NotReady (or Unknown), any pressure condition, and a cordon."""
    out = []
    ready = condition(node, "Ready").get("status")
    if ready != "True":  # Unknown: the kubelet stopped reporting, which kubectl shows NotReady
        out.append("NotReady" if ready == "False" else f"NotReady ({ready or 'no'} Ready status)")
    out += [c for c in PRESSURE if condition(node, c).get("status") == "True"]
    if (node.get("spec") or {}).get("unschedulable"):
        out.append("SchedulingDisabled")
    return out


def scheduling_reason(pod: Json, events: Iterable[KubeEvent]) -> tuple[str, str | None]:
    """(reason, message) a pod is Pending: the scheduler's newest FailedScheduling event,
    else its PodScheduled condition, else the container that is still waiting."""
    name, ns = meta(pod).get("name"), meta(pod).get("namespace")
    failed = [e for e in events if e.reason == "FailedScheduling" and e.kind == "Pod"
              and e.name == name and e.namespace in (None, ns)]
    if failed:
        newest = max(failed, key=lambda e: e.last or e.first or EPOCH)
        return "FailedScheduling", newest.message
    scheduled = condition(pod, "PodScheduled")
    if scheduled.get("status") == "False":
        return scheduled.get("reason") or "Unschedulable", scheduled.get("message")
    stuck = waiting(pod)
    if stuck:
        return stuck[0].split(": ", 1)[1].split(" ")[0], "; ".join(stuck)
    return "Pending", None


def created(obj: Json) -> datetime | None:
    return parse_time(meta(obj).get("creationTimestamp"))
