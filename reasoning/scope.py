"""Where to look: namespace, service and workload named by an alert's labels.

kube-prometheus-stack alerts carry `namespace` plus one of `deployment`,
`statefulset`, `daemonset`, `job_name` or `pod`; SLO alerts usually carry
`service`. Labels re-exported by federation get an `exported_` prefix.
"""

from __future__ import annotations

import re

from detectors.context import Subject

_WORKLOAD_LABELS = (
    ("deployment", "Deployment"),
    ("statefulset", "StatefulSet"),
    ("daemonset", "DaemonSet"),
    ("job_name", "Job"),
    ("cronjob", "CronJob"),
)
_POD_HASH = re.compile(r"-[a-z0-9]{6,10}-[a-z0-9]{5}$")


def _get(labels: dict[str, str], name: str) -> str | None:
    return labels.get(name) or labels.get(f"exported_{name}") or None


def scope_from_labels(labels: dict[str, str]) -> tuple[str | None, str | None, Subject | None]:
    """(namespace, service, workload) named by the labels; each may be None."""
    namespace = _get(labels, "namespace")
    workload = None
    for label, kind in _WORKLOAD_LABELS:
        if value := _get(labels, label):
            workload = Subject(namespace=namespace, kind=kind, name=value)
            break
    pod = _get(labels, "pod")
    if workload is None and pod:
        base = _POD_HASH.sub("", pod)
        workload = Subject(namespace=namespace, kind="Deployment" if base != pod else "Pod", name=base)
    service = (_get(labels, "service") or _get(labels, "app")
               or _get(labels, "app_kubernetes_io_name") or (workload.name if workload else None))
    if workload and service and service == _get(labels, "job"):
        service = workload.name  # the exporter that was scraped, not the app
    return namespace, service, workload
