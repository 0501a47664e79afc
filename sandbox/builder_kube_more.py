"""Kube lists the first builder did not write: HorizontalPodAutoscalers, the StatefulSets'
PersistentVolumeClaims, and the Jobs / CronJobs of scheduled tasks (non-legacy only)."""

from __future__ import annotations

from typing import Any

from sandbox.builder_incidents import Incident
from sandbox.builder_kube import Obj, app_labels, list_obj, mem_qty, pod_spec, resource_version, ts
from sandbox.builder_world import World

_PROVISIONER = {"bank": ("ebs.csi.aws.com", "gp3"), "media": ("pd.csi.storage.gke.io",
                                                              "standard-rwo")}


def _meta(world: World, name: str, created: float, **extra: Any) -> Obj:
    meta: Obj = {"creationTimestamp": ts(created), **extra, "name": name,
                 "namespace": world.spec.namespace,
                 "resourceVersion": resource_version(world, "more:" + name),
                 "uid": world.uid("more:" + name)}
    return dict(sorted(meta.items()))


def _hpas(world: World, incident: Incident) -> list[Obj]:
    out = []
    end = world.end
    for svc in world.spec.services:
        if not svc.hpa_max:
            continue
        pods = [p for p in world.pods_of(svc.name) if p.exists(end) and p.deleting is None]
        current, desired = len(pods), world.desired(svc.name, end)
        usage = [incident.cpu_cores(p, end, svc.cpu_base * (0.6 + 0.4 * world.load(end)))
                 for p in pods if p.running(end)]
        util = int(round(100 * sum(usage) / max(1, len(usage)) / svc.cpu_request))
        maxed = current >= svc.hpa_max and util > 70
        scaled = [at for at, _ in world.scale.get(svc.name, ())]
        conds = [
            ("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size"),
            ("ScalingActive", "True", "ValidMetricFound", "the HPA was able to successfully "
             "calculate a replica count from cpu resource utilization (percentage of request)"),
            ("ScalingLimited", "True" if maxed else "False",
             "TooManyReplicas" if maxed else "DesiredWithinRange",
             "the desired replica count is more than the maximum replica count" if maxed
             else "the desired count is within the acceptable range")]
        since = max(scaled) if scaled else end - 86400 * 3
        status: Obj = {
            "conditions": [{"lastTransitionTime": ts(since), "message": msg, "reason": reason,
                            "status": st, "type": typ} for typ, st, reason, msg in conds],
            "currentMetrics": [{"resource": {"current": {
                "averageUtilization": util,
                "averageValue": f"{int(svc.cpu_request * util * 10)}m"}, "name": "cpu"},
                "type": "Resource"}],
            "currentReplicas": current, "desiredReplicas": desired}
        if scaled:
            status["lastScaleTime"] = ts(max(scaled))
        spec = {"maxReplicas": svc.hpa_max, "metrics": [{"resource": {"name": "cpu", "target": {
            "averageUtilization": 70, "type": "Utilization"}}, "type": "Resource"}],
                "minReplicas": svc.replicas,
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                   "name": svc.name}}
        out.append({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                    "metadata": _meta(world, svc.name, world.start - 86400 * 60,
                                      labels=app_labels(svc, world)),
                    "spec": spec, "status": status})
    return out


def _pvcs(world: World) -> list[Obj]:
    provisioner, klass = _PROVISIONER.get(world.spec.topology, ("csi.example-store.net",
                                                                 "ssd"))
    out = []
    for pod in world.pods:
        if pod.service.kind != "StatefulSet":
            continue
        name, size = f"data-{pod.name}", mem_qty(pod.service.volume_gib * 1024)
        notes = {"pv.kubernetes.io/bind-completed": "yes",
                 "pv.kubernetes.io/bound-by-controller": "yes",
                 "volume.beta.kubernetes.io/storage-provisioner": provisioner,
                 "volume.kubernetes.io/selected-node": pod.node.name,
                 "volume.kubernetes.io/storage-provisioner": provisioner}
        meta = _meta(world, name, pod.created - 30, annotations=notes,
                     finalizers=["kubernetes.io/pvc-protection"],
                     labels={"app": pod.service.name})
        out.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
                    "spec": {"accessModes": ["ReadWriteOnce"],
                             "resources": {"requests": {"storage": size}},
                             "storageClassName": klass, "volumeMode": "Filesystem",
                             "volumeName": "pvc-" + world.uid("pv:" + name)},
                    "status": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": size},
                               "phase": "Bound"}})
    return out


def _jobs(world: World) -> tuple[list[Obj], list[Obj]]:
    end = world.end
    runs = [j for j in world.jobs if j.pod.exists(end)]
    jobs, crons = [], {}
    for run in runs:
        pod = run.pod
        uid = pod.owner_uid
        labels = {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name":
                  run.name, "controller-uid": uid, "job-name": run.name}
        template = {"metadata": {"creationTimestamp": None, "labels": labels},
                    "spec": {**pod_spec(pod.service, world, pod.image_ref()),
                             "restartPolicy": "Never"}}
        done = pod.stopped is not None and pod.stopped <= end
        status: Obj = {"ready": 0, "startTime": ts(pod.created), "uncountedTerminatedPods": {}}
        if done and pod.stopped is not None:
            status.update({"conditions": [{
                "lastProbeTime": ts(pod.stopped + 1), "lastTransitionTime": ts(pod.stopped + 1),
                "message": "Job has reached the specified backoff limit",
                "reason": "BackoffLimitExceeded", "status": "True", "type": "Failed"}],
                "failed": 1})
        else:
            status["active"] = 1
        owner = [{"apiVersion": "batch/v1", "blockOwnerDeletion": True, "controller": True,
                  "kind": "CronJob", "name": run.cronjob,
                  "uid": world.uid(f"CronJob:{run.cronjob}")}]
        jobs.append({"apiVersion": "batch/v1", "kind": "Job", "metadata": {
            **_meta(world, run.name, pod.created - 0.5, labels=labels, ownerReferences=owner),
            "uid": uid}, "spec": {"backoffLimit": 0, "completionMode": "NonIndexed",
                                  "completions": 1, "parallelism": 1, "suspend": False,
                                  "template": template}, "status": dict(sorted(status.items()))})
        crons[run.cronjob] = (run, template)
    items = []
    for name, (run, template) in crons.items():
        last = max(j.scheduled for j in world.jobs if j.cronjob == name and j.scheduled <= end)
        items.append({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {
            **_meta(world, name, world.start - 86400 * 40), "uid": world.uid(f"CronJob:{name}")},
            "spec": {"concurrencyPolicy": "Forbid", "failedJobsHistoryLimit": 1, "jobTemplate": {
                "metadata": {"creationTimestamp": None}, "spec": {
                    "backoffLimit": 0, "template": {**template, "metadata": {
                        "creationTimestamp": None}}}},
                "schedule": run.schedule, "successfulJobsHistoryLimit": 3, "suspend": False},
            "status": {"lastScheduleTime": ts(last)}})
    return jobs, items


def more_lists(world: World, incident: Incident) -> dict[str, Obj]:
    if world.spec.legacy:
        return {}
    jobs, crons = _jobs(world)
    out = {"horizontalpodautoscalers": list_obj("HorizontalPodAutoscalerList", "autoscaling/v2",
                                                _hpas(world, incident), world),
           "persistentvolumeclaims": list_obj("PersistentVolumeClaimList", "v1", _pvcs(world),
                                              world)}
    if jobs or crons:
        out["jobs"] = list_obj("JobList", "batch/v1", jobs, world)
        out["cronjobs"] = list_obj("CronJobList", "batch/v1", crons, world)
    return out
