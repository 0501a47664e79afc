"""The only Kubernetes API calls the copilot may make: get and list of named kinds.

An on-call bot holding cluster credentials must be harmless even if its code
or its prompt goes wrong, so reads are enumerated here, method by method, and
nothing else is reachable through :mod:`adapters.kube`. Secrets and ConfigMaps
are absent on purpose: their data would leak into chat and LLM prompts. The
same table yields the RBAC rules the Helm chart's ClusterRole must grant.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubernetes import client as k8s


@dataclass(frozen=True)
class Read:
    """One readable kind: where it lives and the client methods that read it."""

    kind: str
    group: str  # "" for the core group
    version: str
    plural: str
    namespaced: bool
    api: type
    list_namespaced: str | None
    list_all: str
    read: str

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """The REST path a call hits, shown in results so a human can repeat it."""
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        ns = f"/namespaces/{namespace}" if namespace and self.namespaced else ""
        return f"{root}{ns}/{self.plural}" + (f"/{name}" if name else "")


def _ns(kind: str, group: str, version: str, plural: str, api: type, snake: str) -> Read:
    """A namespaced kind whose client methods follow the usual naming."""
    return Read(kind, group, version, plural, True, api, f"list_namespaced_{snake}",
                f"list_{snake}_for_all_namespaces", f"read_namespaced_{snake}")


READS: dict[str, Read] = {
    "pods": _ns("Pod", "", "v1", "pods", k8s.CoreV1Api, "pod"),
    "events": _ns("Event", "", "v1", "events", k8s.CoreV1Api, "event"),
    "events.k8s.io": _ns("Event", "events.k8s.io", "v1", "events", k8s.EventsV1Api, "event"),
    "nodes": Read("Node", "", "v1", "nodes", False, k8s.CoreV1Api, None, "list_node",
                  "read_node"),
    "deployments": _ns("Deployment", "apps", "v1", "deployments", k8s.AppsV1Api, "deployment"),
    "replicasets": _ns("ReplicaSet", "apps", "v1", "replicasets", k8s.AppsV1Api, "replica_set"),
    "statefulsets": _ns("StatefulSet", "apps", "v1", "statefulsets", k8s.AppsV1Api,
                        "stateful_set"),
    "daemonsets": _ns("DaemonSet", "apps", "v1", "daemonsets", k8s.AppsV1Api, "daemon_set"),
    "jobs": _ns("Job", "batch", "v1", "jobs", k8s.BatchV1Api, "job"),
    "cronjobs": _ns("CronJob", "batch", "v1", "cronjobs", k8s.BatchV1Api, "cron_job"),
    "horizontalpodautoscalers": _ns("HorizontalPodAutoscaler", "autoscaling", "v2",
                                    "horizontalpodautoscalers", k8s.AutoscalingV2Api,
                                    "horizontal_pod_autoscaler"),
    "persistentvolumeclaims": _ns("PersistentVolumeClaim", "", "v1", "persistentvolumeclaims",
                                  k8s.CoreV1Api, "persistent_volume_claim"),
    "services": _ns("Service", "", "v1", "services", k8s.CoreV1Api, "service"),
    "endpoints": _ns("Endpoints", "", "v1", "endpoints", k8s.CoreV1Api, "endpoints"),
    "resourcequotas": _ns("ResourceQuota", "", "v1", "resourcequotas", k8s.CoreV1Api,
                          "resource_quota"),
    "limitranges": _ns("LimitRange", "", "v1", "limitranges", k8s.CoreV1Api, "limit_range"),
}

ALIASES = {"pod": "pods", "po": "pods", "ev": "events", "node": "nodes", "no": "nodes",
           "deploy": "deployments", "deployment": "deployments", "rs": "replicasets",
           "replicaset": "replicasets", "sts": "statefulsets", "statefulset": "statefulsets",
           "ds": "daemonsets", "daemonset": "daemonsets", "job": "jobs", "cj": "cronjobs",
           "cronjob": "cronjobs", "hpa": "horizontalpodautoscalers",
           "hpas": "horizontalpodautoscalers", "pvc": "persistentvolumeclaims",
           "pvcs": "persistentvolumeclaims", "svc": "services", "service": "services",
           "ep": "endpoints", "quota": "resourcequotas", "limits": "limitranges"}

BY_KIND: dict[str, str] = {r.kind: key for key, r in READS.items() if key != "events.k8s.io"}

POD_LOG = "read_namespaced_pod_log"  # pods/log, the one subresource read


def resolve(resource: str) -> Read | None:
    """The allowlisted read for a resource name or kubectl short name, else None."""
    key = ALIASES.get(resource.lower(), resource.lower())
    return READS.get(key)


def allowed_methods() -> set[str]:
    """Every kubernetes client method name the wrapper may call."""
    names = {POD_LOG}
    for read in READS.values():
        names.update(n for n in (read.list_namespaced, read.list_all, read.read) if n)
    return names


def rbac_rules() -> list[dict[str, list[str]]]:
    """ClusterRole rules covering exactly these reads: get/list, plus get on pods/log."""
    groups: dict[str, set[str]] = {}
    for read in READS.values():
        groups.setdefault(read.group, set()).add(read.plural)
    rules = [{"apiGroups": [group], "resources": sorted(plurals), "verbs": ["get", "list"]}
             for group, plurals in sorted(groups.items())]
    rules.append({"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]})
    return rules
