"""Importing this module registers the built-in detectors."""

from detectors import (  # noqa: F401
    holt_winters,
    event_surges,
    latency,
    log_signals,
    node_health,
    pending_pods,
    pod_restarts,
    pod_states,
    replicas,
    rollout,
    saturation,
    service_errors,
    slo_burn,
    throttling,
    traffic,
    vitals,
)
