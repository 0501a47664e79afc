"""What counts as unhealthy, read off raw objects, and the next checks it calls for.

Kept apart from the fetching in `health.py` so each rule is a small pure
function: a pod is "not ready" only while Running or Failed (Pending pods are
listed with their scheduling reason instead), a workload is short when fewer
replicas are available than desired, a restart counts when it happened in the
last hour.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

from adapters.envelope import SourceResult
from adapters.events import KubeEvent
from detectors.finding import Finding
from detectors.kube_objects import parse_time
from reasoning.workflows import kube_view as kv
from reasoning.workflows.checks import NextCheck, for_cause, ranked

if TYPE_CHECKING:
    from reasoning.workflows.health import HealthResult

Json = dict[str, Any]
HOUR = timedelta(hours=1)
WAITING_CAUSE = {"ImagePullBackOff": "image-pull", "ErrImagePull": "image-pull",
                 "InvalidImageName": "image-pull",
                 "CreateContainerConfigError": "crashloop-config",
                 "CreateContainerError": "crashloop-config",
                 "RunContainerError": "crashloop-config", "CrashLoopBackOff": "crashloop-config"}
SURGE_CAUSE = {"oom-killed": "oom-killed", "failed-scheduling": "scheduling-capacity",
               "image-pull": "image-pull", "crash-exit": "crashloop-config",
               "config-error": "crashloop-config"}


def pods_not_ready(pods: list[Json], owners: dict[str, str],
                   bad_nodes: dict[str, list[str]]) -> list[Json]:
    """Running-but-unready and Failed pods, with what is known of why (node included)."""
    out = []
    for pod in pods:
        phase = kv.phase(pod)
        if phase in ("Succeeded", "Pending") or (phase == "Running" and kv.is_ready(pod)):
            continue
        reasons = kv.waiting(pod)
        if phase == "Failed" and (pod.get("status") or {}).get("reason"):
            reasons.insert(0, f"pod: {pod['status']['reason']}")
        ready = kv.condition(pod, "Ready")
        if not reasons and ready:
            why = ready.get("reason") or ready.get("message")
            reasons.append(f"Ready={ready.get('status')}" + (f" ({why})" if why else ""))
        node = (pod.get("spec") or {}).get("nodeName")
        if node in bad_nodes:
            reasons.append(f"node {node}: {', '.join(bad_nodes[node])}")
        out.append({"namespace": kv.meta(pod).get("namespace", ""),
                    "pod": kv.meta(pod).get("name", ""), "workload": kv.workload(pod, owners),
                    "phase": phase, "not_ready": kv.not_ready_containers(pod), "reasons": reasons})
    return out


def pending(pods: list[Json], owners: dict[str, str], events: list[KubeEvent]) -> list[Json]:
    out = []
    for pod in pods:
        if kv.phase(pod) != "Pending":
            continue
        reason, message = kv.scheduling_reason(pod, events)
        out.append({"namespace": kv.meta(pod).get("namespace", ""),
                    "pod": kv.meta(pod).get("name", ""), "workload": kv.workload(pod, owners),
                    "since": kv.created(pod), "reason": reason, "message": message})
    return out


def nodes(items: list[Json], pods: list[Json], namespace: str | None) -> list[Json]:
    """Problem nodes; in namespace mode only those running (or meant to run) its pods."""
    placed = Counter((p.get("spec") or {}).get("nodeName") for p in pods)
    out = []
    for node in items:
        name = kv.meta(node).get("name", "")
        problems = kv.node_problems(node)
        if problems and (namespace is None or placed[name]):
            out.append({"node": name, "conditions": problems, "pods": placed[name]})
    return out


def workloads(deployments: list[Json], statefulsets: list[Json]) -> list[Json]:
    out = []
    for kind, items, ready_key in (("Deployment", deployments, "availableReplicas"),
                                   ("StatefulSet", statefulsets, "readyReplicas")):
        for obj in items:
            desired = (obj.get("spec") or {}).get("replicas")
            desired = 1 if desired is None else int(desired)
            available = int((obj.get("status") or {}).get(ready_key) or 0)
            if available < desired:
                out.append({"namespace": kv.meta(obj).get("namespace", ""), "kind": kind,
                            "name": kv.meta(obj).get("name", ""), "desired": desired,
                            "available": available, "unavailable": desired - available})
    return out


def restarts(findings: list[Finding], pods: list[Json], owners: dict[str, str],
             at: datetime) -> list[Json]:
    """Prometheus's restarts in the last hour, joined with the API's last termination; a
    termination the API shows in the hour but Prometheus does not is kept (count unknown)."""
    api: dict[tuple[str, str, str], tuple[Json, Json]] = {}
    for pod in pods:
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            api[(kv.meta(pod).get("namespace", ""), kv.meta(pod).get("name", ""),
                 cs.get("name", ""))] = (pod, cs)
    out: dict[tuple[str, str, str], Json] = {}
    for f in findings:
        for c in f.facts.get("containers", []):
            key = (f.subject.namespace or "", c["pod"], c["container"])
            out[key] = {"restarts": int(c["restarts"]), "last_reason": c.get("reason"),
                        "exit_code": c.get("exit_code"),
                        "workload": f"{f.subject.kind}/{f.subject.name}"}
    for key, (pod, cs) in api.items():
        last = kv.last_termination(cs)
        finished = parse_time(last.get("finishedAt"))
        if key not in out and finished is not None and finished >= at - HOUR:
            out[key] = {"restarts": None}
        if key in out:
            row = out[key]
            row["workload"] = kv.workload(pod, owners)
            row["restart_count"] = int(cs.get("restartCount") or 0)
            row["last_reason"] = last.get("reason") or row.get("last_reason")
            row["exit_code"] = last.get("exitCode", row.get("exit_code"))
            row["finished_at"] = finished
    return [{"namespace": k[0], "pod": k[1], "container": k[2], **{"workload": f"Pod/{k[1]}", **v}}
            for k, v in sorted(out.items(), key=lambda kv_: (-(kv_[1]["restarts"] or 0), kv_[0]))]


def alerts(items: list[Json], namespace: str | None) -> list[Json]:
    """Firing alerts of the namespace, plus those with no namespace (nodes, cluster)."""
    out = []
    for a in items:
        labels = dict(a.get("labels") or {})
        if (a.get("status") or {}).get("state", "active") != "active":
            continue
        if namespace and labels.get("namespace") not in (None, namespace):
            continue
        notes = a.get("annotations") or {}
        out.append({"alertname": labels.get("alertname", "?"), "severity": labels.get("severity"),
                    "namespace": labels.get("namespace"),
                    "summary": notes.get("summary") or notes.get("description"),
                    "starts_at": a.get("startsAt"), "labels": labels,
                    "link": a.get("generatorURL"), "runbook_url": notes.get("runbook_url")})
    return sorted(out, key=lambda x: (x["severity"] not in ("page", "critical"), x["alertname"]))


def slim(result: SourceResult) -> SourceResult:
    """The call without its payload: the query, status and link are the evidence."""
    return result.model_copy(update={"data": None})


def next_checks(r: "HealthResult", namespace: str | None) -> list[NextCheck]:
    """Commands for what was found, strongest signal first (policies/next_checks.yaml)."""
    ns = namespace
    checks: list[NextCheck] = []
    by_workload: dict[str, list[Any]] = defaultdict(list)
    for x in r.restarts:
        by_workload[f"{x.namespace}|{x.workload}"].append(x)
    for key, rows in by_workload.items():
        wns, (kind, name) = key.split("|")[0], key.split("|")[1].split("/", 1)
        reasons = Counter(x.last_reason for x in rows if x.last_reason)
        reason = reasons.most_common(1)[0][0] if reasons else "unknown"
        cause = "oom-killed" if reason == "OOMKilled" else "crashloop-config"
        total = sum(x.restarts or 0 for x in rows)
        checks += for_cause(cause, f"{kind} {name}: {total} restart(s) in 1h, last {reason}",
                            0.9 if cause == "oom-killed" else 0.8, namespace=wns, name=name,
                            kind=kind)
    for node in r.nodes:
        down = any(c.startswith("NotReady") for c in node.conditions)
        checks += for_cause("node-failure", f"node {node.node}: {', '.join(node.conditions)}",
                            0.95 if down else 0.7, namespace=ns, name=node.node, kind="node")
    pending_by: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for p in r.pending:
        pending_by[(p.namespace, p.workload)].append(p)
    for (pns, wl), group in pending_by.items():
        kind, name = wl.split("/", 1)
        why = f"{len(group)} pod(s) of {wl} Pending: {group[0].message or group[0].reason}"
        checks += for_cause("scheduling-capacity", why, 0.85, namespace=pns, name=name, kind=kind)
    for p in r.pods_not_ready:
        kind, name = p.workload.split("/", 1)
        causes = [WAITING_CAUSE[w.split(": ")[1].split(" ")[0]] for w in p.reasons
                  if ": " in w and w.split(": ")[1].split(" ")[0] in WAITING_CAUSE]
        why = f"{p.pod} not ready: {'; '.join(p.reasons) or 'readiness failing'}"
        checks += (for_cause(causes[0], why, 0.85, namespace=p.namespace, name=name, kind=kind)
                   if causes else [NextCheck(command=f"kubectl -n {p.namespace} describe pod "
                                             f"{p.pod}", why=why, score=0.6)])
    for w in r.workloads:
        why = f"{w.kind} {w.name}: {w.available}/{w.desired} available"
        checks += [NextCheck(command=f"kubectl -n {w.namespace} rollout status "
                             f"{w.kind.lower()}/{w.name} --timeout=10s", why=why, score=0.65),
                   NextCheck(command=f"kubectl -n {w.namespace} describe {w.kind.lower()} "
                             f"{w.name}", why=why, score=0.65)]
    for s in r.event_surges:
        kind, name = s.workload.split("/", 1)
        why = f"{s.workload}: {s.count} Warning events ({'/'.join(s.reasons)}) in 30 min"
        cause = SURGE_CAUSE.get(s.signal)
        checks += (for_cause(cause, why, 0.55, namespace=ns, name=name, kind=kind) if cause else
                   [NextCheck(command=f"kubectl -n {ns or 'default'} get events --field-selector "
                              f"involvedObject.name={name} --sort-by=.lastTimestamp",
                              why=why, score=0.5)])
    checks += _alert_checks(r)
    if not checks:
        where = f"-n {ns}" if ns else "-A"
        checks = [NextCheck(command=f"kubectl get pods {where} -o wide", why="nothing found: "
                            "confirm by eye", score=0.2),
                  NextCheck(command=f"kubectl get events {where} --field-selector type=Warning "
                            "--sort-by=.lastTimestamp", why="nothing found: recent warnings",
                            score=0.2)]
    return ranked(checks)


def _alert_checks(r: "HealthResult") -> list[NextCheck]:
    """The firing alert's own expression (from its generator URL), to see it move."""
    out = []
    for a in r.alerts:
        expr = (parse_qs(urlparse(a.link).query).get("g0.expr") or [None])[0] if a.link else None
        score = 0.75 if a.severity in ("page", "critical") else 0.5
        if expr:
            out.append(NextCheck(command=" ".join(expr.split()), score=score,
                                 why=f"alert {a.alertname} firing: its expression"))
        if a.runbook_url:
            out.append(NextCheck(command=f"open {a.runbook_url}", why=f"{a.alertname} runbook",
                                 score=score))
    return out


def summary(r: "HealthResult") -> str:
    where = r.namespace or "cluster"
    parts = []
    if r.restarts:
        reasons = Counter(x.last_reason or "unknown" for x in r.restarts)
        parts.append(f"{len(r.restarts)} container(s) restarted in the last hour ("
                     + ", ".join(f"{k} x{v}" for k, v in reasons.most_common()) + ")")
    for items, what in ((r.pods_not_ready, "pod(s) not ready"), (r.pending, "pod(s) Pending"),
                        (r.workloads, "workload(s) short of replicas"),
                        (r.nodes, "node(s) not ready or under pressure"),
                        (r.event_surges, "Warning-event surge(s)"),
                        (r.alerts, "alert(s) firing")):
        if items:
            parts.append(f"{len(items)} {what}")
    text = f"{where}: " + ("; ".join(parts) if parts else "healthy, nothing found")
    if r.failures:
        text += f" ({len(r.failures)} source(s) unavailable: see failures)"
    return text
