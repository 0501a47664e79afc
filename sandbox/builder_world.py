"""The simulated cluster behind a built scenario: nodes, pods, container lifecycles.

Every output file (metrics, logs, kube objects) is derived from this one model,
which is what keeps them consistent: a container killed at t shows up as a
counter reset, a gap in its logs, a lastState.terminated and a kubelet event.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import uuid
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.builder_spec import ScenarioSpec, ServiceSpec

if TYPE_CHECKING:
    from sandbox.builder_rollout import RolloutInfo

_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # what Kubernetes uses for name suffixes
STARTUP_S = {"java": 19.0, "node": 3.0, "go": 1.0, "postgres": 4.0, "python": 2.5,
             "redis": 1.0}
NODE_GRACE_S = 40.0  # node-monitor-grace-period: Ready turns Unknown this long after a failure


@dataclass
class Node:
    name: str
    ip: str
    pod_prefix: str
    uid: str
    zone: str
    created: float
    cpu_cores: float = 3.92
    mem_bytes: int = 15_032_385_536
    failed_at: float | None = None  # the kubelet stopped posting status (node lost)

    def up(self, t: float) -> bool:
        return self.failed_at is None or t < self.failed_at

    def not_ready(self, t: float) -> bool:
        """What the node controller reports: Unknown a grace period after the failure."""
        return self.failed_at is not None and t >= self.failed_at + NODE_GRACE_S


@dataclass
class Termination:
    """One container death: the instance ran [started, finished) and the next one
    started at ``restarted`` after a kubelet back-off of ``backoff_s``."""

    started: float
    finished: float
    restarted: float
    reason: str
    exit_code: int
    backoff_s: float
    old_container_id: str


@dataclass
class Pod:
    name: str
    service: ServiceSpec
    node: Node
    ip: str
    uid: str
    created: float
    first_start: float
    owner_kind: str
    owner_name: str
    owner_uid: str
    template_hash: str
    container_id: str
    terminations: list[Termination] = field(default_factory=list)
    # Later lifecycle facts; the defaults describe a pod that runs through the recording.
    image: str = ""  # the container image when it is not the service's (a new revision)
    bound: bool = True  # False: never scheduled (Pending, no node)
    waiting: str = ""  # the container never starts: ErrImagePull, ContainerCreating, ...
    stopped: float | None = None  # the container stops for good (deletion, job finished)
    deleting: float | None = None  # metadata.deletionTimestamp
    deleted: float | None = None  # gone from the API server
    exit_code: int = 0  # of a finished job container
    owner_api: str = "apps/v1"
    never_ready: bool = False  # crash-loops before its first readiness probe passes
    unready_from: float | None = None  # running, but its readiness probe fails from then on

    def expected(self, t: float) -> bool:
        """Counted in its service's capacity: it exists, was scheduled, is not being
        deleted and has served before; a missing one of these drops requests when down."""
        return (self.exists(t) and self.bound and not self.waiting and not self.never_ready
                and (self.deleting is None or t < self.deleting))

    # --- lifecycle queries (t in epoch seconds) ---
    def restarts(self, t: float) -> int:
        return sum(1 for x in self.terminations if x.restarted <= t)

    def exists(self, t: float) -> bool:
        return self.created <= t and (self.deleted is None or t < self.deleted)

    def running(self, t: float) -> bool:
        if t < self.first_start or not self.node.up(t) or (
                self.stopped is not None and t >= self.stopped):
            return False
        return not any(x.finished <= t < x.restarted for x in self.terminations)

    def phase(self, t: float) -> str:
        if not self.bound or t < self.first_start:
            return "Pending"
        if self.stopped is not None and t >= self.stopped and self.owner_kind == "Job":
            return "Succeeded" if self.exit_code == 0 else "Failed"
        return "Running"

    def image_ref(self) -> str:
        return self.image or self.service.image_ref

    def container_start(self, t: float) -> float:
        """Start of the container instance alive at (or last before) t."""
        starts = [self.first_start] + [x.restarted for x in self.terminations]
        return starts[max(0, bisect_right(starts, t) - 1)]

    def ready(self, t: float) -> bool:
        startup = STARTUP_S.get(self.service.runtime, 2.0)
        if self.deleting is not None and t >= self.deleting:
            return False  # terminating pods leave the endpoints at once
        if self.unready_from is not None and t >= self.unready_from:
            return False
        return self.running(t) and t >= self.container_start(t) + startup

    def last_termination(self, t: float) -> Termination | None:
        done = [x for x in self.terminations if x.finished <= t]
        return done[-1] if done else None


class World:
    """Seeded model of the namespace; ``rng(topic)`` gives independent streams so
    adding one random draw in logs does not reshuffle the metrics."""

    def __init__(self, spec: ScenarioSpec) -> None:
        self.spec = spec
        self.start = spec.start_epoch
        self.end = spec.end.timestamp()
        self._base_rng = random.Random(spec.seed)
        self.nodes = self._make_nodes()
        self.pods: list[Pod] = []
        self.rs_hash: dict[str, str] = {}
        self.old_rs_hash: dict[str, str] = {}
        self.owner_uid: dict[str, str] = {}
        self._make_pods()
        # Filled by incidents and red herrings (builder_rollout): services whose ReplicaSets
        # changed during the recording, and their replica count over time.
        self.revisions: dict[str, list[Revision]] = {}
        self.scale: dict[str, list[tuple[float, int]]] = {}
        self.rollouts: dict[str, RolloutInfo] = {}
        self.controller_events: list[dict[str, Any]] = []  # event stubs (builder_events)
        self.notes: dict[str, str] = {}  # texts for kube objects, e.g. "waiting:<pod>"
        self.jobs: list[Any] = []  # CronJob runs (builder_herrings.JobRun)

    # --- deterministic randomness ---
    def rng(self, topic: str) -> random.Random:
        digest = hashlib.sha256(f"{self.spec.seed}:{topic}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def uid(self, topic: str) -> str:
        return str(uuid.UUID(int=self.rng("uid:" + topic).getrandbits(128), version=4))

    def suffix(self, topic: str, n: int) -> str:
        r = self.rng("sfx:" + topic)
        return "".join(r.choice(_NAME_ALPHABET) for _ in range(n))

    def hexid(self, topic: str, n: int = 64) -> str:
        return hashlib.sha256(f"{self.spec.seed}:{topic}".encode()).hexdigest()[:n]

    # --- time grid ---
    def grid(self, job: str, step: int) -> list[float]:
        """Scrape times of ``job``: a per-job phase, never after the end."""
        phase = self.rng("phase:" + job).randint(1, step - 1)
        first = self.start + phase
        count = int((self.end - first) // step) + 1
        return [first + k * step for k in range(count)]

    def load(self, t: float) -> float:
        """Diurnal traffic shape (peak mid-afternoon UTC), around 1.0."""
        day = (t % 86400) / 86400
        return 1.0 + 0.35 * math.sin(2 * math.pi * (day - 0.375))

    # --- construction ---
    def _make_nodes(self) -> list[Node]:
        nodes = []
        for i, name in enumerate(self.spec.nodes):
            zone = "zone-" + ("a" if name[-2:-1] in ("a", "") else name[-2:-1])
            if self.spec.zones:
                zone = self.spec.zones[i % len(self.spec.zones)]
            created = self.start - 86400 * (12 + 3 * i) - self.rng("node:" + name).randint(0, 3600)
            eks = re.fullmatch(r"ip-(\d+)-(\d+)-(\d+)-(\d+)\..*", name)  # EKS names carry the IP
            ip = ".".join(eks.groups()) if eks else f"10.20.0.{11 + i}"
            nodes.append(Node(name=name, ip=ip, pod_prefix=f"10.48.{i}.",
                              uid=self.uid("node:" + name), zone=zone, created=created))
        return nodes

    def _make_pods(self) -> None:
        r = self.rng("placement")
        slot = r.randrange(len(self.nodes))
        for svc in self.spec.services:
            owner = "StatefulSet" if svc.kind == "StatefulSet" else "ReplicaSet"
            self.owner_uid[svc.name] = self.uid("owner:" + svc.name)
            if owner == "ReplicaSet":
                self.rs_hash[svc.name] = self.suffix("rs:" + svc.name, 9 + r.randint(0, 1))
                self.old_rs_hash[svc.name] = self.suffix("oldrs:" + svc.name, 9 + r.randint(0, 1))
                rollout = self.start - 86400 * r.uniform(2, 9)
            else:
                rollout = self.start - 86400 * r.uniform(20, 40)
            for i in range(svc.replicas):
                node = self.nodes[slot % len(self.nodes)]
                slot += 1
                if owner == "ReplicaSet":
                    rs = f"{svc.name}-{self.rs_hash[svc.name]}"
                    name = f"{rs}-{self.suffix(f'pod:{svc.name}:{i}', 5)}"
                    owner_name, owner_uid = rs, self.uid("rs:" + rs)
                else:
                    name, owner_name = f"{svc.name}-{i}", svc.name
                    owner_uid = self.owner_uid[svc.name]
                created = rollout + i * r.uniform(20, 45)
                self.pods.append(Pod(
                    name=name, service=svc, node=node,
                    ip=node.pod_prefix + str(r.randint(2, 250)), uid=self.uid("pod:" + name),
                    created=created, first_start=created + r.uniform(3, 9),
                    owner_kind=owner, owner_name=owner_name, owner_uid=owner_uid,
                    template_hash=self.rs_hash.get(svc.name, self.suffix("rev:" + svc.name, 10)),
                    container_id=self.hexid("cid:" + name),
                ))

    def pods_of(self, service: str) -> list[Pod]:
        return [p for p in self.pods if p.service.name == service]

    def ready_count(self, service: str, t: float) -> int:
        return sum(1 for p in self.pods_of(service) if p.ready(t))

    def rs_name(self, service: str) -> str:
        return f"{service}-{self.rs_hash[service]}"

    def desired(self, service: str, t: float) -> int:
        """spec.replicas of the workload at t (changed by scaling, see builder_rollout)."""
        value = self.spec.service(service).replicas
        for at, n in self.scale.get(service, ()):
            if at <= t:
                value = n
        return value

    def node_named(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)


@dataclass
class Revision:
    """One ReplicaSet revision of a Deployment whose rollout history matters here."""

    hash: str
    number: int
    image: str
    created: float
    env_from: str = ""  # a ConfigMap the pod template loads with envFrom
    change: str = ""  # kubernetes.io/change-cause


def kubelet_backoff(run_lengths: list[float]) -> float:
    """Back-off before restarting a container whose instances ran ``run_lengths`` seconds
    (oldest first, the one that just died last): none after a long (>= 10 min) run,
    else 10 s doubling per consecutive quick death, capped at 300 s (kubelet defaults)."""
    quick = 0
    for run in reversed(run_lengths):
        if run >= 600:
            break
        quick += 1
    return 0.0 if quick == 0 else min(300.0, 10.0 * 2 ** (quick - 1))
