"""Importing this module registers the built-in detectors."""

from detectors import pod_restarts, slo_burn  # noqa: F401
