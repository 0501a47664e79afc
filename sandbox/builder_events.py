"""core/v1 Events for a built scenario: the kubelet and kernel-monitor events a real
cluster emits around each container death, aggregated the way the API server does
(one object per involved object + reason + message, with count and first/last
timestamps), and expired after the default 1 h event TTL."""

from __future__ import annotations

from typing import Any

from sandbox.builder_incidents import Incident
from sandbox.builder_kube import Obj, list_obj, resource_version, ts
from sandbox.builder_events_pods import lifecycle_stubs, merge, object_event
from sandbox.builder_world import STARTUP_S, Node, Pod, World

EVENT_TTL_S = 3600.0
_PROCESS = {"java": "java", "node": "node", "postgres": "postgres"}


def _occurrences(world: World, incident: Incident) -> list[dict[str, Any]]:
    """One stub per (object, reason, message) with all times it happened."""
    stubs: list[dict[str, Any]] = []
    for p in world.pods:
        svc = p.service
        r = world.rng("events:" + p.name)
        c = svc.name
        restarts = [t.restarted for t in p.terminations]
        if not restarts:
            continue
        stubs += [
            {"pod": p, "reason": "Pulled", "type": "Normal", "times": restarts,
             "message": f'Container image "{svc.image_ref}" already present on machine'},
            {"pod": p, "reason": "Created", "type": "Normal", "times": restarts,
             "message": f"Created container {c}"},
            {"pod": p, "reason": "Started", "type": "Normal", "times": restarts,
             "message": f"Started container {c}"},
        ]
        backoff = [t.finished + 1.0 + 10.0 * i for t in p.terminations if t.backoff_s
                   for i in range(max(1, int(t.backoff_s // 10)))]
        if backoff:
            stubs.append({"pod": p, "reason": "BackOff", "type": "Warning", "times": backoff,
                          "message": f"Back-off restarting failed container {c} in pod "
                                     f"{p.name}_{world.spec.namespace}({p.uid})"})
        if svc.rps > 0:
            startup = STARTUP_S.get(svc.runtime, 2.0)
            probes = [t.restarted + d for t in p.terminations
                      for d in (3.0 + r.random(), 13.0 + r.random()) if d < startup]
            if probes:
                stubs.append({
                    "pod": p, "reason": "Unhealthy", "type": "Warning", "times": probes,
                    "message": f'Readiness probe failed: Get "http://{p.ip}:{svc.port}'
                               f'/healthz/ready": dial tcp {p.ip}:{svc.port}: connect: '
                               "connection refused"})
        for t in p.terminations:
            if t.reason == "OOMKilled":
                stubs.append({"node": p.node, "reason": "OOMKilling", "type": "Warning",
                              "times": [t.finished], "component": "kernel-monitor",
                              "message": _oom_message(p, r.randint(3000, 60000), r.random())})
    return stubs + incident.extra_events()


def _oom_message(p: Pod, pid: int, jitter: float) -> str:
    limit_kb = p.service.mem_limit_mib * 1024
    anon = int(limit_kb * (0.955 + 0.03 * jitter))
    proc = _PROCESS.get(p.service.runtime, p.service.name)
    vm = int(limit_kb * (5.8 if proc == "java" else 2.1))
    return (f"Memory cgroup out of memory: Killed process {pid} ({proc}) total-vm:{vm}kB, "
            f"anon-rss:{anon}kB, file-rss:{int(limit_kb * 0.04)}kB, shmem-rss:0kB, UID:1000 "
            f"pgtables:{max(200, vm // 1900)}kB oom_score_adj:{936 + int(jitter * 40)}")


def _event(stub: dict[str, Any], world: World, times: list[float]) -> Obj:
    if "involved" in stub or stub.get("scheduler"):
        return object_event(stub, world, times)
    pod: Pod | None = stub.get("pod")
    node: Node = stub.get("node") or (pod.node if pod else world.nodes[0])
    component = stub.get("component", "kubelet")
    first, last = min(times), max(times)
    if pod is not None:
        involved: Obj = {"apiVersion": "v1", "fieldPath": f"spec.containers{{{pod.service.name}}}",
                         "kind": "Pod", "name": pod.name, "namespace": world.spec.namespace,
                         "resourceVersion": resource_version(world, "ev-obj:" + pod.name),
                         "uid": pod.uid}
        name, namespace = pod.name, world.spec.namespace
    else:
        involved = {"apiVersion": "v1", "kind": "Node", "name": node.name, "uid": node.name}
        name, namespace = node.name, "default"
    key = f"{name}:{stub['reason']}:{first}"
    return {
        "apiVersion": "v1", "count": len(times), "eventTime": None, "firstTimestamp": ts(first),
        "involvedObject": involved, "kind": "Event", "lastTimestamp": ts(last),
        "message": stub["message"],
        "metadata": {"creationTimestamp": ts(first),
                     "name": f"{name}.{int(first * 1e9):x}"[:-2] + "00",
                     "namespace": namespace,
                     "resourceVersion": resource_version(world, "ev:" + key),
                     "uid": world.uid("ev:" + key)},
        "reason": stub["reason"], "reportingComponent": component,
        "reportingInstance": node.name, "source": {"component": component, "host": node.name},
        "type": stub["type"],
    }


def event_list(world: World, incident: Incident) -> Obj:
    """EventList at the end: only events touched within the last hour survive."""
    end = world.end
    items = []
    stubs = _occurrences(world, incident)
    if not world.spec.legacy:
        stubs = merge(stubs + world.controller_events + lifecycle_stubs(world))
    for stub in stubs:
        times = sorted(t for t in stub["times"] if t <= end)
        if times and times[-1] >= end - EVENT_TTL_S:
            items.append(_event(stub, world, times))
    items.sort(key=lambda e: (_last_seen(e), e["metadata"]["name"]))
    return list_obj("EventList", "v1", items, world)


def _last_seen(event: Obj) -> str:
    series = event.get("series") or {}
    return str(event["lastTimestamp"] or series.get("lastObservedTime") or event["eventTime"])
