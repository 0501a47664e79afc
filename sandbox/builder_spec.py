"""Declarative description of a synthetic scenario: cluster, workloads, incident.

The builder turns one ``ScenarioSpec`` into a complete scenario folder. Specs are
plain frozen dataclasses so tests and later incident kinds can tweak a default
topology with ``dataclasses.replace`` instead of writing data by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

DEFAULT_END = datetime(2026, 1, 5, 12, 0, 0, tzinfo=timezone.utc)
DEMO_SEED = 20260105

# Taxonomy from FORMAT.md; the builder implements a growing subset (see builder_incidents).
INCIDENT_KINDS = (
    "bad-deploy", "oom-killed", "crashloop-config", "image-pull", "scheduling-capacity",
    "node-failure", "dependency-down", "cpu-throttling", "disk-full", "traffic-surge",
    "cert-expiry", "none",
)


@dataclass(frozen=True)
class ServiceSpec:
    """One workload (Deployment or StatefulSet) and the traffic it serves.

    ``runtime`` picks the log style (java: Spring Boot, node: pino JSON, go: slog
    JSON, postgres). ``rps`` is the total baseline request rate; 0 means the
    workload exports no HTTP metrics (e.g. a database).
    """

    name: str
    runtime: str
    kind: str = "Deployment"
    replicas: int = 2
    version: str = "v1.0.0"
    image: str = ""
    port: int = 8080
    cpu_request: float = 0.25
    cpu_limit: float | None = None
    mem_request_mib: int = 256
    mem_limit_mib: int = 512
    mem_base_mib: float = 200.0
    cpu_base: float = 0.1
    rps: float = 0.0
    method: str = "GET"
    post_share: float = 0.0
    latency_s: float = 0.05
    upstreams: tuple[str, ...] = ()
    histogram: bool = True  # export http_request_duration_seconds (size vs. detail)
    hpa_max: int = 0  # > 0: a HorizontalPodAutoscaler scales it between replicas and hpa_max
    tls: bool = False  # serves HTTPS with a cert-manager certificate (probed by blackbox)
    volume_gib: int = 20  # StatefulSet data volume size

    @property
    def image_ref(self) -> str:
        return self.image or f"registry.example-store.net/store/{self.name}:{self.version}"


@dataclass(frozen=True)
class IncidentSpec:
    """What goes wrong: ``kind`` from the taxonomy, the culprit ``target`` workload
    (None for ``none``; a node name or None for ``node-failure``; the failing downstream
    for ``dependency-down``/``disk-full``/``cert-expiry``, whose callers page), and
    ``onset_s`` seconds after the recording starts."""

    kind: str = "oom-killed"
    target: str | None = "checkout"
    onset_s: float = 7800.0
    page: str = ""  # override the kind's default page (see builder_page.PAGES)


@dataclass(frozen=True)
class ScenarioSpec:
    """Everything the builder needs; defaults give a small 'store' shop."""

    name: str
    namespace: str = "store"
    cluster: str = "store-prod-eu1"
    end: datetime = DEFAULT_END
    duration_s: int = 3 * 3600
    step_s: int = 30
    ksm_step_s: int = 60
    seed: int = DEMO_SEED
    nodes: tuple[str, ...] = ("node-a1", "node-a2", "node-b1")
    services: tuple[ServiceSpec, ...] = field(default_factory=lambda: DEFAULT_SERVICES)
    paged_service: str = "checkout"
    incident: IncidentSpec = field(default_factory=IncidentSpec)
    description: str = ""
    topology: str = "store"
    domain: str = "example-store.net"
    zones: tuple[str, ...] = ()  # one per node; empty: derived from the node name
    red_herrings: tuple[str, ...] = ()  # see builder_herrings.HERRINGS
    # True reproduces the first builder's files byte for byte (the demo): no families or
    # kube lists that were added later (waiting reasons, volume stats, probes, HPAs, ...).
    legacy: bool = False

    def service(self, name: str) -> ServiceSpec:
        for svc in self.services:
            if svc.name == name:
                return svc
        raise KeyError(f"no service named {name!r} in spec {self.name!r}")

    @property
    def start_epoch(self) -> float:
        return self.end.timestamp() - self.duration_s


DEFAULT_SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        name="web", runtime="node", replicas=2, version="v3.4.0", port=3000,
        cpu_request=0.2, mem_request_mib=192, mem_limit_mib=384, mem_base_mib=150,
        cpu_base=0.12, rps=38.0, method="GET", post_share=0.12, latency_s=0.035,
        upstreams=("checkout", "inventory"),
    ),
    ServiceSpec(
        name="checkout", runtime="java", replicas=3, version="v2.8.1", port=8080,
        cpu_request=0.5, cpu_limit=1.0, mem_request_mib=512, mem_limit_mib=512,
        mem_base_mib=300, cpu_base=0.22, rps=4.5, method="POST", latency_s=0.12,
        upstreams=("inventory", "checkout-db"),
    ),
    ServiceSpec(
        name="inventory", runtime="go", replicas=2, version="v1.19.3", port=8080,
        cpu_request=0.1, mem_request_mib=64, mem_limit_mib=128, mem_base_mib=38,
        cpu_base=0.04, rps=22.0, method="GET", latency_s=0.008, histogram=False,
    ),
    ServiceSpec(
        name="checkout-db", runtime="postgres", kind="StatefulSet", replicas=1,
        version="16.2", image="docker.io/library/postgres:16.2-alpine", port=5432,
        cpu_request=0.5, mem_request_mib=1024, mem_limit_mib=2048, mem_base_mib=610,
        cpu_base=0.08,
    ),
)


def default_spec(kind: str = "oom-killed", *, seed: int = DEMO_SEED,
                 end: datetime = DEFAULT_END, topology: str = "store") -> ScenarioSpec:
    """The stock 'store' topology with one incident of ``kind`` (the first two kinds keep
    the original, legacy output); other kinds and topologies come from builder_topologies."""
    if topology == "store" and kind == "none":
        incident = IncidentSpec(kind="none", target=None, onset_s=3 * 3600 - 420)
        return ScenarioSpec(name="store-quiet-shift", seed=seed, end=end,
                            paged_service="web", incident=incident, legacy=True)
    if topology == "store" and kind == "oom-killed":
        incident = IncidentSpec(kind=kind, target="checkout")
        return ScenarioSpec(name=f"store-checkout-{kind}", seed=seed, end=end,
                            incident=incident, legacy=True)
    from sandbox.builder_topologies import topology_spec  # late: it builds on this module
    return topology_spec(topology, kind, seed=seed, end=end)


def with_incident(spec: ScenarioSpec, **changes: object) -> ScenarioSpec:
    """Copy ``spec`` with fields of its incident replaced (helper for tests)."""
    return replace(spec, incident=replace(spec.incident, **changes))  # type: ignore[arg-type]
