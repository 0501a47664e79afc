"""kube-state-metrics and kubelet ``up`` series for a built scenario.

Same families and label sets as the shared recordings (e.g. kube_pod_status_ready
only with condition="true", last_terminated_reason only once a container died).
"""

from __future__ import annotations

from sandbox.builder_incidents import Incident
from sandbox.builder_metrics import MIB, Family, Samples
from sandbox.builder_world import Node, Pod, World

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
    # Families the first builder did not export (never in legacy output):
    ("kube_pod_container_status_waiting_reason", "gauge",
     "Describes the reason the container is currently in waiting state."),
    ("kube_pod_status_unschedulable", "gauge", "Describes the unschedulable status for the pod."),
    ("kube_deployment_status_condition", "gauge",
     "The current status conditions of a deployment."),
    ("kube_node_spec_taint", "gauge", "The taint of a cluster node."),
)


def ksm_families(world: World, incident: Incident) -> list[Family]:
    """All kube-state-metrics families plus kubelet ``up``, in the shared file order."""
    fam = {name: Family(name, typ, help_) for name, typ, help_ in _FAMILIES}
    ns = world.spec.namespace
    times = world.grid("ksm", world.spec.ksm_step_s)
    for pod in world.pods:
        _pod_series(pod, ns, times, fam)
        if not world.spec.legacy:
            _pod_extra(pod, ns, times, fam, incident)
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
        fam["kube_deployment_spec_replicas"].add("kube_deployment_spec_replicas", lab).extend(
            (t, float(world.desired(svc.name, t))) for t in times)
        fam["kube_deployment_status_replicas_available"].add(
            "kube_deployment_status_replicas_available", lab).extend(zip(times, avail))
        fam["kube_deployment_status_replicas_unavailable"].add(
            "kube_deployment_status_replicas_unavailable", lab).extend(
            (t, max(0.0, _owned(pods, t) - a)) for t, a in zip(times, avail))
        fam["kube_deployment_status_replicas_updated"].add(
            "kube_deployment_status_replicas_updated", lab).extend(
            (t, float(_updated(world, svc.name, pods, t))) for t in times)
        if not world.spec.legacy:
            _progressing(world, svc.name, lab, times, fam["kube_deployment_status_condition"])
    for node in world.nodes:
        for status in ("false", "true", "unknown"):
            s = fam["kube_node_status_condition"].add("kube_node_status_condition", {
                "node": node.name, "condition": "Ready", "status": status})
            s.extend((t, 1.0 if _ready_status(node, t) == status else 0.0) for t in times)
        if node.failed_at is not None:
            for effect in ("NoSchedule", "NoExecute"):
                fam["kube_node_spec_taint"].add("kube_node_spec_taint", {
                    "node": node.name, "key": "node.kubernetes.io/unreachable", "value": "",
                    "effect": effect}).extend((t, 1.0) for t in times if node.not_ready(t))
        for res, unit, value in (("cpu", "core", node.cpu_cores),
                                 ("memory", "byte", float(node.mem_bytes))):
            s = fam["kube_node_status_allocatable"].add("kube_node_status_allocatable", {
                "node": node.name, "resource": res, "unit": unit})
            _const(s, times, value)
    up = Family("up", "gauge", "1 if the target is reachable, 0 otherwise.")
    kubelet_times = world.grid("kubelet", world.spec.step_s)
    for node in world.nodes:
        s = up.add("up", {"job": "kubelet", "instance": f"{node.ip}:10250", "node": node.name})
        s.extend((t, 1.0 if node.up(t) else 0.0) for t in kubelet_times)
    return [*fam.values(), up]


def _ready_status(node: Node, t: float) -> str:
    return "unknown" if node.not_ready(t) else "true"


def _owned(pods: list[Pod], t: float) -> int:
    """Replicas the Deployment's ReplicaSets want at t (pods not being deleted)."""
    return sum(1 for p in pods if p.exists(t) and (p.deleting is None or t < p.deleting))


def _updated(world: World, service: str, pods: list[Pod], t: float) -> int:
    if service not in world.revisions:
        return world.spec.service(service).replicas
    newest = world.revisions[service][-1].hash
    return sum(1 for p in pods if p.template_hash == newest and p.exists(t)
               and (p.deleting is None or t < p.deleting))


def _progressing(world: World, service: str, lab: dict[str, str], times: list[float],
                 family: Family) -> None:
    """Progressing condition: false once a rollout overran progressDeadlineSeconds (600)."""
    info = world.rollouts.get(service)

    def stuck(t: float) -> bool:
        if info is None or t < info.started + 600:
            return False
        return info.completed is None or info.completed > t

    for status in ("false", "true", "unknown"):
        family.add("kube_deployment_status_condition", {
            **lab, "condition": "Progressing", "status": status}).extend(
            (t, 1.0 if ("false" if stuck(t) else "true") == status else 0.0) for t in times)


def _pod_extra(pod: Pod, ns: str, times: list[float], fam: dict[str, Family],
               incident: Incident) -> None:
    """Waiting reasons and unschedulable flags (families the legacy output lacks)."""
    c = {"namespace": ns, "pod": pod.name, "container": pod.service.name}
    series: dict[str, Samples] = {}
    unsched: Samples | None = None
    for t in times:
        if not pod.exists(t):
            continue
        reason = incident.waiting_reason(pod, t)
        if reason:
            if reason not in series:
                series[reason] = fam["kube_pod_container_status_waiting_reason"].add(
                    "kube_pod_container_status_waiting_reason", {**c, "reason": reason})
            series[reason].append((t, 1.0))
        if not pod.bound:
            if unsched is None:
                unsched = fam["kube_pod_status_unschedulable"].add(
                    "kube_pod_status_unschedulable", {"namespace": ns, "pod": pod.name})
            unsched.append((t, 1.0))


def _const(series: Samples, times: list[float], value: float) -> None:
    series.extend((t, value) for t in times)


def _pod_series(pod: Pod, ns: str, times: list[float], fam: dict[str, Family]) -> None:
    svc = pod.service
    p = {"namespace": ns, "pod": pod.name}
    c = {**p, "container": svc.name}
    alive = [t for t in times if pod.exists(t)]
    _const(fam["kube_pod_info"].add("kube_pod_info", {
        **p, "node": pod.node.name if pod.bound else "", "created_by_kind": pod.owner_kind,
        "created_by_name": pod.owner_name}), alive, 1.0)
    phases: dict[str, Samples] = {}
    for t in alive:  # like the shared recordings: only the phase the pod is in
        phase = pod.phase(t)
        if phase not in phases:
            phases[phase] = fam["kube_pod_status_phase"].add(
                "kube_pod_status_phase", {**p, "phase": phase})
        phases[phase].append((t, 1.0))
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
