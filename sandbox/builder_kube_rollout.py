"""Deployment and ReplicaSet objects of services that were rolled out or scaled during
the recording: every revision's ReplicaSet with its own template, and the Deployment's
rollout conditions (progressing, complete, or past its progress deadline)."""

from __future__ import annotations

from sandbox.builder_kube import Obj, app_labels, resource_version, ts
from sandbox.builder_kube_workloads import _meta, _template
from sandbox.builder_spec import ServiceSpec
from sandbox.builder_world import Pod, World

DEADLINE_S = 600.0


def _live(pods: list[Pod], t: float) -> list[Pod]:
    return [p for p in pods if p.exists(t) and (p.deleting is None or t < p.deleting)]


def dynamic_replicasets(svc: ServiceSpec, world: World) -> list[Obj]:
    end, ns = world.end, world.spec.namespace
    desired = world.desired(svc.name, end)
    out = []
    for rev in world.revisions[svc.name]:
        name = f"{svc.name}-{rev.hash}"
        pods = _live([p for p in world.pods_of(svc.name) if p.template_hash == rev.hash], end)
        ready = sum(p.ready(end) for p in pods)
        annotations = {"deployment.kubernetes.io/desired-replicas": str(desired),
                       "deployment.kubernetes.io/max-replicas": str(desired + 1),
                       "deployment.kubernetes.io/revision": str(rev.number),
                       "meta.helm.sh/release-name": svc.name,
                       "meta.helm.sh/release-namespace": ns}
        if rev.change:
            annotations["kubernetes.io/change-cause"] = rev.change
        generation = 2 if pods else 3
        meta = _meta(world, svc, name, rev.created, annotations=dict(sorted(annotations.items())),
                     generation=generation,
                     labels=dict(sorted({**app_labels(svc, world),
                                         "pod-template-hash": rev.hash}.items())),
                     ownerReferences=[{"apiVersion": "apps/v1", "blockOwnerDeletion": True,
                                       "controller": True, "kind": "Deployment",
                                       "name": svc.name, "uid": world.owner_uid[svc.name]}],
                     uid=world.uid("rs:" + name))
        status: Obj = {"observedGeneration": generation, "replicas": len(pods)}
        if pods:
            status = {"availableReplicas": ready, "fullyLabeledReplicas": len(pods),
                      "observedGeneration": generation, "readyReplicas": ready,
                      "replicas": len(pods)}
        spec = {"replicas": len(pods),
                "selector": {"matchLabels": {"app": svc.name, "pod-template-hash": rev.hash}},
                "template": _template(svc, world, {"pod-template-hash": rev.hash}, rev.image,
                                      rev.env_from)}
        out.append({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta,
                    "spec": spec, "status": status})
    return out


def _conditions(svc: ServiceSpec, world: World, available: int, desired: int) -> list[Obj]:
    end = world.end
    newest = world.revisions[svc.name][-1]
    rs = f"{svc.name}-{newest.hash}"
    info = world.rollouts.get(svc.name)
    ok = available >= desired
    avail_at = end - 3600 * 30 if ok else (info.started + 1 if info else end - 60)
    conds = [{"lastTransitionTime": ts(avail_at), "lastUpdateTime": ts(avail_at),
              "message": "Deployment has minimum availability." if ok
              else "Deployment does not have minimum availability.",
              "reason": "MinimumReplicasAvailable" if ok else "MinimumReplicasUnavailable",
              "status": "True" if ok else "False", "type": "Available"}]
    started = info.started if info else newest.created
    if info is not None and info.completed is not None and info.completed <= end:
        prog = ("True", "NewReplicaSetAvailable", f'ReplicaSet "{rs}" has successfully progressed.',
                started, info.completed)
    elif end >= started + DEADLINE_S:
        prog = ("False", "ProgressDeadlineExceeded",
                f'ReplicaSet "{rs}" has timed out progressing.', started + DEADLINE_S,
                started + DEADLINE_S)
    else:
        prog = ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs}" is progressing.', started,
                max(p.created for p in world.pods_of(svc.name)))
    status, reason, message, since, updated = prog
    conds.append({"lastTransitionTime": ts(since), "lastUpdateTime": ts(updated),
                  "message": message, "reason": reason, "status": status, "type": "Progressing"})
    return conds


def dynamic_deployment(svc: ServiceSpec, world: World) -> Obj:
    end, ns = world.end, world.spec.namespace
    history = world.revisions[svc.name]
    newest = history[-1]
    pods = _live(world.pods_of(svc.name), end)
    ready = sum(p.ready(end) for p in pods)
    desired = world.desired(svc.name, end)
    generation = 9 + (newest.number - 7) + len(world.scale.get(svc.name, ()))
    helm = {"deployment.kubernetes.io/revision": str(newest.number),
            "meta.helm.sh/release-name": svc.name, "meta.helm.sh/release-namespace": ns}
    if newest.change:
        helm["kubernetes.io/change-cause"] = newest.change
    meta = _meta(world, svc, svc.name, world.start - 86400 * 90,
                 annotations=dict(sorted(helm.items())), generation=generation,
                 uid=world.owner_uid[svc.name])
    updated = sum(1 for p in pods if p.template_hash == newest.hash)
    status: Obj = {"availableReplicas": ready} if ready else {}
    status["conditions"] = _conditions(svc, world, ready, desired)
    status.update({"observedGeneration": generation, "replicas": len(pods)})
    if ready:
        status["readyReplicas"] = ready
    if len(pods) - ready > 0:
        status["unavailableReplicas"] = len(pods) - ready
    status["updatedReplicas"] = updated
    status = {k: status[k] for k in sorted(status)}
    spec = {"progressDeadlineSeconds": int(DEADLINE_S), "replicas": desired,
            "revisionHistoryLimit": 10, "selector": {"matchLabels": {"app": svc.name}},
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
                         "type": "RollingUpdate"},
            "template": _template(svc, world, {}, newest.image, newest.env_from)}
    meta["resourceVersion"] = resource_version(world, "dyn:" + svc.name)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec,
            "status": status}
