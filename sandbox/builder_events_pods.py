"""Events of objects other than a running pod's container: scheduler events (new-style,
``eventTime`` and ``series`` only), controller events (Deployment, ReplicaSet, Job, ...),
and the kubelet lifecycle of pods created during the recording (pull, start, stop)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sandbox.builder_kube import Obj, resource_version, ts
from sandbox.builder_world import Pod, World
from sandbox.scenario import format_rfc3339

Stub = dict[str, Any]
_RETRIES = (0.0, 1.1, 3.4, 9.8, 31.0, 92.0)  # scheduler back-off before the 5-min flushes


def micro(epoch: float) -> str:
    """metav1.MicroTime as the API server prints it."""
    return format_rfc3339(datetime.fromtimestamp(epoch, timezone.utc), 6)


def pod_ref(world: World, p: Pod) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "name": p.name, "namespace": world.spec.namespace,
            "uid": p.uid}


def object_event(stub: Stub, world: World, times: list[float]) -> Obj:
    """Render a stub whose involved object is given explicitly (or a scheduler event)."""
    involved = dict(stub["involved"])
    involved["resourceVersion"] = resource_version(world, "ev-obj:" + involved["name"])
    involved = dict(sorted(involved.items()))
    first, last = min(times), max(times)
    name, ns = involved["name"], involved.get("namespace", "default")
    key = f"{name}:{stub['reason']}:{first}"
    meta = {"creationTimestamp": ts(first), "name": f"{name}.{int(first * 1e9):x}"[:-2] + "00",
            "namespace": ns, "resourceVersion": resource_version(world, "ev:" + key),
            "uid": world.uid("ev:" + key)}
    if stub.get("scheduler"):
        out: Obj = {"action": stub.get("action", "Binding"), "apiVersion": "v1",
                    "eventTime": micro(first), "firstTimestamp": None,
                    "involvedObject": involved, "kind": "Event", "lastTimestamp": None,
                    "message": stub["message"], "metadata": meta, "reason": stub["reason"],
                    "reportingComponent": "default-scheduler",
                    "reportingInstance": f"default-scheduler-{world.spec.cluster}-cp-0"}
        if len(times) > 1:
            out["series"] = {"count": len(times), "lastObservedTime": micro(last)}
        out.update({"source": {}, "type": stub["type"]})
        return out
    component = stub.get("component", "kubelet")
    host = stub.get("host", "")
    source = {"component": component, "host": host} if host else {"component": component}
    return {"apiVersion": "v1", "count": len(times), "eventTime": None,
            "firstTimestamp": ts(first), "involvedObject": involved, "kind": "Event",
            "lastTimestamp": ts(last), "message": stub["message"], "metadata": meta,
            "reason": stub["reason"], "reportingComponent": component,
            "reportingInstance": host, "source": source, "type": stub["type"]}


def scheduler_attempts(created: float, end: float) -> list[float]:
    out = [created + d for d in _RETRIES]
    t = out[-1] + 300.0
    while t <= end:
        out.append(t)
        t += 300.0
    return [x for x in out if x <= end]


def lifecycle_stubs(world: World) -> list[Stub]:
    """Scheduling, image, start and stop events of pods created during the recording."""
    stubs: list[Stub] = []
    ns = world.spec.namespace
    for p in world.pods:
        if p.created < world.start:
            if p.deleting is not None and p.node.up(p.deleting):
                stubs.append(_killing(p))
            continue
        if not p.bound:
            stubs.append({"involved": pod_ref(world, p), "scheduler": True, "action": "Scheduling",
                          "reason": "FailedScheduling", "type": "Warning",
                          "times": scheduler_attempts(p.created + 0.01, world.end),
                          "message": world.notes.get("unschedulable:" + p.name, "")})
            continue
        stubs.append({"involved": pod_ref(world, p), "scheduler": True, "reason": "Scheduled",
                      "type": "Normal", "times": [p.created + 0.012],
                      "message": f"Successfully assigned {ns}/{p.name} to {p.node.name}"})
        if p.waiting or p.first_start == float("inf"):
            continue
        c, image = p.service.name, p.image_ref()
        if p.image and p.image != p.service.image_ref:
            pull = max(0.5, p.first_start - p.created - 1.3)
            size = world.rng("imgsize:" + image).randint(40_000_000, 260_000_000)
            stubs += [{"pod": p, "reason": "Pulling", "type": "Normal", "times": [p.created + 0.9],
                       "message": f'Pulling image "{image}"'},
                      {"pod": p, "reason": "Pulled", "type": "Normal",
                       "times": [p.first_start - 0.25],
                       "message": f'Successfully pulled image "{image}" in {pull:.3f}s '
                                  f"({pull + 0.004:.3f}s including waiting). "
                                  f"Image size: {size} bytes."}]
        else:
            stubs.append({"pod": p, "reason": "Pulled", "type": "Normal",
                          "times": [p.first_start - 0.2],
                          "message": f'Container image "{image}" already present on machine'})
        stubs += [{"pod": p, "reason": "Created", "type": "Normal",
                   "times": [p.first_start - 0.1], "message": f"Created container {c}"},
                  {"pod": p, "reason": "Started", "type": "Normal", "times": [p.first_start],
                   "message": f"Started container {c}"}]
        if p.deleting is not None and p.node.up(p.deleting):
            stubs.append(_killing(p))
    return stubs


def _killing(p: Pod) -> Stub:
    return {"pod": p, "reason": "Killing", "type": "Normal", "times": [p.deleting],
            "message": f"Stopping container {p.service.name}"}


def merge(stubs: list[Stub]) -> list[Stub]:
    """Aggregate stubs about the same object, reason and message into one (the API
    server's event correlator does this and counts them)."""
    out: dict[tuple[str, str, str, str], Stub] = {}
    for stub in stubs:
        obj = stub.get("pod") or stub.get("node")
        ident = obj.name if obj is not None else str(stub.get("involved", {}).get("name"))
        key = (ident, str(stub.get("involved", {}).get("kind", "")), stub["reason"],
               stub["message"])
        if key in out:
            out[key] = {**out[key], "times": list(out[key]["times"]) + list(stub["times"])}
        else:
            out[key] = stub
    return list(out.values())
