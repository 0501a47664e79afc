"""Deployments, ReplicaSets (current + one retired revision), StatefulSets and Nodes
of a built scenario, as list objects the API server returns."""

from __future__ import annotations

from typing import Any

from sandbox.builder_kube import (
    Obj, app_labels, list_obj, mem_qty, pod_spec, resource_version, ts,
)
from sandbox.builder_rollout import previous_version
from sandbox.builder_spec import ServiceSpec
from sandbox.builder_world import World




def _template(svc: ServiceSpec, world: World, extra: dict[str, str],
              image: str | None = None, env_from: str = "") -> Obj:
    labels = dict(sorted({**app_labels(svc, world), **extra}.items()))
    return {"metadata": {"creationTimestamp": None, "labels": labels},
            "spec": pod_spec(svc, world, image, env_from)}


def _meta(world: World, svc: ServiceSpec, name: str, created: float, **extra: Any) -> Obj:
    ns = world.spec.namespace
    meta: Obj = {"annotations": extra.pop("annotations", {}), "creationTimestamp": ts(created),
                 "generation": extra.pop("generation", 1)}
    meta["labels"] = extra.pop("labels", {"app.kubernetes.io/managed-by": "Helm",
                                          "app.kubernetes.io/name": svc.name,
                                          "app.kubernetes.io/part-of": ns})
    meta.update({"name": name, "namespace": ns, **extra,
                 "resourceVersion": resource_version(world, "meta:" + name),
                 "uid": extra.get("uid") or world.uid("meta:" + name)})
    if not meta["annotations"]:
        del meta["annotations"]
    return {k: meta[k] for k in sorted(meta)}


def deployment(svc: ServiceSpec, world: World) -> Obj:
    pods = world.pods_of(svc.name)
    end, ns = world.end, world.spec.namespace
    ready = sum(p.ready(end) for p in pods)
    rollout = min(p.created for p in pods)
    rs = world.rs_name(svc.name)
    helm = {"deployment.kubernetes.io/revision": "7", "meta.helm.sh/release-name": svc.name,
            "meta.helm.sh/release-namespace": ns}
    meta = _meta(world, svc, svc.name, world.start - 86400 * 90, annotations=helm, generation=9,
                 uid=world.owner_uid[svc.name])
    # Available flips to False only when fewer than replicas-maxUnavailable(0) are ready.
    last_flip = max([rollout + 40.0] + [x for p in pods for t in p.terminations
                                       for x in (t.finished, t.restarted + 20.0) if x <= end])
    available = ready >= svc.replicas
    status: Obj = {"availableReplicas": ready} if ready else {}
    status["conditions"] = [
        {"lastTransitionTime": ts(last_flip), "lastUpdateTime": ts(last_flip),
         "message": "Deployment has minimum availability." if available
         else "Deployment does not have minimum availability.",
         "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
         "status": "True" if available else "False", "type": "Available"},
        {"lastTransitionTime": ts(rollout), "lastUpdateTime": ts(rollout + 45.0),
         "message": f'ReplicaSet "{rs}" has successfully progressed.',
         "reason": "NewReplicaSetAvailable", "status": "True", "type": "Progressing"}]
    status.update({"observedGeneration": 9, "readyReplicas": ready, "replicas": svc.replicas})
    if svc.replicas - ready:
        status["unavailableReplicas"] = svc.replicas - ready
    status["updatedReplicas"] = svc.replicas
    status = {k: status[k] for k in sorted(status)}
    spec = {"progressDeadlineSeconds": 600, "replicas": svc.replicas, "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app": svc.name}},
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
                         "type": "RollingUpdate"},
            "template": _template(svc, world, {})}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec,
            "status": status}


def replicasets(svc: ServiceSpec, world: World) -> list[Obj]:
    pods = world.pods_of(svc.name)
    end = world.end
    rollout = min(p.created for p in pods)
    out = []
    for current in (False, True):
        h = world.rs_hash[svc.name] if current else world.old_rs_hash[svc.name]
        name = f"{svc.name}-{h}"
        created = rollout - 2.0 if current else rollout - 86400 * 11
        replicas = svc.replicas if current else 0
        image = None if current else svc.image_ref.rsplit(":", 1)[0] + ":" + \
            previous_version(svc.version, world.spec.legacy)
        annotations = {"deployment.kubernetes.io/desired-replicas": str(svc.replicas),
                       "deployment.kubernetes.io/max-replicas": str(svc.replicas + 1),
                       "deployment.kubernetes.io/revision": "7" if current else "6",
                       "meta.helm.sh/release-name": svc.name,
                       "meta.helm.sh/release-namespace": world.spec.namespace}
        meta = _meta(world, svc, name, created, annotations=annotations,
                     generation=2 if current else 3,
                     labels=dict(sorted({**app_labels(svc, world),
                                         "pod-template-hash": h}.items())),
                     ownerReferences=[{"apiVersion": "apps/v1", "blockOwnerDeletion": True,
                                       "controller": True, "kind": "Deployment",
                                       "name": svc.name, "uid": world.owner_uid[svc.name]}],
                     uid=world.uid("rs:" + name))
        ready = sum(p.ready(end) for p in pods) if current else 0
        status: Obj = {}
        if current:
            status = {"availableReplicas": ready, "fullyLabeledReplicas": replicas,
                      "observedGeneration": 2, "readyReplicas": ready, "replicas": replicas}
        else:
            status = {"observedGeneration": 3, "replicas": 0}
        spec = {"replicas": replicas,
                "selector": {"matchLabels": {"app": svc.name, "pod-template-hash": h}},
                "template": _template(svc, world, {"pod-template-hash": h}, image)}
        out.append({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta,
                    "spec": spec, "status": status})
    return out


