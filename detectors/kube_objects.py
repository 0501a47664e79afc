"""Helpers over raw Kubernetes objects: owners, container states, times."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from detectors.context import Subject

Json = dict[str, Any]
_RS_HASH = re.compile(r"-[a-z0-9]{5,10}$")


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def replicaset_owners(replicasets: list[Json]) -> dict[str, str]:
    """ReplicaSet name -> Deployment name, from ownerReferences."""
    out = {}
    for rs in replicasets:
        meta = rs.get("metadata") or {}
        for ref in meta.get("ownerReferences") or []:
            if ref.get("kind") == "Deployment":
                out[meta.get("name", "")] = ref.get("name", "")
    return out


def workload_of_pod(pod: Json, rs_to_deploy: dict[str, str]) -> Subject:
    """The controller an engineer acts on: Pod -> ReplicaSet -> Deployment, or StatefulSet/DaemonSet/Job."""
    meta = pod.get("metadata") or {}
    ns = meta.get("namespace")
    for ref in meta.get("ownerReferences") or []:
        kind, name = ref.get("kind", ""), ref.get("name", "")
        if kind == "ReplicaSet":
            return Subject(namespace=ns, kind="Deployment",
                           name=rs_to_deploy.get(name) or _RS_HASH.sub("", name))
        if kind:
            return Subject(namespace=ns, kind=kind, name=name)
    return Subject(namespace=ns, kind="Pod", name=meta.get("name", ""))


def object_workload(kind: str, name: str, namespace: str | None, pods: dict[str, Subject],
                    rs_to_deploy: dict[str, str]) -> Subject:
    """An event's involved object rolled up to its workload."""
    if kind == "Pod" and name in pods:
        return pods[name]
    if kind == "Pod":
        base = _RS_HASH.sub("", _RS_HASH.sub("", name)) if name.count("-") >= 2 else name
        return Subject(namespace=namespace, kind="Deployment", name=base)
    if kind == "ReplicaSet":
        return Subject(namespace=namespace, kind="Deployment",
                       name=rs_to_deploy.get(name) or _RS_HASH.sub("", name))
    if kind == "Node":
        return Subject(namespace=None, kind="Node", name=name)
    return Subject(namespace=namespace, kind=kind or "Object", name=name)


def images(obj: Json) -> list[str]:
    spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or obj.get("spec") or {}
    return [c.get("image", "") for c in spec.get("containers") or []]


def container_statuses(pod: Json) -> list[Json]:
    status = pod.get("status") or {}
    return list(status.get("initContainerStatuses") or []) + list(status.get("containerStatuses") or [])
