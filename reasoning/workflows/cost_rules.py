"""The cost checks as pure functions over pods, usage samples and the policy.

Numbers are in cores and GiB throughout (requests as the scheduler reserves
them); money is the policy's hourly unit prices times those.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from adapters.events import KubeEvent
from detectors.kube_objects import parse_time
from reasoning.workflows import kube_view as kv
from reasoning.workflows.cost_policy import CostPolicy

Json = dict[str, Any]
PodKey = tuple[str, str]  # (namespace, pod)


def _key(pod: Json) -> PodKey:
    return kv.meta(pod).get("namespace", ""), kv.meta(pod).get("name", "")


def crash_looping(pod: Json, restarts: int | None, since: datetime,
                  policy: CostPolicy) -> tuple[bool, str]:
    """Whether the pod crash-looped in the window (restarted with a crash reason, or waits
    in CrashLoopBackOff), and how it shows. `restarts` None: Prometheus did not answer, so
    a termination that finished in the window stands in for the count."""
    deaths = []
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        last = kv.last_termination(cs)
        waiting = ((cs.get("state") or {}).get("waiting") or {}).get("reason")
        if waiting == "CrashLoopBackOff":
            return True, f"{cs.get('name')}: CrashLoopBackOff, last {last.get('reason', '?')}"
        finished = parse_time(last.get("finishedAt"))
        if last and (restarts or (restarts is None and finished and finished >= since)):
            deaths.append((cs.get("name"), last.get("reason")))
    if restarts and not deaths:
        deaths.append(("?", None))
    crashes = [(name, why) for name, why in deaths if why is None or why in policy.crash_reasons]
    if not crashes:
        return False, ""
    count = f"{restarts} restart(s)" if restarts is not None else "restarted"
    return True, f"{count}, last " + ", ".join(f"{why or 'unknown'} ({name})"
                                               for name, why in crashes)


def waste(pods: list[Json], owners: dict[str, str], restarts: dict[PodKey, int] | None,
          pending_minutes: dict[PodKey, float] | None, at: datetime, window_h: float,
          policy: CostPolicy) -> list[Json]:
    """Requests held by crash-looping pods (whole window) and Pending ones (time Pending)."""
    since = at.timestamp() - window_h * 3600
    start = datetime.fromtimestamp(since, tz=at.tzinfo)
    out = []
    for pod in pods:
        key = _key(pod)
        count = restarts.get(key, 0) if restarts is not None else None
        looping, detail = crash_looping(pod, count, start, policy)
        hours = window_h if looping else 0.0
        state = "crash-looping"
        minutes = (pending_minutes or {}).get(key, 0.0)
        if not looping and (minutes > 0 or kv.phase(pod) == "Pending"):
            state, detail = "pending", _pending_detail(pod)
            created = kv.created(pod)
            known = minutes / 60 if pending_minutes is not None else (
                (at - created).total_seconds() / 3600 if created else window_h)
            hours = min(window_h, max(known, 0.0))
        hours = round(hours, 4)
        if hours <= 0:
            continue
        cores, memory = kv.pod_requests(pod)
        gib = memory / kv.GiB
        out.append({"namespace": key[0], "pod": key[1], "workload": kv.workload(pod, owners),
                    "state": state, "detail": detail, "restarts": count, "cpu_cores": cores,
                    "memory_gib": round(gib, 6), "hours": hours,
                    "core_hours": round(cores * hours, 6), "gib_hours": round(gib * hours, 6),
                    "cost": round(policy.hourly(cores, gib) * hours, 6)})
    return sorted(out, key=lambda w: -w["cost"])


def _pending_detail(pod: Json) -> str:
    if kv.phase(pod) != "Pending":
        return f"Pending during the window, now {kv.phase(pod)}"
    scheduled = kv.condition(pod, "PodScheduled")
    return f"Pending: {scheduled.get('reason') or 'not started'}" + (
        f" ({scheduled['message']})" if scheduled.get("message") else "")


def _grouped(pods: list[Json], owners: dict[str, str]):
    """(namespace, workload, container) -> (container spec, [pod names]): one spec per group."""
    groups: dict[tuple[str, str, str], tuple[Json, list[str]]] = {}
    for pod in pods:
        if kv.phase(pod) in ("Succeeded", "Failed"):
            continue
        ns, name = _key(pod)
        for c in kv.containers(pod):
            key = (ns, kv.workload(pod, owners), c.get("name", "?"))
            groups.setdefault(key, (c, []))[1].append(name)
    return groups


def missing(pods: list[Json], owners: dict[str, str], policy: CostPolicy) -> list[Json]:
    out = []
    for (ns, wl, name), (c, names) in sorted(_grouped(pods, owners).items()):
        requests, limits = kv.resources(c, "requests"), kv.resources(c, "limits")
        gaps = [f"requests.{r}" for r in policy.require_requests if r not in requests]
        gaps += [f"limits.{r}" for r in policy.require_limits if r not in limits]
        if gaps:
            out.append({"namespace": ns, "workload": wl, "container": name,
                        "pods": sorted(names), "missing": gaps})
    return out


def ratios(pods: list[Json], owners: dict[str, str], policy: CostPolicy) -> list[Json]:
    out = []
    for (ns, wl, name), (c, names) in sorted(_grouped(pods, owners).items()):
        requests, limits = kv.resources(c, "requests"), kv.resources(c, "limits")
        for res in ("cpu", "memory"):
            req, lim = requests.get(res), limits.get(res)
            if req and lim and lim / req > policy.max_limit_request_ratio:
                scale = 1.0 if res == "cpu" else kv.GiB
                out.append({"namespace": ns, "workload": wl, "container": name,
                            "resource": res, "request": req / scale, "limit": lim / scale,
                            "ratio": round(lim / req, 3), "pods": sorted(names)})
    return out


def overprovisioned(pods: list[Json], owners: dict[str, str],
                    usage: dict[str, dict[tuple[str, str, str], float]],
                    skip: set[PodKey], policy: CostPolicy) -> list[Json]:
    """Containers whose request is `factor` x their usage quantile or more; the unused
    part (request - usage) is what could be given back."""
    out = []
    floor = {"cpu": policy.min_excess_cpu_cores, "memory": policy.min_excess_memory_gib}
    for pod in pods:
        key = _key(pod)
        if key in skip or kv.phase(pod) != "Running":
            continue
        for c in kv.containers(pod):
            requests = kv.resources(c, "requests")
            for res in ("cpu", "memory"):
                used = usage.get(res, {}).get((*key, c.get("name", "")))
                if used is None or not requests.get(res):
                    continue
                scale = 1.0 if res == "cpu" else kv.GiB
                req, used = requests[res] / scale, used / scale
                excess = req - used
                if req >= policy.overprovision_factor * used and excess >= floor[res]:
                    out.append({"namespace": key[0], "pod": key[1],
                                "workload": kv.workload(pod, owners),
                                "container": c.get("name", ""), "resource": res,
                                "request": round(req, 6), "usage": round(used, 6),
                                "excess": round(excess, 6),
                                "ratio": round(req / used, 2) if used > 0 else None})
    return sorted(out, key=lambda o: (o["resource"], -o["excess"]))


def scheduling(events: list[KubeEvent], pods: list[Json], owners: dict[str, str]) -> list[Json]:
    """FailedScheduling events per pod: how often, how recently, the scheduler's words."""
    by_name = {_key(p)[1]: p for p in pods}
    grouped: dict[tuple[str, str], list[KubeEvent]] = defaultdict(list)
    for e in events:
        if e.reason == "FailedScheduling":
            grouped[(e.namespace or "", e.name)].append(e)
    out = []
    for (ns, name), items in sorted(grouped.items()):
        newest = max(items, key=lambda e: e.last or e.first or kv.EPOCH)
        pod = by_name.get(name)
        out.append({"namespace": ns, "pod": name,
                    "workload": kv.workload(pod, owners) if pod else f"Pod/{name}",
                    "count": sum(e.count for e in items), "last_seen": newest.last,
                    "message": newest.message, "pending_now": bool(pod and
                                                                    kv.phase(pod) == "Pending")})
    return out


def requested(pods: list[Json]) -> tuple[float, float]:
    """(cores, GiB) requested by the pods that hold (or wait for) capacity."""
    live = [p for p in pods if kv.phase(p) in ("Running", "Pending", "Unknown")]
    cores = sum(kv.pod_requests(p)[0] for p in live)
    return cores, sum(kv.pod_requests(p)[1] for p in live) / kv.GiB
