"""Incident models: how one kind of failure bends the healthy signals of the world.

An ``Incident`` plans container deaths up front (``plan``) and then answers small
questions per pod and time (memory, cpu, extra 5xx ratio, slow-request share).
Metrics, logs and kube objects are derived from those answers; every kind is one
subclass, registered in builder_registry.INCIDENTS.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Callable

from sandbox.builder_world import Pod, Termination, World, kubelet_backoff

if TYPE_CHECKING:
    from sandbox.builder_logs import LogWriter


def clamp(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo if x < lo else hi if x > hi else x


class Incident:
    """Healthy behaviour; subclasses override what their failure changes."""

    kind = "none"
    alert = "burn"  # the page in alerts.json: "burn" (ErrorBudgetBurn) or "latency"

    def __init__(self, world: World) -> None:
        self.world = world
        self.spec = world.spec.incident
        self.onset = world.start + self.spec.onset_s
        self.herring_ramps: list[Callable[[str, float], float]] = []

    def plan(self) -> None:
        """Decide terminations etc. before any signal is sampled."""

    def memory_mib(self, pod: Pod, t: float, base: float) -> float:
        return base

    def cpu_cores(self, pod: Pod, t: float, base: float) -> float:
        return base

    def error_ratio(self, pod: Pod, t: float) -> float:
        """Extra share of this pod's own requests answered with 5xx."""
        return 0.0

    def slow_share(self, service: str, t: float) -> tuple[float, float]:
        """(share of requests, their latency in s) pushed into a slow tail."""
        return 0.0, 0.0

    def error_latency_s(self, service: str) -> float:
        return 0.02

    def error_message(self, pod: Pod) -> str:
        return "Request processing failed: java.lang.IllegalStateException: unexpected state"

    def error_message_at(self, pod: Pod, t: float) -> str:
        """error_message for a failure at t (kinds whose errors start at the onset)."""
        return self.error_message(pod)

    def error_text(self, pod: Pod, t: float, r: random.Random) -> str:
        """One 5xx's error for go/python logs; the baseline trickle is mundane."""
        return r.choice(("context canceled", "context deadline exceeded",
                         "write: broken pipe", "connection reset by peer"))

    def node_error(self, pod: Pod, t: float) -> dict[str, str] | None:
        """pino ``err`` of a failed request of a node service; None: generic upstream error."""
        return None

    def traffic_factor(self, service: str, t: float) -> float:
        """Multiplier on the service's baseline request rate."""
        return 1.0

    def traffic(self, service: str, t: float) -> float:
        """traffic_factor times the red herrings' ramps (builder_herrings)."""
        out = self.traffic_factor(service, t)
        for ramp in self.herring_ramps:
            out *= ramp(service, t)
        return out

    def waiting_reason(self, pod: Pod, t: float) -> str | None:
        """kube-state-metrics' waiting reason of the pod's container at t, if waiting."""
        if not pod.exists(t) or not pod.bound or pod.deleting is not None and t >= pod.deleting:
            return None
        if pod.waiting and t >= pod.created + 1:
            return pod.waiting
        if t < pod.first_start:
            return "ContainerCreating"
        if any(x.finished <= t < x.restarted and x.backoff_s for x in pod.terminations):
            return "CrashLoopBackOff"
        return None

    def volume_used(self, pod: Pod, t: float, base: float, size: float) -> float:
        """Bytes used on the pod's data volume at t (base: the normal slow growth)."""
        return base

    def cert_not_after(self, service: str) -> float:
        """notAfter of the service's serving certificate (cert-manager renews at 2/3)."""
        return self.world.end + 86400 * self.world.rng("cert:" + service).uniform(21, 58)

    def quiet(self, pod: Pod, t: float) -> bool:
        """True silences the pod's routine log lines at t (e.g. a database in recovery)."""
        return False

    def extra_logs(self, writer: LogWriter) -> None:
        """Lines beyond the per-request ones (start-up failures, dependency logs, ...)."""

    def patch_kube(self, kube: dict[str, Any]) -> None:
        """Adjust the finished kube lists (e.g. a lost node's status)."""

    def extra_events(self) -> list[dict[str, Any]]:
        """Event stubs (see builder_kube.event) beyond the generic lifecycle ones."""
        return []

    def culprit(self) -> dict[str, Any] | None:
        if not self.spec.target:
            return None
        svc = self.world.spec.service(self.spec.target)
        return {"namespace": self.world.spec.namespace, "kind": svc.kind, "name": svc.name}

    def truth(self) -> dict[str, Any]:
        culprit = self.culprit()
        out: dict[str, Any] = {"cause": self.kind}
        if culprit:
            out["culprit"] = culprit
        out["evidence"] = self.evidence()
        return out

    def evidence(self) -> list[str]:
        return []

    def description(self) -> str:
        ns, svc = self.world.spec.namespace, self.world.spec.paged_service
        return f"ErrorBudgetBurn paged for the {ns} {svc} service."


