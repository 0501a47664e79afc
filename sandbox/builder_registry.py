"""Every incident kind of the taxonomy and how to set one up for a world: red herrings
are planned first, so the incident's own plan sees (and never disturbs) them."""

from __future__ import annotations

from sandbox.builder_herrings import Herrings
from sandbox.builder_incidents import Healthy, Incident, OomKilled
from sandbox.builder_kinds_deploy import BadDeploy, CrashloopConfig, ImagePull
from sandbox.builder_kinds_infra import DiskFull, NodeFailure, SchedulingCapacity
from sandbox.builder_kinds_service import CpuThrottling, DependencyDown, TrafficSurge
from sandbox.builder_kinds_tls import CertExpiry
from sandbox.builder_world import World

INCIDENTS: dict[str, type[Incident]] = {
    cls.kind: cls for cls in (
        BadDeploy, OomKilled, CrashloopConfig, ImagePull, SchedulingCapacity, NodeFailure,
        DependencyDown, CpuThrottling, DiskFull, TrafficSurge, CertExpiry, Healthy)
}


def make_incident(world: World) -> tuple[Incident, Herrings]:
    """Instantiate and plan the incident for ``world.spec.incident.kind`` and the spec's
    red herrings."""
    kind = world.spec.incident.kind
    if kind not in INCIDENTS:
        raise NotImplementedError(
            f"incident kind {kind!r} is not implemented; available: {sorted(INCIDENTS)}")
    incident = INCIDENTS[kind](world)
    herrings = Herrings(world)
    herrings.plan(incident)
    incident.plan()
    herrings.plan_late()
    return incident, herrings
