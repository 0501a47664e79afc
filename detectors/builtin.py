"""Importing this module registers the built-in detectors."""

from detectors import (  # noqa: F401
    latency,
    node_health,
    pending_pods,
    pod_restarts,
    replicas,
    service_errors,
    slo_burn,
    throttling,
    traffic,
    vitals,
)
