"""Named cluster topologies, so scenarios do not all look like the same shop: a 'store'
(the original four services), a 'bank' on EKS and a 'media' streaming service on GKE,
each with its own names, runtimes, registry, nodes and default incident roles."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sandbox.builder_spec import (
    DEFAULT_END, DEFAULT_SERVICES, DEMO_SEED, IncidentSpec, ScenarioSpec, ServiceSpec,
)


@dataclass(frozen=True)
class Topology:
    namespace: str
    cluster: str
    domain: str
    nodes: tuple[str, ...]
    zones: tuple[str, ...]
    services: tuple[ServiceSpec, ...]
    # kind -> (culprit target, paged service); "none" -> (None, paged)
    roles: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    duration_s: int = 7200  # recording length: bigger topologies get less to stay < 5 MB


_ECR = "318847562210.dkr.ecr.eu-west-2.amazonaws.com/payments"
_GAR = "us-central1-docker.pkg.dev/streamly-prod/apps"

BANK = Topology(
    namespace="payments", cluster="bank-prod-euw2", domain="corp.northbank.io",
    nodes=("ip-10-40-11-23.eu-west-2.compute.internal",
           "ip-10-40-27-141.eu-west-2.compute.internal",
           "ip-10-40-38-9.eu-west-2.compute.internal"),
    zones=("eu-west-2a", "eu-west-2b", "eu-west-2c"),
    services=(
        ServiceSpec(name="gateway", runtime="go", replicas=2, version="v5.2.0",
                    image=f"{_ECR}/gateway:v5.2.0", cpu_request=0.2,
                    mem_request_mib=96, mem_limit_mib=192, mem_base_mib=61, cpu_base=0.09,
                    rps=24.0, method="GET", post_share=0.22, latency_s=0.04,
                    upstreams=("transfers", "accounts"), hpa_max=5),
        ServiceSpec(name="transfers", runtime="java", replicas=2, version="v3.11.4",
                    image=f"{_ECR}/transfers:v3.11.4", cpu_request=0.5, cpu_limit=1.5,
                    mem_request_mib=768, mem_limit_mib=768, mem_base_mib=455, cpu_base=0.24,
                    rps=5.2, method="POST", latency_s=0.15, upstreams=("ledger", "ledger-db"),
                    histogram=False),
        ServiceSpec(name="accounts", runtime="python", replicas=2, version="v2.7.2",
                    image=f"{_ECR}/accounts:v2.7.2", port=8000, cpu_request=0.25,
                    cpu_limit=0.5, mem_request_mib=256, mem_limit_mib=384, mem_base_mib=172,
                    cpu_base=0.14, rps=13.0, method="GET", latency_s=0.03,
                    upstreams=("ledger-db",), histogram=False),
        ServiceSpec(name="ledger", runtime="go", replicas=2, version="v1.42.0",
                    image=f"{_ECR}/ledger:v1.42.0", port=8443, cpu_request=0.2, cpu_limit=0.5,
                    mem_request_mib=128, mem_limit_mib=256, mem_base_mib=74, cpu_base=0.11,
                    rps=8.5, method="GET", latency_s=0.02, upstreams=("ledger-db",), tls=True),
        ServiceSpec(name="ledger-db", runtime="postgres", kind="StatefulSet", replicas=1,
                    version="15.6", image="docker.io/library/postgres:15.6-bookworm", port=5432,
                    cpu_request=1.0, mem_request_mib=2048, mem_limit_mib=4096,
                    mem_base_mib=1320, cpu_base=0.16, volume_gib=50),
    ),
    roles={"bad-deploy": ("ledger", "ledger"), "oom-killed": ("transfers", "transfers"),
           "crashloop-config": ("accounts", "accounts"), "image-pull": ("transfers", "transfers"),
           "scheduling-capacity": ("transfers", "transfers"), "node-failure": (None, "transfers"),
           "dependency-down": ("ledger-db", "ledger"), "cpu-throttling": ("ledger", "ledger"),
           "disk-full": ("ledger-db", "ledger"), "traffic-surge": ("gateway", "gateway"),
           "cert-expiry": ("ledger", "transfers"), "none": (None, "gateway")},
)

MEDIA = Topology(
    namespace="streaming", cluster="media-prod-usc1", domain="streamly.tv",
    nodes=("gke-media-prod-default-pool-3f2a9c1d-x7kq",
           "gke-media-prod-default-pool-3f2a9c1d-m2vt",
           "gke-media-prod-default-pool-8b41e07a-q9zd"),
    zones=("us-central1-a", "us-central1-a", "us-central1-b"),
    services=(
        ServiceSpec(name="frontend", runtime="node", replicas=2, version="v8.19.1",
                    image=f"{_GAR}/frontend:v8.19.1", port=3000, cpu_request=0.25,
                    mem_request_mib=256, mem_limit_mib=512, mem_base_mib=180, cpu_base=0.13,
                    rps=30.0, method="GET", post_share=0.06, latency_s=0.03,
                    upstreams=("catalog", "playback"), hpa_max=6),
        ServiceSpec(name="catalog", runtime="python", replicas=2, version="v4.3.0",
                    image=f"{_GAR}/catalog:v4.3.0", port=8000, cpu_request=0.3, cpu_limit=0.6,
                    mem_request_mib=384, mem_limit_mib=512, mem_base_mib=260, cpu_base=0.16,
                    rps=12.0, method="GET", latency_s=0.06, upstreams=("catalog-db", "cache")),
        ServiceSpec(name="playback", runtime="go", replicas=2, version="v2.15.3",
                    image=f"{_GAR}/playback:v2.15.3", port=8443, cpu_request=0.2,
                    cpu_limit=0.5, mem_request_mib=128, mem_limit_mib=256, mem_base_mib=88,
                    cpu_base=0.12, rps=10.0, method="GET", latency_s=0.025,
                    upstreams=("cache",), tls=True),
        ServiceSpec(name="catalog-db", runtime="postgres", kind="StatefulSet", replicas=1,
                    version="16.3", image="docker.io/library/postgres:16.3-alpine", port=5432,
                    cpu_request=0.5, mem_request_mib=1024, mem_limit_mib=2048,
                    mem_base_mib=700, cpu_base=0.07, volume_gib=30),
        ServiceSpec(name="cache", runtime="redis", kind="StatefulSet", replicas=1,
                    version="7.2.4", image="docker.io/library/redis:7.2.4-alpine", port=6379,
                    cpu_request=0.2, mem_request_mib=512, mem_limit_mib=1024,
                    mem_base_mib=410, cpu_base=0.05, volume_gib=10),
    ),
    roles={"bad-deploy": ("catalog", "catalog"), "oom-killed": ("catalog", "catalog"),
           "crashloop-config": ("playback", "playback"), "image-pull": ("frontend", "frontend"),
           "scheduling-capacity": ("catalog", "catalog"), "node-failure": (None, "catalog"),
           "dependency-down": ("catalog-db", "catalog"), "cpu-throttling": ("playback",
                                                                            "playback"),
           "disk-full": ("catalog-db", "catalog"), "traffic-surge": ("frontend", "frontend"),
           "cert-expiry": ("playback", "frontend"), "none": (None, "frontend")},
)

STORE = Topology(
    namespace="store", cluster="store-prod-eu1", domain="example-store.net",
    nodes=("node-a1", "node-a2", "node-b1"), zones=(), duration_s=9000,
    services=tuple(replace(s, hpa_max=5) if s.name == "web" else
                   replace(s, tls=True) if s.name == "inventory" else
                   replace(s, latency_s=0.1) if s.name == "checkout" else s
                   for s in DEFAULT_SERVICES),
    roles={"bad-deploy": ("checkout", "checkout"), "oom-killed": ("checkout", "checkout"),
           "crashloop-config": ("inventory", "inventory"), "image-pull": ("web", "web"),
           "scheduling-capacity": ("checkout", "checkout"), "node-failure": (None, "checkout"),
           "dependency-down": ("checkout-db", "checkout"), "cpu-throttling": ("checkout",
                                                                              "checkout"),
           "disk-full": ("checkout-db", "checkout"), "traffic-surge": ("web", "web"),
           "cert-expiry": ("inventory", "checkout"), "none": (None, "web")},
)

TOPOLOGIES = {"store": STORE, "bank": BANK, "media": MEDIA}


def topology_spec(topology: str, kind: str, *, seed: int = DEMO_SEED,
                  end: datetime = DEFAULT_END, target: str | None = None,
                  paged: str | None = None, namespace: str | None = None,
                  name: str | None = None, onset_s: float | None = None, page: str = "",
                  red_herrings: tuple[str, ...] = ()) -> ScenarioSpec:
    """A spec for ``kind`` on a named topology; unset roles come from the topology."""
    topo = TOPOLOGIES[topology]
    role_target, role_paged = topo.roles[kind]
    target = target if target is not None else role_target
    paged = paged or role_paged
    duration = topo.duration_s  # > 1 h of SLO window before the onset
    before_end = 420.0 if kind == "none" else 3000.0
    incident = IncidentSpec(kind=kind, target=None if kind == "none" else target,
                            onset_s=duration - before_end if onset_s is None else onset_s,
                            page=page)
    ns = namespace or topo.namespace
    return ScenarioSpec(
        name=name or f"{ns}-{target or paged}-{kind}", namespace=ns, cluster=topo.cluster,
        end=end, duration_s=duration, seed=seed, nodes=topo.nodes, services=topo.services,
        paged_service=paged,
        incident=incident, topology=topology, domain=topo.domain, zones=topo.zones,
        red_herrings=red_herrings)