def statefulset(svc: ServiceSpec, world: World) -> Obj:
    pods = world.pods_of(svc.name)
    ready = sum(p.ready(world.end) for p in pods)
    rev = f"{svc.name}-{pods[0].template_hash}"
    meta = _meta(world, svc, svc.name, world.start - 86400 * 120, generation=4,
                 labels={"app.kubernetes.io/name": svc.name,
                         "app.kubernetes.io/part-of": world.spec.namespace},
                 uid=world.owner_uid[svc.name])
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"creationTimestamp": None, "name": "data"},
             "spec": {"accessModes": ["ReadWriteOnce"],
                      "resources": {"requests": {"storage": "20Gi"}}, "volumeMode": "Filesystem"},
             "status": {"phase": "Pending"}}
    retain = {"whenDeleted": "Retain", "whenScaled": "Retain"}
    spec = {"persistentVolumeClaimRetentionPolicy": retain,
            "podManagementPolicy": "OrderedReady", "replicas": svc.replicas,
            "revisionHistoryLimit": 10, "selector": {"matchLabels": {"app": svc.name}},
            "serviceName": svc.name, "template": _template(svc, world, {}),
            "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
            "volumeClaimTemplates": [claim]}
    status = {"availableReplicas": ready, "collisionCount": 0, "currentReplicas": svc.replicas,
              "currentRevision": rev, "observedGeneration": 4, "readyReplicas": ready,
              "replicas": svc.replicas, "updateRevision": rev, "updatedReplicas": svc.replicas}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta, "spec": spec,
            "status": status}


def node_list(world: World) -> Obj:
    items = []
    heartbeat = ts(world.end - world.rng("hb").randint(5, 40))
    for n in world.nodes:
        conds = [("MemoryPressure", "False", "KubeletHasSufficientMemory",
                  "kubelet has sufficient memory available"),
                 ("DiskPressure", "False", "KubeletHasNoDiskPressure",
                  "kubelet has no disk pressure"),
                 ("PIDPressure", "False", "KubeletHasSufficientPID",
                  "kubelet has sufficient PID available"),
                 ("Ready", "True", "KubeletReady", "kubelet is posting ready status")]
        labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                  "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": n.name,
                  "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": "standard-4",
                  "topology.kubernetes.io/zone": n.zone}
        items.append({"apiVersion": "v1", "kind": "Node", "metadata": {
            "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                            "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
            "creationTimestamp": ts(n.created), "labels": labels, "name": n.name,
            "resourceVersion": resource_version(world, "node:" + n.name), "uid": n.uid},
            "spec": {"podCIDR": n.pod_prefix + "0/24", "podCIDRs": [n.pod_prefix + "0/24"]},
            "status": {
                "addresses": [{"address": n.ip, "type": "InternalIP"},
                              {"address": n.name, "type": "Hostname"}],
                "allocatable": {"cpu": f"{round(n.cpu_cores * 1000)}m",
                                "ephemeral-storage": "95491281146", "hugepages-1Gi": "0",
                                "hugepages-2Mi": "0", "memory": f"{n.mem_bytes // 1024}Ki",
                                "pods": "110"},
                "capacity": {"cpu": "4", "ephemeral-storage": "104845292Ki", "hugepages-1Gi": "0",
                             "hugepages-2Mi": "0", "memory": mem_qty(16384), "pods": "110"},
                "conditions": [{"lastHeartbeatTime": heartbeat,
                                "lastTransitionTime": ts(n.created + 40), "message": msg,
                                "reason": reason, "status": st, "type": typ}
                               for typ, st, reason, msg in conds],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {"architecture": "amd64", "bootID": world.uid("boot:" + n.name),
                             "containerRuntimeVersion": "containerd://1.7.13",
                             "kernelVersion": "5.15.0-105-generic",
                             "kubeProxyVersion": "v1.29.4", "kubeletVersion": "v1.29.4",
                             "machineID": world.hexid("mid:" + n.name, 32),
                             "operatingSystem": "linux", "osImage": "Ubuntu 22.04.4 LTS",
                             "systemUUID": world.uid("sys:" + n.name)}}})
    return list_obj("NodeList", "v1", items, world)


def workload_lists(world: World) -> dict[str, Obj]:
    """deployments.json, replicasets.json, statefulsets.json, nodes.json contents."""
    from sandbox.builder_kube_rollout import dynamic_deployment, dynamic_replicasets
    deps = [s for s in world.spec.services if s.kind == "Deployment"]
    sts = [s for s in world.spec.services if s.kind == "StatefulSet"]
    dyn = world.revisions
    return {
        "deployments": list_obj("DeploymentList", "apps/v1", [
            dynamic_deployment(s, world) if s.name in dyn else deployment(s, world)
            for s in deps], world),
        "replicasets": list_obj("ReplicaSetList", "apps/v1", [
            rs for s in deps for rs in (dynamic_replicasets(s, world) if s.name in dyn
                                        else replicasets(s, world))], world),
        "statefulsets": list_obj("StatefulSetList", "apps/v1", [statefulset(s, world) for s in sts],
                              world),
        "nodes": node_list(world),
    }
