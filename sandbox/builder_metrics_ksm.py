"""kube-state-metrics and kubelet ``up`` series for a built scenario.

Same families and label sets as the shared recordings (e.g. kube_pod_status_ready
only with condition="true", last_terminated_reason only once a container died).
"""

from __future__ import annotations

from sandbox.builder_metrics import MIB, Family, Samples
from sandbox.builder_world import Pod, World

_FAMILIES = (
    ("kube_pod_info", "gauge", "Information about pod."),
    ("kube_pod_status_phase", "gauge", "The pods current phase."),
    ("kube_pod_status_ready", "gauge", "Describes whether the pod is ready to serve requests."),
    ("kube_pod_container_status_restarts", "counter",
     "The number of container restarts per container."),
    ("kube_pod_container_status_ready", "gauge",
     "Describes whether the containers readiness check succeeded."),
    ("kube_pod_container_resource_limits", "gauge",
     "The number of requested limit resource by a container."),
    ("kube_pod_container_resource_requests", "gauge",
     "The number of requested request resource by a container."),
    ("kube_pod_container_status_last_terminated_reason", "gauge",
     "Describes the last reason the container was in terminated state."),
    ("kube_pod_container_status_last_terminated_exitcode", "gauge",
     "Describes the exit code for the last container in terminated state."),
    ("kube_deployment_spec_replicas", "gauge", "Number of desired pods for a deployment."),
    ("kube_deployment_status_replicas_available", "gauge",
     "The number of available replicas per deployment."),
    ("kube_deployment_status_replicas_unavailable", "gauge",
     "The number of unavailable replicas per deployment."),
    ("kube_deployment_status_replicas_updated", "gauge",
     "The number of updated replicas per deployment."),
    ("kube_statefulset_replicas", "gauge", "Number of desired pods for a StatefulSet."),
    ("kube_statefulset_status_replicas_ready", "gauge",
     "The number of ready replicas per StatefulSet."),
    ("kube_node_status_condition", "gauge", "The condition of a cluster node."),
    ("kube_node_status_allocatable", "gauge",
     "The allocatable for different resources of a node that are available for scheduling."),
)


def ksm_families(world: World) -> list[Family]:
    """All kube-state-metrics families plus kubelet ``up``, in the shared file order."""
    fam = {name: Family(name, typ, help_) for name, typ, help_ in _FAMILIES}
    ns = world.spec.namespace
    times = world.grid("ksm", world.spec.ksm_step_s)
    for pod in world.pods:
        _pod_series(pod, ns, times, fam)
    for svc in world.spec.services:
        pods = world.pods_of(svc.name)
        if svc.kind == "StatefulSet":
            lab = {"namespace": ns, "statefulset": svc.name}
            _const(fam["kube_statefulset_replicas"].add("kube_statefulset_replicas", lab),
                   times, svc.replicas)
            ready = fam["kube_statefulset_status_replicas_ready"].add(
                "kube_statefulset_status_replicas_ready", lab)
            ready.extend((t, float(sum(p.ready(t) for p in pods))) for t in times)
            continue
        lab = {"namespace": ns, "deployment": svc.name}
        avail = [float(sum(p.ready(t) for p in pods)) for t in times]
        _const(fam["kube_deployment_spec_replicas"].add("kube_deployment_spec_replicas", lab),
               times, svc.replicas)
        fam["kube_deployment_status_replicas_available"].add(
            "kube_deployment_status_replicas_available", lab).extend(zip(times, avail))
        fam["kube_deployment_status_replicas_unavailable"].add(
            "kube_deployment_status_replicas_unavailable", lab).extend(
            (t, svc.replicas - a) for t, a in zip(times, avail))
        _const(fam["kube_deployment_status_replicas_updated"].add(
            "kube_deployment_status_replicas_updated", lab), times, svc.replicas)
    for node in world.nodes:
        for status in ("false", "true", "unknown"):
            s = fam["kube_node_status_condition"].add("kube_node_status_condition", {
                "node": node.name, "condition": "Ready", "status": status})
            _const(s, times, 1.0 if status == "true" else 0.0)
        for res, unit, value in (("cpu", "core", node.cpu_cores),
                                 ("memory", "byte", float(node.mem_bytes))):
            s = fam["kube_node_status_allocatable"].add("kube_node_status_allocatable", {
                "node": node.name, "resource": res, "unit": unit})
            _const(s, times, value)
    up = Family("up", "gauge", "1 if the target is reachable, 0 otherwise.")
    kubelet_times = world.grid("kubelet", world.spec.step_s)
    for node in world.nodes:
        s = up.add("up", {"job": "kubelet", "instance": f"{node.ip}:10250", "node": node.name})
        _const(s, kubelet_times, 1.0)
    return [*fam.values(), up]


def _const(series: Samples, times: list[float], value: float) -> None:
    series.extend((t, value) for t in times)


def _pod_series(pod: Pod, ns: str, times: list[float], fam: dict[str, Family]) -> None:
    svc = pod.service
    p = {"namespace": ns, "pod": pod.name}
    c = {**p, "container": svc.name}
    alive = [t for t in times if t >= pod.created]
    _const(fam["kube_pod_info"].add("kube_pod_info", {
        **p, "node": pod.node.name, "created_by_kind": pod.owner_kind,
        "created_by_name": pod.owner_name}), alive, 1.0)
    _const(fam["kube_pod_status_phase"].add("kube_pod_status_phase", {**p, "phase": "Running"}),
           alive, 1.0)
    ready = [(t, 1.0 if pod.ready(t) else 0.0) for t in alive]
    fam["kube_pod_status_ready"].add("kube_pod_status_ready", {**p, "condition": "true"}).extend(
        ready)
    fam["kube_pod_container_status_restarts"].add(
        "kube_pod_container_status_restarts_total", c).extend(
        (t, float(pod.restarts(t))) for t in alive)
    fam["kube_pod_container_status_ready"].add("kube_pod_container_status_ready", c).extend(ready)
    limits = fam["kube_pod_container_resource_limits"]
    _const(limits.add("kube_pod_container_resource_limits",
                      {**c, "resource": "memory", "unit": "byte"}),
           alive, float(svc.mem_limit_mib * MIB))
    if svc.cpu_limit is not None:
        _const(limits.add("kube_pod_container_resource_limits",
                          {**c, "resource": "cpu", "unit": "core"}), alive, svc.cpu_limit)
    _const(fam["kube_pod_container_resource_requests"].add(
        "kube_pod_container_resource_requests", {**c, "resource": "cpu", "unit": "core"}),
        alive, svc.cpu_request)
    reasons: dict[str, Samples] = {}
    code: Samples | None = None
    for t in alive:
        last = pod.last_termination(t)
        if last is None:
            continue
        if last.reason not in reasons:
            reasons[last.reason] = fam["kube_pod_container_status_last_terminated_reason"].add(
                "kube_pod_container_status_last_terminated_reason", {**c, "reason": last.reason})
        reasons[last.reason].append((t, 1.0))
        if code is None:
            code = fam["kube_pod_container_status_last_terminated_exitcode"].add(
                "kube_pod_container_status_last_terminated_exitcode", c)
        code.append((t, float(last.exit_code)))
