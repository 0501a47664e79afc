"""From pods to the workloads an engineer acts on, using kube-state-metrics' kube_pod_info."""

from __future__ import annotations

import re

from detectors.context import InvestigationContext, Subject
from detectors.promql import selector

_RS_HASH = re.compile(r"-[a-z0-9]{5,10}$")


def owner_of(kind: str | None, name: str | None, pod: str, namespace: str | None) -> Subject:
    """Workload behind a pod: a ReplicaSet's Deployment, a Job's CronJob name stays the Job."""
    if kind == "ReplicaSet" and name:
        return Subject(namespace=namespace, kind="Deployment", name=_RS_HASH.sub("", name))
    if kind and name and kind != "<none>":
        return Subject(namespace=namespace, kind=kind, name=name)
    return Subject(namespace=namespace, kind="Pod", name=pod)


async def pod_owners(ctx: InvestigationContext) -> dict[tuple[str, str], Subject]:
    """(namespace, pod) -> owning workload, for the investigation's namespace."""
    expr = (f"max by (namespace, pod, created_by_kind, created_by_name) "
            f"({selector('kube_pod_info', namespace=ctx.namespace)})")
    result = await ctx.instant(expr)
    owners: dict[tuple[str, str], Subject] = {}
    for s in result.data or [] if result.ok else []:
        ns, pod = s.labels.get("namespace", ""), s.labels.get("pod", "")
        owners[(ns, pod)] = owner_of(s.labels.get("created_by_kind"), s.labels.get("created_by_name"),
                                     pod, ns or None)
    return owners


def workload_of(owners: dict[tuple[str, str], Subject], namespace: str, pod: str) -> Subject:
    return owners.get((namespace, pod)) or owner_of(None, None, pod, namespace or None)


async def workload_catalog(ctx: InvestigationContext) -> dict[str, Subject]:
    """Workload name -> Subject for the namespace's Deployments, StatefulSets and DaemonSets."""
    kinds = (("kube_deployment_spec_replicas", "deployment", "Deployment"),
             ("kube_statefulset_replicas", "statefulset", "StatefulSet"),
             ("kube_daemonset_status_desired_number_scheduled", "daemonset", "DaemonSet"))
    catalog: dict[str, Subject] = {}
    for metric, label, kind in kinds:
        result = await ctx.instant(f"max by (namespace, {label}) ({selector(metric, namespace=ctx.namespace)})")
        for s in result.data or [] if result.ok else []:
            name = s.labels.get(label, "")
            catalog.setdefault(name, Subject(namespace=s.labels.get("namespace") or ctx.namespace,
                                             kind=kind, name=name))
    return catalog
