"""Incidents between services: a failing downstream, CPU-limit throttling, and a traffic
surge the service is too small for."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Any

from sandbox.builder_incidents import Incident, clamp
from sandbox.builder_kinds_common import java_wrap, node_err, refused
from sandbox.builder_logs_text import native
from sandbox.builder_rollout import scale
from sandbox.builder_world import Pod

_MISCONF = ("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
            "persist to disk. Commands that may modify the data set are disabled, because this "
            "instance is configured to report errors during writes if RDB snapshotting fails "
            "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about "
            "the RDB error.")


class _CallerSymptoms(Incident):
    """Callers of ``self.dep`` fail a share of requests with ``self.cause(pod)``."""

    share = 0.6

    def _hit(self, pod: Pod, t: float) -> bool:
        return t >= self.onset and self.dep in pod.service.upstreams

    def cause(self, pod: Pod) -> str:
        return refused(self.world, pod.service, self.world.spec.service(self.dep))

    def error_ratio(self, pod: Pod, t: float) -> float:
        if not self._hit(pod, t):
            return 0.0
        return self.share if pod.service.upstreams[0] == self.dep else self.share / 2

    def error_latency_s(self, service: str) -> float:
        return 1.2

    def error_message_at(self, pod: Pod, t: float) -> str:
        return java_wrap(self.cause(pod)) if self._hit(pod, t) else super().error_message(pod)

    def error_text(self, pod: Pod, t: float, r: random.Random) -> str:
        return self.cause(pod) if self._hit(pod, t) else super().error_text(pod, t, r)

    def node_error(self, pod: Pod, t: float) -> dict[str, str] | None:
        return node_err(self.cause(pod), self.dep) if self._hit(pod, t) else None


class DependencyDown(_CallerSymptoms):
    """``dependency-down``: the database stops accepting connections (a backend crash puts
    it into a long crash recovery; readiness fails), or the cache refuses writes (MISCONF)."""

    kind = "dependency-down"

    def plan(self) -> None:
        self.dep = self.spec.target or ""
        svc = self.world.spec.service(self.dep)
        self.redis = svc.runtime == "redis"
        self.share = 0.35 if self.redis else 0.62
        if not self.redis:
            for pod in self.world.pods_of(self.dep):
                pod.unready_from = self.onset + 2.0

    def quiet(self, pod: Pod, t: float) -> bool:
        return not self.redis and pod.service.name == self.dep and t >= self.onset

    def cause(self, pod: Pod) -> str:
        if not self.redis:
            return super().cause(pod)
        prefix = {"java": "org.springframework.data.redis.RedisSystemException: Error in "
                          "execution; nested exception is io.lettuce.core.RedisCommandExecution"
                          "Exception: ", "python": "redis.exceptions.ResponseError: "}
        return prefix.get(pod.service.runtime, "") + _MISCONF

    def extra_events(self) -> list[dict[str, Any]]:
        if self.redis:
            return []
        out = []
        for pod in self.world.pods_of(self.dep):
            times = [self.onset + 4 + 10 * k for k in range(int((self.world.end - self.onset)
                                                               // 10))]
            out.append({"pod": pod, "reason": "Unhealthy", "type": "Warning", "times": times,
                        "message": f"Readiness probe failed: /var/run/postgresql:"
                                   f"{pod.service.port} - rejecting connections"})
        return out

    def extra_logs(self, writer: Any) -> None:
        r = self.world.rng("dependency-logs")
        for pod in self.world.pods_of(self.dep):
            lines = self._redis(pod, r) if self.redis else self._postgres(pod, r)
            for t, text in lines:
                writer.emit(pod, t, text, r)

    def _postgres(self, pod: Pod, r: random.Random) -> list[tuple[float, Any]]:
        t, pid = self.onset, r.randint(20000, 60000)
        lsn = f"{r.randint(0x20, 0x7F):X}/{r.getrandbits(28):X}"
        out = [(t, native(pod, "INFO", f"server process (PID {pid}) was terminated by signal 11:"
                                      " Segmentation fault")),
               (t + 0.001, native(pod, "DETAIL", "Failed process was running: SELECT * FROM "
                                                 "pg_catalog.pg_stat_statements")),
               (t + 0.002, native(pod, "INFO", "terminating any other active server processes")),
               (t + 0.9, native(pod, "INFO", "all server processes terminated; reinitializing")),
               (t + 1.1, native(pod, "INFO", "database system was interrupted; last known up at "
                                             f"{_pg_time(t - r.uniform(60, 290))}", pid=97)),
               (t + 1.3, native(pod, "INFO", "database system was not properly shut down; "
                                             "automatic recovery in progress", pid=97)),
               (t + 1.5, native(pod, "INFO", f"redo starts at {lsn}", pid=97))]
        k = 1
        while t + 10 * k < self.world.end:
            out.append((t + 1.5 + 10 * k, native(
                pod, "INFO", f"redo in progress, elapsed time: {10.0 * k:.2f} s, current LSN: "
                             f"{lsn.split('/')[0]}/{r.getrandbits(28):X}", pid=97)))
            if r.random() < 0.5:
                out.append((t + 3 + 10 * k + r.uniform(0, 6), native(
                    pod, "FATAL", "the database system is not yet accepting connections",
                    pid=r.randint(100, 9000))))
            k += 1
        return out

    def _redis(self, pod: Pod, r: random.Random) -> list[tuple[float, Any]]:
        out, t = [], self.onset
        while t < self.world.end:
            out.append((t, native(pod, "WARN", "Can't save in background: fork: Cannot allocate "
                                               "memory")))
            t += 5 + r.uniform(0, 1)
        return out

    def evidence(self) -> list[str]:
        return [self.dep, "MISCONF" if self.redis else "refused"]


class CpuThrottling(Incident):
    """``cpu-throttling``: heavier requests push the culprit's CPU demand past its limit;
    CFS throttles most periods and latency climbs; nothing restarts or errors."""

    kind = "cpu-throttling"
    alert = "latency"

    def plan(self) -> None:
        svc = self.world.spec.service(self.spec.target or "")
        r = self.world.rng("throttle")
        self.limit = svc.cpu_limit or 0.5
        self.over = r.uniform(1.35, 1.7)
        self.ramp_s = r.uniform(600, 1200)

    def _ramp(self, t: float) -> float:
        return clamp((t - self.onset) / self.ramp_s)

    def cpu_cores(self, pod: Pod, t: float, base: float) -> float:
        if pod.service.name != self.spec.target or t < self.onset:
            return base
        return base + self._ramp(t) * (self.limit * self.over - base)

    def slow_share(self, service: str, t: float) -> tuple[float, float]:
        if service != self.spec.target or t < self.onset:
            return 0.0, 0.0
        x = clamp((self._ramp(t) * self.over - 1.0) / (self.over - 1.0) + 0.15)
        return 0.04 + 0.22 * x, 0.75 + 0.5 * x

    def extra_logs(self, writer: Any) -> None:
        r = self.world.rng("throttle-logs")
        for pod in self.world.pods_of(self.spec.target or ""):
            t = self.onset + self.ramp_s * 0.4
            while t < self.world.end:
                ms = int(r.uniform(600, 2400))
                text = {"java": native(pod, "WARN", "HikariPool-1 - Thread starvation or clock "
                                       "leap detected (housekeeper delta=" f"{ms // 1000 + 30}s"
                                       f"{ms % 1000}ms).", logger="com.zaxxer.hikari.pool."
                                       "HikariPool", thread="l-1 housekeeper"),
                        "node": native(pod, "WARN", "event loop delay is high",
                                       fields={"p99DelayMs": ms // 4})}.get(
                    pod.service.runtime, native(pod, "WARN", "slow request",
                                                fields={"duration_ms": ms}))
                writer.emit(pod, t, text, r)
                t += r.uniform(40, 160)

    def evidence(self) -> list[str]:
        return ["throttl", "cpu limit"]

    def description(self) -> str:
        ns, svc = self.world.spec.namespace, self.world.spec.paged_service
        return f"HighRequestLatency fired for the {ns} {svc} service: p99 latency is high."


class TrafficSurge(Incident):
    """``traffic-surge``: requests to the edge climb several-fold; the HPA scales to its
    maximum and the pods still saturate, so latency rises; nothing crashes."""

    kind = "traffic-surge"
    alert = "latency"

    def plan(self) -> None:
        svc = self.world.spec.service(self.spec.target or "")
        r = self.world.rng("surge")
        self.factor, self.ramp_s = r.uniform(3.6, 5.2), r.uniform(240, 480)
        top = svc.hpa_max or svc.replicas + 3
        n, t = svc.replicas, self.onset + 75.0
        why = "cpu resource utilization (percentage of request) above target"
        while n < top:
            n = min(top, n * 2)
            scale(self.world, svc.name, t, n, reason=why)
            t += r.uniform(60, 90)
        self.top = top

    def _ramp(self, t: float) -> float:
        return clamp((t - self.onset) / self.ramp_s)

    def traffic_factor(self, service: str, t: float) -> float:
        target = self.spec.target or ""
        if service == target:
            return 1.0 + (self.factor - 1.0) * self._ramp(t)
        if service in self.world.spec.service(target).upstreams:
            return 1.0 + (self.factor - 1.0) * 0.45 * self._ramp(t)
        return 1.0

    def _load(self, t: float) -> float:
        svc = self.world.spec.service(self.spec.target or "")
        pods = max(1, self.world.ready_count(svc.name, t))
        return self.traffic_factor(svc.name, t) * svc.replicas / pods

    def cpu_cores(self, pod: Pod, t: float, base: float) -> float:
        if pod.service.name != self.spec.target:
            return base
        load = self._load(t)  # saturated pods burn extra CPU (GC, lock contention, retries)
        return base * load * (1.0 + 0.6 * clamp(load - 1.0))

    def slow_share(self, service: str, t: float) -> tuple[float, float]:
        if service != self.spec.target or t < self.onset:
            return 0.0, 0.0
        x = clamp((self._load(t) - 1.5) / 2.0)
        return 0.05 + 0.3 * x, 0.7 + 0.6 * x

    def error_ratio(self, pod: Pod, t: float) -> float:
        return 0.002 if pod.service.name == self.spec.target and self._load(t) > 2 else 0.0

    def evidence(self) -> list[str]:
        return ["request rate", "HPA"]

    def description(self) -> str:
        ns, svc = self.world.spec.namespace, self.world.spec.paged_service
        return f"HighRequestLatency fired for the {ns} {svc} service: pages load slowly."


def _pg_time(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
