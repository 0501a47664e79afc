"""Pod ``status`` for the lifecycles the first builder never produced: Pending pods
(unschedulable, or waiting for an image), pods on a lost node, finished Job pods and
pods that crash-loop before ever being ready. Shapes follow what the API server returns."""

from __future__ import annotations

from sandbox.builder_kube import Obj, _pod_status, ts
from sandbox.builder_world import NODE_GRACE_S, Pod, World


def special_status(p: Pod, world: World) -> Obj | None:
    """The status of ``p`` at the end, or None when the ordinary running shape applies."""
    end = world.end
    if not p.bound:
        return _unschedulable(p, world)
    if p.owner_kind == "Job":
        return _job(p, world)
    if p.waiting or end < p.first_start:
        return _pending(p, world)
    if not p.node.up(end):
        return _lost(p, world)
    if p.unready_from is not None and end >= p.unready_from:
        status = _pod_status(p, world, end)
        status["conditions"] = [
            {**_not_ready(p, p.unready_from + 8.0), "type": c["type"]}
            if c["type"] in ("Ready", "ContainersReady") else c for c in status["conditions"]]
        return status
    if p.never_ready:
        status = _pod_status(p, world, end)
        status["conditions"] = [
            {**_not_ready(p, p.created + 1.0), "type": c["type"]}
            if c["type"] in ("Ready", "ContainersReady") else c for c in status["conditions"]]
        return status
    return None


def _cond(typ: str, ok: bool, at: float, **extra: str) -> Obj:
    out: Obj = {"lastProbeTime": None, "lastTransitionTime": ts(at)}
    if "message" in extra:
        out["message"] = extra["message"]
    if "reason" in extra:
        out["reason"] = extra["reason"]
    out.update({"status": "True" if ok else "False", "type": typ})
    return out


def _not_ready(p: Pod, at: float) -> Obj:
    return _cond("Ready", False, at, reason="ContainersNotReady",
                 message=f"containers with unready status: [{p.service.name}]")


def _ips(p: Pod) -> Obj:
    return {"hostIP": p.node.ip, "hostIPs": [{"ip": p.node.ip}], "podIP": p.ip,
            "podIPs": [{"ip": p.ip}]}


def _qos(p: Pod) -> str:
    svc = p.service
    same = svc.cpu_limit == svc.cpu_request and svc.mem_limit_mib == svc.mem_request_mib
    return "Guaranteed" if same else "Burstable"


def _unschedulable(p: Pod, world: World) -> Obj:
    message = world.notes.get("unschedulable:" + p.name, "0/3 nodes are available.")
    return {"conditions": [_cond("PodScheduled", False, p.created + 0.01, reason="Unschedulable",
                                 message=message)],
            "phase": "Pending", "qosClass": _qos(p)}


def _pending(p: Pod, world: World) -> Obj:
    """Scheduled, but the container has not started (image pull failing or still pulling)."""
    reason, message = world.notes.get("waiting:" + p.name, "ContainerCreating"), ""
    if "|" in reason:
        reason, message = reason.split("|", 1)
    waiting: Obj = {"message": message, "reason": reason} if message else {"reason": reason}
    name = p.service.name
    unready = _not_ready(p, p.created + 1.0)
    containers = {**unready, "type": "ContainersReady"}
    status: Obj = {"conditions": [_cond("Initialized", True, p.created + 1.0), unready,
                                  containers, _cond("PodScheduled", True, p.created + 0.01)],
                   "containerStatuses": [{"image": p.image_ref(), "imageID": "",
                                          "lastState": {}, "name": name, "ready": False,
                                          "restartCount": 0, "started": False,
                                          "state": {"waiting": waiting}}]}
    status.update({**_ips(p), "phase": "Pending", "qosClass": _qos(p),
                   "startTime": ts(p.created + 1.0)})
    return status


def _lost(p: Pod, world: World) -> Obj:
    """The kubelet's last report stays; the node controller marks the pod not ready and
    the taint manager adds DisruptionTarget when it evicts."""
    status = _pod_status(p, world, (p.node.failed_at or world.end) - 1.0)
    at = (p.node.failed_at or world.end) + NODE_GRACE_S
    conds = []
    if p.deleting is not None:
        conds.append(_cond("DisruptionTarget", True, p.deleting, reason="DeletionByTaintManager",
                           message="Taint manager: deleting due to NoExecute taint"))
    for cond in status["conditions"]:
        if cond["type"] == "Ready":
            cond = _cond("Ready", False, at)
        conds.append(cond)
    status["conditions"] = conds
    return status


def _job(p: Pod, world: World) -> Obj:
    end = world.end
    done = p.stopped is not None and p.stopped <= end
    image = p.image_ref()
    cs: Obj = {"containerID": f"containerd://{p.container_id}", "image": image,
               "imageID": image.rsplit(":", 1)[0] + "@sha256:" + world.hexid("img:" + image),
               "lastState": {}, "name": p.service.name, "ready": not done,
               "restartCount": 0, "started": not done}
    phase = p.phase(end)
    if done and p.stopped is not None:
        reason = "Completed" if p.exit_code == 0 else "Error"
        cs["state"] = {"terminated": {"containerID": f"containerd://{p.container_id}",
                                      "exitCode": p.exit_code, "finishedAt": ts(p.stopped),
                                      "reason": reason, "startedAt": ts(p.first_start)}}
        why = "PodCompleted" if p.exit_code == 0 else "PodFailed"
        ready = [_cond("Ready", False, p.stopped, reason=why),
                 _cond("ContainersReady", False, p.stopped, reason=why)]
    else:
        cs["state"] = {"running": {"startedAt": ts(p.first_start)}}
        ready = [_cond("Ready", True, p.first_start + 0.5),
                 _cond("ContainersReady", True, p.first_start + 0.5)]
    status: Obj = {"conditions": [_cond("Initialized", True, p.created + 1.0), *ready,
                                  _cond("PodScheduled", True, p.created)],
                   "containerStatuses": [cs]}
    status.update({**_ips(p), "phase": phase, "qosClass": _qos(p),
                   "startTime": ts(p.created + 1.0)})
    return status
