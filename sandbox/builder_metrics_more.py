"""Exporters the first builder did not model: HPA state (kube-state-metrics), kubelet
volume stats of StatefulSet claims, blackbox TLS probes of HTTPS services, and Job
status of CronJob runs. Never part of legacy output."""

from __future__ import annotations

from sandbox.builder_incidents import Incident
from sandbox.builder_metrics import Family
from sandbox.builder_world import World

GIB = 1024 ** 3


def more_families(world: World, incident: Incident) -> list[Family]:
    if world.spec.legacy:
        return []
    return [*_hpa(world), *_volumes(world, incident), *_probes(world, incident), *_jobs(world)]


def _hpa(world: World) -> list[Family]:
    names = ("spec_max_replicas", "spec_min_replicas", "status_current_replicas",
             "status_desired_replicas")
    helps = ("Upper limit for the number of pods that can be set by the autoscaler; cannot "
             "be smaller than MinReplicas.", "Lower limit for the number of pods that can be "
             "set by the autoscaler, default 1.", "Current number of replicas of pods managed "
             "by this autoscaler.", "Desired number of replicas of pods managed by this "
             "autoscaler.")
    fams = [Family(f"kube_horizontalpodautoscaler_{n}", "gauge", h) for n, h in zip(names, helps)]
    times = world.grid("ksm", world.spec.ksm_step_s)
    ns = world.spec.namespace
    for svc in world.spec.services:
        if not svc.hpa_max:
            continue
        lab = {"namespace": ns, "horizontalpodautoscaler": svc.name}
        pods = world.pods_of(svc.name)
        values = (lambda t: float(svc.hpa_max), lambda t: float(svc.replicas),
                  lambda t: float(sum(1 for p in pods if p.exists(t) and p.deleting is None)),
                  lambda t: float(world.desired(svc.name, t)))
        for fam, fn in zip(fams, values):
            fam.add(fam.name, lab).extend((t, fn(t)) for t in times)
    return fams


def _volumes(world: World, incident: Incident) -> list[Family]:
    cap = Family("kubelet_volume_stats_capacity_bytes", "gauge",
                 "[ALPHA] Capacity in bytes of the volume")
    avail = Family("kubelet_volume_stats_available_bytes", "gauge",
                   "[ALPHA] Number of available bytes in the volume")
    used = Family("kubelet_volume_stats_used_bytes", "gauge",
                  "[ALPHA] Number of used bytes in the volume")
    times = world.grid("kubelet-volumes", world.spec.ksm_step_s)
    for pod in world.pods:
        if pod.service.kind != "StatefulSet":
            continue
        svc, node = pod.service, pod.node
        size = svc.volume_gib * GIB * 0.984  # ext4 metadata and reserved blocks
        r = world.rng("volume:" + pod.name)
        fill, growth = r.uniform(0.38, 0.61), r.uniform(2e-7, 9e-7)  # share, share per second
        lab = {"job": "kubelet", "instance": f"{node.ip}:10250", "namespace": world.spec.namespace,
               "node": node.name, "persistentvolumeclaim": f"data-{pod.name}"}
        s_cap, s_av, s_used = cap.add(cap.name, lab), avail.add(avail.name, lab), \
            used.add(used.name, lab)
        for t in times:
            if not node.up(t) or not pod.exists(t):
                continue
            base = size * (fill + growth * (t - world.start)) * (1 + r.gauss(0, 0.0004))
            u = min(size, incident.volume_used(pod, t, base, size))
            s_cap.append((t, float(int(size))))
            s_used.append((t, float(int(u))))
            s_av.append((t, float(int(size - u))))
    return [cap, avail, used]


def _probes(world: World, incident: Incident) -> list[Family]:
    ok = Family("probe_success", "gauge", "Displays whether or not the probe was a success")
    expiry = Family("probe_ssl_earliest_cert_expiry", "gauge",
                    "Returns last SSL chain expiry in unixtime")
    times = world.grid("blackbox", world.spec.step_s)
    for svc in world.spec.services:
        if not svc.tls:
            continue
        lab = {"instance": f"https://{svc.name}.{world.spec.namespace}.svc:{svc.port}/healthz",
               "job": "blackbox"}
        not_after = incident.cert_not_after(svc.name)
        s_ok, s_exp = ok.add(ok.name, lab), expiry.add(expiry.name, lab)
        for t in times:
            good = t < not_after and world.ready_count(svc.name, t) > 0
            s_ok.append((t, 1.0 if good else 0.0))
            s_exp.append((t, float(int(not_after))))
    return [ok, expiry]


def _jobs(world: World) -> list[Family]:
    fams = {k: Family(f"kube_job_status_{k}", "gauge", f"The number of pods which {v}.")
            for k, v in (("active", "are actively running"), ("succeeded", "reached Phase "
                                                                 "Succeeded"),
                         ("failed", "reached Phase Failed"))}
    times = world.grid("ksm", world.spec.ksm_step_s)
    for pod in world.pods:
        if pod.owner_kind != "Job":
            continue
        lab = {"namespace": world.spec.namespace, "job_name": pod.owner_name}
        alive = [t for t in times if pod.exists(t)]
        for key, fam in fams.items():
            fam.add(fam.name, lab).extend(
                (t, 1.0 if {"Running": "active", "Pending": "active", "Succeeded": "succeeded",
                            "Failed": "failed"}[pod.phase(t)] == key else 0.0) for t in alive)
    return list(fams.values())
