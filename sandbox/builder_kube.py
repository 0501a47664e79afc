"""Kubernetes objects (Pods, Deployments, ReplicaSets, StatefulSets, Nodes) as the API
server would list them at the scenario's end, in the shapes of the shared recordings."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sandbox.builder_spec import ServiceSpec
from sandbox.builder_world import STARTUP_S, Pod, World
from sandbox.scenario import format_rfc3339

Obj = dict[str, Any]
_TOLERATIONS = [
    {"effect": "NoExecute", "key": f"node.kubernetes.io/{k}", "operator": "Exists",
     "tolerationSeconds": 300} for k in ("not-ready", "unreachable")
]


def ts(epoch: float) -> str:
    """Kubernetes metav1.Time: whole seconds, UTC."""
    return format_rfc3339(datetime.fromtimestamp(int(epoch), timezone.utc))


def cpu_qty(cores: float) -> str:
    return str(int(cores)) if cores == int(cores) else f"{round(cores * 1000)}m"


def mem_qty(mib: int) -> str:
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


def resources(svc: ServiceSpec) -> Obj:
    limits: Obj = {}
    if svc.cpu_limit is not None:
        limits["cpu"] = cpu_qty(svc.cpu_limit)
    limits["memory"] = mem_qty(svc.mem_limit_mib)
    return {"limits": limits, "requests": {"cpu": cpu_qty(svc.cpu_request),
                                           "memory": mem_qty(svc.mem_request_mib)}}


def app_labels(svc: ServiceSpec, world: World) -> dict[str, str]:
    return {"app": svc.name, "app.kubernetes.io/name": svc.name,
            "app.kubernetes.io/part-of": world.spec.namespace}


def _probe(path: str, period: int = 10, delay: int | None = None) -> Obj:
    probe: Obj = {"failureThreshold": 3,
                  "httpGet": {"path": path, "port": "http", "scheme": "HTTP"}}
    if delay is not None:
        probe["initialDelaySeconds"] = delay
    probe.update({"periodSeconds": period, "successThreshold": 1, "timeoutSeconds": 2})
    return probe


def container_spec(svc: ServiceSpec, image: str | None = None, env_from: str = "") -> Obj:
    c: Obj = {}
    if svc.runtime == "python":
        c["env"] = [{"name": "WEB_CONCURRENCY", "value": "4"},
                    {"name": "LOG_LEVEL", "value": "info"}]
    elif svc.runtime == "java":
        c["env"] = [{"name": "JAVA_TOOL_OPTIONS",
                     "value": "-XX:MaxRAMPercentage=75 -Xlog:gc:stdout"},
                    {"name": "SPRING_PROFILES_ACTIVE", "value": "prod"}]
    elif svc.runtime == "postgres":
        c["env"] = [{"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
                    {"name": "POSTGRES_PASSWORD", "valueFrom": {"secretKeyRef": {
                        "key": "password", "name": f"{svc.name}-credentials"}}}]
    if env_from:
        c["envFrom"] = [{"configMapRef": {"name": env_from}}]
    c["image"] = image or svc.image_ref
    c["imagePullPolicy"] = "IfNotPresent"
    if svc.rps > 0:
        c["livenessProbe"] = _probe("/healthz/live", delay=10 if svc.runtime == "java" else None)
    c["name"] = svc.name
    port_name = "http" if svc.rps > 0 else "tcp"
    c["ports"] = [{"containerPort": svc.port, "name": port_name, "protocol": "TCP"}]
    if svc.rps > 0:
        c["readinessProbe"] = _probe("/healthz/ready", period=5 if svc.runtime != "java" else 10)
    c["resources"] = resources(svc)
    c["terminationMessagePath"] = "/dev/termination-log"
    c["terminationMessagePolicy"] = "File"
    if svc.kind == "StatefulSet":
        path = "/data" if svc.runtime == "redis" else "/var/lib/postgresql/data"
        c["volumeMounts"] = [{"mountPath": path, "name": "data"}]
    return c


def pod_spec(svc: ServiceSpec, world: World, image: str | None = None,
             env_from: str = "") -> Obj:
    return {"containers": [container_spec(svc, image, env_from)], "dnsPolicy": "ClusterFirst",
            "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority",
            "priority": 0, "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "securityContext": {"fsGroup": 1000} if svc.kind == "StatefulSet" else {},
            "serviceAccount": svc.name, "serviceAccountName": svc.name,
            "terminationGracePeriodSeconds": 30, "tolerations": list(_TOLERATIONS)}


def _qos(svc: ServiceSpec) -> str:
    same = svc.cpu_limit == svc.cpu_request and svc.mem_limit_mib == svc.mem_request_mib
    return "Guaranteed" if same else "Burstable"


def resource_version(world: World, topic: str) -> str:
    return str(48_200_000 + world.rng("rv:" + topic).randint(0, 90_000))


def pod(p: Pod, world: World) -> Obj:
    svc, end = p.service, world.end
    labels = app_labels(svc, world)
    if p.owner_kind == "Job":
        uid = p.owner_uid
        labels = {"batch.kubernetes.io/controller-uid": uid,
                  "batch.kubernetes.io/job-name": p.owner_name, "controller-uid": uid,
                  "job-name": p.owner_name}
    elif p.owner_kind == "ReplicaSet":
        labels["pod-template-hash"] = p.template_hash
    else:
        idx = p.name.rsplit("-", 1)[1]
        labels.update({"apps.kubernetes.io/pod-index": idx,
                       "controller-revision-hash": f"{svc.name}-{p.template_hash}",
                       "statefulset.kubernetes.io/pod-name": p.name})
    meta: Obj = {}
    if p.deleting is not None:
        meta["deletionGracePeriodSeconds"] = 30
        meta["deletionTimestamp"] = ts(p.deleting + 30)
    if svc.rps > 0:
        meta["annotations"] = {"prometheus.io/path": "/metrics",
                               "prometheus.io/port": str(svc.port), "prometheus.io/scrape": "true"}
    meta.update({"creationTimestamp": ts(p.created),
                 "generateName": f"{p.owner_name}-", "labels": dict(sorted(labels.items())),
                 "name": p.name, "namespace": world.spec.namespace,
                 "ownerReferences": [{"apiVersion": p.owner_api, "blockOwnerDeletion": True,
                                      "controller": True, "kind": p.owner_kind,
                                      "name": p.owner_name, "uid": p.owner_uid}],
                 "resourceVersion": resource_version(world, p.name), "uid": p.uid})
    rev = next((x for x in world.revisions.get(svc.name, ()) if x.hash == p.template_hash),
               None)
    spec = pod_spec(svc, world, p.image or None, rev.env_from if rev else "")
    token = "kube-api-access-" + world.suffix("tok:" + p.name, 5)
    spec["containers"][0].setdefault("volumeMounts", []).append(
        {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": token,
         "readOnly": True})
    if p.bound:
        spec["nodeName"] = p.node.name
    if p.owner_kind == "Job":
        spec["restartPolicy"] = "Never"
    if svc.kind == "StatefulSet":
        spec["hostname"], spec["subdomain"] = p.name, svc.name
    spec["volumes"] = ([{"name": "data", "persistentVolumeClaim": {"claimName": f"data-{p.name}"}}]
                       if svc.kind == "StatefulSet" else []) + [_token_volume(token)]
    spec = {k: spec[k] for k in sorted(spec)}
    from sandbox.builder_kube_status import special_status  # late: it builds on this module
    status = special_status(p, world) or _pod_status(p, world, end)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": dict(sorted(meta.items())),
            "spec": spec, "status": status}


def _token_volume(name: str) -> Obj:
    return {"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}],
                       "name": "kube-root-ca.crt"}},
        {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1",
                                                 "fieldPath": "metadata.namespace"},
                                    "path": "namespace"}]}}]}}


def _pod_status(p: Pod, world: World, end: float) -> Obj:
    svc = p.service
    ready = p.ready(end)
    last = p.last_termination(end)
    # Ready flips at each death and each successful readiness probe after a restart.
    startup = STARTUP_S.get(svc.runtime, 2.0)
    flips = [p.first_start + startup] + [x for t in p.terminations if t.finished <= end
                                 for x in (t.finished, t.restarted + startup) if x <= end]
    cond = [("Initialized", True, p.created), ("Ready", ready, flips[-1]),
            ("ContainersReady", ready, flips[-1]), ("PodScheduled", True, p.created)]
    status: Obj = {"conditions": [{"lastProbeTime": None, "lastTransitionTime": ts(at),
                                   "status": "True" if ok else "False", "type": typ}
                                  for typ, ok, at in cond]}
    image = p.image_ref()
    cs: Obj = {"containerID": f"containerd://{p.container_id}", "image": image,
               "imageID": image.rsplit(":", 1)[0] + "@sha256:" + world.hexid("img:" + image),
               "lastState": {}, "name": svc.name, "ready": ready,
               "restartCount": p.restarts(end), "started": p.running(end)}
    if last is not None:
        cs["lastState"] = {"terminated": {
            "containerID": f"containerd://{last.old_container_id}", "exitCode": last.exit_code,
            "finishedAt": ts(last.finished), "reason": last.reason, "startedAt": ts(last.started)}}
    if p.running(end):
        cs["state"] = {"running": {"startedAt": ts(p.container_start(end))}}
    else:
        cs["containerID"] = f"containerd://{last.old_container_id}" if last else cs["containerID"]
        cs["state"] = {"waiting": {
            "message": f"back-off {int(last.backoff_s) if last else 10}s restarting failed "
                       f"container={svc.name} pod={p.name}_{world.spec.namespace}({p.uid})",
            "reason": "CrashLoopBackOff"}}
    status["containerStatuses"] = [cs]
    status.update({"hostIP": p.node.ip, "hostIPs": [{"ip": p.node.ip}], "phase": "Running",
                   "podIP": p.ip, "podIPs": [{"ip": p.ip}], "qosClass": _qos(svc),
                   "startTime": ts(p.created)})
    return status


def list_obj(kind: str, api: str, items: list[Obj], world: World) -> Obj:
    return {"apiVersion": api, "items": items, "kind": kind,
            "metadata": {"resourceVersion": resource_version(world, "list:" + kind)}}


def pod_list(world: World) -> Obj:
    items = [pod(p, world) for p in world.pods if p.exists(world.end)]
    return list_obj("PodList", "v1", items, world)
