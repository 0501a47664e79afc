"""Importing this module registers the built-in detectors."""

from detectors import (  # noqa: F401
    holt_winters,
    latency,
    node_health,
    pending_pods,
    pod_restarts,
    replicas,
    saturation,
    service_errors,
    slo_burn,
    throttling,
    traffic,
    vitals,
)
