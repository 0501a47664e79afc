"""Workload controllers acting during the recording: Deployment rollouts (maxSurge 1,
maxUnavailable 0), scaling, and replacement pods.

They only add pods and lifecycle times to the ``World`` (and controller event stubs),
so metrics, logs and kube objects pick the changes up like any other pod.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from sandbox.builder_spec import ServiceSpec
from sandbox.builder_world import STARTUP_S, Node, Pod, Revision, World

GRACE_S = {"java": 4.5, "node": 1.2, "go": 0.6, "python": 1.5, "postgres": 2.0, "redis": 0.4}


@dataclass
class RolloutInfo:
    """What the Deployment controller did for one service during the recording."""

    started: float
    completed: float | None = None  # all new pods available, old ones gone
    pods: list[Pod] = field(default_factory=list)


def previous_version(version: str, legacy: bool = False) -> str:
    """The tag of the revision before ``version`` (legacy: the first builder's guess)."""
    head, _, last = version.rpartition(".")
    if last.isdigit() and int(last) > 0:
        return f"{head}.{int(last) - 1}"
    major, _, minor = head.rpartition(".")
    if legacy or not minor.isdigit() or int(minor) == 0:
        return version + "-rc1"
    return f"{major}.{int(minor) - 1}.{sum(map(ord, version)) % 6 + 1}"


def revisions(world: World, service: str) -> list[Revision]:
    """The service's ReplicaSet history, oldest first, seeded with the two revisions the
    static workload lists show (builder_kube_workloads: revision 6 and the current 7)."""
    if service not in world.revisions:
        svc = world.spec.service(service)
        rollout = min(p.created for p in world.pods_of(service))
        repo = svc.image_ref.rsplit(":", 1)[0]
        world.revisions[service] = [
            Revision(world.old_rs_hash[service], 6,
                     f"{repo}:{previous_version(svc.version, world.spec.legacy)}",
                     rollout - 86400 * 11),
            Revision(world.rs_hash[service], 7, svc.image_ref, rollout - 2.0)]
    return world.revisions[service]


def controller_event(world: World, t: float, kind: str, name: str, reason: str, message: str,
                     component: str, type_: str = "Normal", api: str = "apps/v1") -> None:
    """Record an event stub of a controller (deployment-, replicaset-, job-controller...)."""
    uid = world.owner_uid.get(name) if kind == "Deployment" else world.uid(f"{kind}:{name}")
    world.controller_events.append({"involved": {"apiVersion": api, "kind": kind, "name": name,
                               "namespace": world.spec.namespace,
                               "uid": uid or world.uid(f"{kind}:{name}")},
                  "reason": reason, "type": type_, "times": [t], "message": message,
                  "component": component})


def pick_node(world: World, t: float, salt: str, avoid: Node | None = None) -> Node:
    """The scheduler's choice: a live node running the fewest of our pods (ties random)."""
    r = world.rng("sched:" + salt)
    live = [n for n in world.nodes if n.up(t) and n is not avoid] or list(world.nodes)
    load = {n.name: sum(1 for p in world.pods if p.node is n and p.exists(t)) for n in live}
    best = min(load.values())
    return r.choice([n for n in live if load[n.name] == best])


def new_pod(world: World, svc: ServiceSpec, t: float, *, template_hash: str, name: str = "",
            owner_kind: str = "ReplicaSet", owner_name: str = "", image: str = "",
            node: Node | None = None, pull_s: float | None = None) -> Pod:
    """A pod created at ``t`` and started once its image is there (``pull_s`` seconds
    of pulling; None: already present on the node)."""
    r = world.rng(f"newpod:{svc.name}:{template_hash}:{t:.3f}:{name}")
    owner_name = owner_name or f"{svc.name}-{template_hash}"
    name = name or f"{owner_name}-{world.suffix(f'pod:{owner_name}:{t:.3f}', 5)}"
    node = node or pick_node(world, t, name)
    used = {p.ip for p in world.pods}
    ip = node.pod_prefix + str(r.randint(2, 250))
    while ip in used:
        ip = node.pod_prefix + str(r.randint(2, 250))
    start = t + r.uniform(0.8, 1.6) + (pull_s if pull_s is not None else 0.0)
    owner_uid = (world.owner_uid[svc.name] if owner_kind == "StatefulSet"
                 else world.uid(f"{owner_kind}:{owner_name}"))
    pod = Pod(name=name, service=svc, node=node, ip=ip, uid=world.uid("pod:" + name),
              created=t, first_start=start, owner_kind=owner_kind, owner_name=owner_name,
              owner_uid=owner_uid, template_hash=template_hash,
              container_id=world.hexid("cid:" + name), image=image)
    world.pods.append(pod)
    return pod


def retire(pod: Pod, t: float, *, gone: bool = True) -> None:
    """Delete ``pod`` at ``t``: endpoints drop it, SIGTERM, gone after the grace period."""
    pod.deleting = t
    pod.stopped = t + GRACE_S.get(pod.service.runtime, 1.0)
    pod.deleted = pod.stopped + 0.8 if gone else None


def roll_out(world: World, service: str, at: float, *, image: str = "", env_from: str = "",
             change: str = "", starts: bool = True) -> RolloutInfo:
    """Roll a new revision out from ``at``; with ``starts`` False the first new pod never
    becomes ready (crash loop, image pull, ...) and the rollout stalls there."""
    svc = world.spec.service(service)
    history = revisions(world, service)
    number = history[-1].number + 1
    rev = Revision(world.suffix(f"rs:{service}:rev{number}", 9 + world.rng(
        f"hashlen:{service}:{number}").randint(0, 1)), number, image or svc.image_ref, at,
        env_from=env_from, change=change)
    history.append(rev)
    info = RolloutInfo(started=at)
    world.rollouts[service] = info
    old = sorted((p for p in world.pods_of(service) if p.exists(at) and p.deleting is None),
                 key=lambda p: p.created)
    dep, new_rs = service, f"{service}-{rev.hash}"
    r = world.rng(f"rollout:{service}:{number}")
    t, created = at, 0
    controller_event(world, t, "Deployment", dep, "ScalingReplicaSet",
                     f"Scaled up replica set {new_rs} to 1", "deployment-controller")
    while True:
        pod = new_pod(world, svc, t + r.uniform(0.02, 0.3), template_hash=rev.hash,
                      image=rev.image, pull_s=r.uniform(1.4, 5.5))
        created += 1
        info.pods.append(pod)
        controller_event(world, pod.created, "ReplicaSet", new_rs, "SuccessfulCreate",
                         f"Created pod: {pod.name}", "replicaset-controller")
        if not starts:
            return info
        ready = pod.first_start + STARTUP_S.get(svc.runtime, 2.0) + r.uniform(0.2, 4.5)
        if not old:
            info.completed = ready
            return info
        victim = old.pop(0)
        t = ready + r.uniform(0.05, 0.6)
        left = len(old)
        old_rs = victim.owner_name
        controller_event(world, t, "Deployment", dep, "ScalingReplicaSet",
                         f"Scaled down replica set {old_rs} to {left} from {left + 1}",
                         "deployment-controller")
        controller_event(world, t + 0.01, "ReplicaSet", old_rs, "SuccessfulDelete",
                         f"Deleted pod: {victim.name}", "replicaset-controller")
        retire(victim, t + 0.02)
        if created >= svc.replicas:
            info.completed = t + 0.5
            return info
        controller_event(world, t, "Deployment", dep, "ScalingReplicaSet",
                         f"Scaled up replica set {new_rs} to {created + 1} from {created}",
                         "deployment-controller")


def scale(world: World, service: str, at: float, replicas: int, *, fits: int | None = None,
          reason: str = "") -> list[Pod]:
    """Scale the Deployment's current ReplicaSet to ``replicas`` at ``at``; only ``fits``
    of the new pods get a node (the rest stay Pending)."""
    svc = world.spec.service(service)
    current = world.desired(service, at)
    world.scale.setdefault(service, []).append((at, replicas))
    rev = revisions(world, service)[-1]
    rs = f"{service}-{rev.hash}"
    controller_event(world, at, "Deployment", service, "ScalingReplicaSet",
                     f"Scaled up replica set {rs} to {replicas} from {current}",
                     "deployment-controller")
    if reason:
        controller_event(world, at - 0.4, "HorizontalPodAutoscaler", service,
                         "SuccessfulRescale", f"New size: {replicas}; reason: {reason}",
                         "horizontal-pod-autoscaler", api="autoscaling/v2")
    r = world.rng(f"scale:{service}:{at:.0f}")
    out = []
    for k in range(replicas - current):
        pod = new_pod(world, svc, at + 0.05 + 0.02 * k + r.uniform(0, 0.01),
                      template_hash=rev.hash, image=rev.image)
        if fits is not None and k >= fits:
            pod.bound, pod.first_start = False, float("inf")
        controller_event(world, pod.created, "ReplicaSet", rs, "SuccessfulCreate",
                         f"Created pod: {pod.name}", "replicaset-controller")
        out.append(pod)
    return out