class Healthy(Incident):
    """``none``: a quiet shift; a short burst of slow web requests trips a latency
    warning that needs no action (the page is noise)."""

    kind = "none"
    alert = "latency"

    def slow_share(self, service: str, t: float) -> tuple[float, float]:
        if service == self.world.spec.paged_service and t >= self.onset:
            return 0.045, 0.8
        return 0.0, 0.0

    def extra_events(self) -> list[dict[str, Any]]:
        pods = self.world.pods_of(self.world.spec.paged_service)
        pod = pods[0]
        at = self.onset + 95.0
        port = pod.service.port
        return [{
            "pod": pod, "reason": "Unhealthy", "type": "Warning", "times": [at],
            "message": f'Readiness probe failed: Get "http://{pod.ip}:{port}/healthz/ready": '
                       "context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
        }]

    def evidence(self) -> list[str]:
        return ["p99", "request rate"]

    def description(self) -> str:
        ns, svc = self.world.spec.namespace, self.world.spec.paged_service
        return (f"A HighRequestLatency warning for the {ns} {svc} service reached the on-call "
                "engineer near the end of a quiet shift.")


class OomKilled(Incident):
    """``oom-killed``: the target's working set ramps to its memory limit, the kernel
    kills the container (exit 137), kubelet restarts it with back-off, repeatedly."""

    kind = "oom-killed"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        # pod name -> [(t_start, mib_start, slope_mib_per_s, t_kill)]
        self.ramps: dict[str, list[tuple[float, float, float, float]]] = {}

    def plan(self) -> None:
        target = self.spec.target
        if not target:
            raise ValueError("oom-killed needs an incident target")
        svc = self.world.spec.service(target)
        limit = float(svc.mem_limit_mib)
        for pod in self.world.pods_of(target):
            r = self.world.rng("oom:" + pod.name)
            t, level = self.onset + r.uniform(0, 240), svc.mem_base_mib * r.uniform(0.97, 1.03)
            slope = (limit - level) / r.uniform(780, 1260)
            runs: list[float] = []
            ramps = self.ramps.setdefault(pod.name, [])
            while True:
                kill = t + (limit - level) / slope
                ramps.append((t, level, slope, kill))
                if kill >= self.world.end:
                    break
                started = pod.container_start(kill)
                runs.append(kill - started)
                backoff = kubelet_backoff(runs)
                old_id = pod.container_id
                pod.container_id = self.world.hexid(f"cid:{pod.name}:{len(runs)}")
                restarted = kill + backoff + r.uniform(0.8, 2.2)
                pod.terminations.append(Termination(
                    started=started, finished=kill, restarted=restarted, reason="OOMKilled",
                    exit_code=137, backoff_s=backoff, old_container_id=old_id))
                level = limit * r.uniform(0.44, 0.52)
                t = restarted
                slope = (limit - level) / r.uniform(300, 560)

    def _pressure(self, pod: Pod, t: float) -> float:
        return self.memory_mib(pod, t, pod.service.mem_base_mib) / pod.service.mem_limit_mib

    def memory_mib(self, pod: Pod, t: float, base: float) -> float:
        for t0, level, slope, kill in self.ramps.get(pod.name, ()):
            if t0 <= t < kill:
                return min(level + slope * (t - t0), pod.service.mem_limit_mib * 0.995)
        return base

    def cpu_cores(self, pod: Pod, t: float, base: float) -> float:
        if pod.name not in self.ramps:
            return base
        return base * (1.0 + 1.6 * clamp((self._pressure(pod, t) - 0.7) / 0.3))

    def error_ratio(self, pod: Pod, t: float) -> float:
        if pod.name not in self.ramps or t < self.onset:
            return 0.0
        gc = 0.32 * clamp((self._pressure(pod, t) - 0.68) / 0.32) ** 2
        warmup = 0.06 if t - pod.container_start(t) < 90 else 0.0
        crashed = any(p.terminations and p.terminations[0].finished <= t
                      for p in self.world.pods_of(pod.service.name))
        return gc + warmup + (0.02 if crashed else 0.0)

    def slow_share(self, service: str, t: float) -> tuple[float, float]:
        if service != self.spec.target or t < self.onset:
            return 0.0, 0.0
        pods = [p for p in self.world.pods_of(service) if p.running(t)]
        if not pods:
            return 0.0, 0.0
        share = sum(0.45 * clamp((self._pressure(p, t) - 0.6) / 0.4) for p in pods) / len(pods)
        return share, 0.9

    def error_latency_s(self, service: str) -> float:
        return 2.0 if service == self.spec.target else 0.02

    def error_message(self, pod: Pod) -> str:
        return ("Servlet.service() for servlet [dispatcherServlet] in context with path [] "
                "threw exception [Request processing failed: java.util.concurrent."
                "TimeoutException: order placement did not complete within 2000ms] with root cause")

    def evidence(self) -> list[str]:
        return ["OOMKilled", "memory limit", "restart"]

    def description(self) -> str:
        ns, svc = self.world.spec.namespace, self.world.spec.paged_service
        return (f"ErrorBudgetBurn paged for the {ns} {svc} service: placing an order fails "
                "intermittently and is slow, and customers report that checkout sometimes hangs "
                "and then shows an error.")
