"""Detectors turn raw telemetry into findings.

Each detector is one class with one async method, ``detect(ctx)``, registered by
name (built-ins here, third-party ones through the ``oncall.detectors`` entry
point group).
"""

from detectors.context import InvestigationContext, Subject
from detectors.finding import Finding, Severity
from detectors.registry import Detector, all_detectors, register, run_detectors

__all__ = [
    "Detector",
    "Finding",
    "InvestigationContext",
    "Severity",
    "Subject",
    "all_detectors",
    "register",
    "run_detectors",
]
