"""Application and cAdvisor metrics for a built scenario, and the OpenMetrics writer.

Families, metric names and label sets mirror the shared scenarios so detectors
see the same shapes. Counters restart from zero when a container restarts, the
way a real process-local counter does; a down container has no samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sandbox.builder_incidents import Incident
from sandbox.builder_world import Pod, World

MIB = 1024 * 1024
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

Labels = dict[str, str]
Samples = list[tuple[float, float]]


@dataclass
class Family:
    name: str
    type: str
    help: str
    series: list[tuple[str, Labels, Samples]] = field(default_factory=list)

    def add(self, metric: str, labels: Labels) -> Samples:
        samples: Samples = []
        self.series.append((metric, labels, samples))
        return samples


@dataclass
class Traffic:
    """Per-pod request outcomes per http scrape step, reused by the log writer."""

    times: list[float]
    ok: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[float]] = field(default_factory=dict)
    upstream_failures: dict[str, list[float]] = field(default_factory=dict)


def _lognormal_cdf(x: float, median: float, sigma: float) -> float:
    return 0.5 * (1.0 + math.erf(math.log(x / median) / (sigma * math.sqrt(2.0))))


def _bucket_shares(median: float, sigma: float) -> list[float]:
    return [_lognormal_cdf(le, median, sigma) for le in BUCKETS]


class AppMetrics:
    """Builds http_* and container_* families from the world and incident."""

    def __init__(self, world: World, incident: Incident) -> None:
        self.world, self.incident = world, incident
        self.ns = world.spec.namespace
        self.step = world.spec.step_s
        self.traffic = Traffic(times=world.grid("http", self.step))
        self.fail_share: dict[str, list[float]] = {}

    def families(self) -> list[Family]:
        reqs = Family("http_requests", "counter",
                      "Total number of HTTP requests by status code and method.")
        hist = Family("http_request_duration_seconds", "histogram",
                      "HTTP request latency in seconds.")
        order = self._call_order()
        for name in order:
            self._http_service(name, reqs, hist)
        return [reqs, hist, *self._cadvisor()]

    def _call_order(self) -> list[str]:
        """Callees before callers so a caller can see its upstreams' failures."""
        done: list[str] = []
        http = [s for s in self.world.spec.services if s.rps > 0]

        def visit(name: str) -> None:
            if name in done or name not in {s.name for s in http}:
                return
            for up in self.world.spec.service(name).upstreams:
                visit(up)
            done.append(name)

        for s in http:
            visit(s.name)
        return done

    def _http_service(self, name: str, reqs: Family, hist: Family) -> None:
        svc = self.world.spec.service(name)
        pods = self.world.pods_of(name)
        times = self.traffic.times
        r = self.world.rng("http:" + name)
        base_err = 0.0004
        post_fail = self._upstream_fail(svc.upstreams[0]) if svc.post_share else None
        get_fail = self._upstream_fail(svc.upstreams[0]) if svc.upstreams else None
        main_method = svc.method
        ok_codes = [("200", main_method)] + ([("200", "POST")] if svc.post_share else [])
        err_code = ("502", "POST") if svc.post_share else ("500", main_method)
        counters: dict[str, dict[tuple[str, str], Samples]] = {}
        for pod in pods:
            counters[pod.name] = {
                key: reqs.add("http_requests_total", {
                    "namespace": self.ns, "service": name, "pod": pod.name,
                    "code": key[0], "method": key[1]})
                for key in ok_codes + [err_code]
            }
            self.traffic.ok[pod.name] = []
            self.traffic.errors[pod.name] = []
        cum: dict[tuple[str, tuple[str, str]], float] = {}
        starts: dict[str, float] = {}
        agg_total = [0.0] * len(times)
        agg_err = [0.0] * len(times)
        fail_share: list[float] = []
        up_fail: list[float] = []
        for k, t in enumerate(times):
            rate = (svc.rps * self.incident.traffic(name, t) * self.world.load(t)
                    * (1.0 + r.gauss(0, 0.03)))
            ready = [p for p in pods if p.ready(t)]
            total_req = total_err = failed_calls = 0.0
            for pod in pods:
                if not pod.running(t):
                    self.traffic.ok[pod.name].append(0.0)
                    self.traffic.errors[pod.name].append(0.0)
                    continue
                share = (rate / len(ready)) if pod in ready else 0.0
                n = share * self.step * (1.0 + r.gauss(0, 0.04))
                post = n * svc.post_share
                get = n - post
                err_ratio = min(0.95, base_err + self.incident.error_ratio(pod, t))
                if post_fail is not None:  # an edge service: POSTs proxy to its first upstream
                    post_err = post * min(0.95, 0.9 * post_fail[k] + base_err)
                    get_err = get * min(0.95, self.incident.error_ratio(pod, t))
                    failed_calls += post_err
                    outcomes = {ok_codes[0]: get - get_err, ok_codes[1]: post - post_err,
                                err_code: post_err + get_err}
                else:
                    up = 0.3 * get_fail[k] if get_fail else 0.0
                    e = n * min(0.95, err_ratio + up)
                    outcomes = {ok_codes[0]: n - e, err_code: e}
                start = pod.container_start(t)
                if starts.get(pod.name) != start:  # new container: counters restart
                    starts[pod.name] = start
                    age = max(0.0, min(t, self.world.start) - start) if k == 0 else 0.0
                    for key in outcomes:
                        seed = age * svc.rps / len(pods) * (base_err if key == err_code else 1.0)
                        cum[(pod.name, key)] = seed
                for key, value in outcomes.items():
                    cum[(pod.name, key)] += max(0.0, value)
                    counters[pod.name][key].append((t, float(round(cum[(pod.name, key)]))))
                err = outcomes[err_code]
                self.traffic.ok[pod.name].append(n - err)
                self.traffic.errors[pod.name].append(err)
                total_req += n
                total_err += err
            agg_total[k], agg_err[k] = total_req, total_err
            missing = sum(1 for p in pods if p.expected(t)) - len(ready)
            fail_share.append((total_err / total_req if total_req else 1.0)
                              + 0.15 * missing / max(1, len(pods)))
            up_fail.append(failed_calls)
        self.fail_share[name] = fail_share
        self.traffic.upstream_failures[name] = up_fail
        if svc.histogram:
            self._histogram(name, hist, agg_total, agg_err)

    def _upstream_fail(self, name: str) -> list[float]:
        return self.fail_share.get(name, [0.0] * len(self.traffic.times))

    def _histogram(self, name: str, hist: Family, totals: list[float], errs: list[float]) -> None:
        svc = self.world.spec.service(name)
        labels = {"namespace": self.ns, "service": name}
        buckets = [hist.add("http_request_duration_seconds_bucket", {**labels, "le": _le(le)})
                   for le in (*BUCKETS, math.inf)]
        count = hist.add("http_request_duration_seconds_count", labels)
        total = hist.add("http_request_duration_seconds_sum", labels)
        r = self.world.rng("latency:" + name)
        lifetime = 86400 * 6 * svc.rps
        cum = [lifetime * s for s in _bucket_shares(svc.latency_s, 0.55)] + [lifetime]
        cum_sum = lifetime * svc.latency_s * 1.16
        err_lat = self.incident.error_latency_s(name)
        err_shares = [1.0 if err_lat <= le else 0.0 for le in BUCKETS]
        for t, n, e in zip(self.traffic.times, totals, errs):
            slow, slow_s = self.incident.slow_share(name, t)
            median = svc.latency_s * (1.0 + r.gauss(0, 0.04))
            ok = n - e
            fast_n, slow_n = ok * (1 - slow), ok * slow
            fast = _bucket_shares(median, 0.55)
            tail = _bucket_shares(slow_s, 0.25) if slow_n else [0.0] * len(BUCKETS)
            for i in range(len(BUCKETS)):
                cum[i] += fast_n * fast[i] + slow_n * tail[i] + e * err_shares[i]
            cum[-1] += n
            cum_sum += fast_n * median * 1.16 + slow_n * slow_s * 1.03 + e * err_lat
            for i, series in enumerate(buckets):
                series.append((t, float(round(cum[i]))))
            count.append((t, float(round(cum[-1]))))
            total.append((t, round(cum_sum, 3)))

    def _cadvisor(self) -> list[Family]:
        cpu = Family("container_cpu_usage_seconds", "counter",
                     "Cumulative cpu time consumed in seconds.")
        periods = Family("container_cpu_cfs_periods", "counter",
                         "Number of elapsed enforcement period intervals.")
        throttled = Family("container_cpu_cfs_throttled_periods", "counter",
                           "Number of throttled period intervals.")
        mem = Family("container_memory_working_set_bytes", "gauge",
                     "Current working set in bytes.")
        times = self.world.grid("cadvisor", self.step)
        for pod in self.world.pods:
            self._container(pod, times, cpu, periods, throttled, mem)
        return [cpu, periods, throttled, mem]

    def _container(self, pod: Pod, times: list[float], cpu: Family, periods: Family,
                   throttled: Family, mem: Family) -> None:
        svc = pod.service
        labels = {"namespace": self.ns, "pod": pod.name, "container": svc.name}
        r = self.world.rng("cadvisor:" + pod.name)
        s_cpu = cpu.add("container_cpu_usage_seconds_total", labels)
        s_mem = mem.add("container_memory_working_set_bytes", labels)
        limited = svc.cpu_limit is not None
        s_per = periods.add("container_cpu_cfs_periods_total", labels) if limited else None
        s_thr = (throttled.add("container_cpu_cfs_throttled_periods_total", labels)
                 if limited else None)
        start: float | None = None
        c_cpu = c_per = c_thr = 0.0
        prev = times[0] - self.step
        for t in times:
            if not pod.running(t):
                prev = t
                continue
            if pod.container_start(t) != start:
                start = pod.container_start(t)
                age = max(0.0, self.world.start - start)
                c_cpu, c_per, c_thr = svc.cpu_base * age, age * 10 * 0.9, age * 0.09
                prev = max(prev, start)
            dt = t - prev
            base = svc.cpu_base * (0.6 + 0.4 * self.world.load(t)) * (1 + r.gauss(0, 0.06))
            demand = cores = max(0.001, self.incident.cpu_cores(pod, t, base))
            if svc.cpu_limit and cores > svc.cpu_limit:  # CFS quota: usage hugs the limit
                cores = svc.cpu_limit * (0.975 + 0.02 * math.sin(t / 37.0))
            c_cpu += cores * dt
            s_cpu.append((t, round(c_cpu, 4)))
            if s_per is not None and s_thr is not None and svc.cpu_limit:
                active = dt * 10 * min(1.0, 0.85 + cores)
                c_per += active
                c_thr += (active * (0.004 + 0.3 * max(0.0, cores / svc.cpu_limit - 0.7))
                          + active * _over_quota(demand, svc.cpu_limit))
                s_per.append((t, float(round(c_per))))
                s_thr.append((t, float(round(c_thr))))
            wave = 1 + 0.02 * math.sin((t - start) / 97.0) + r.gauss(0, 0.006)
            base_mib = svc.mem_base_mib * wave
            if svc.runtime == "java":
                base_mib *= 0.94 + 0.06 * (((t - start) % 170) / 170)
            used = self.incident.memory_mib(pod, t, base_mib) * (1 + r.gauss(0, 0.004))
            s_mem.append((t, float(int(min(used, svc.mem_limit_mib * 0.998) * MIB))))
            prev = t


def _over_quota(demand: float, limit: float) -> float:
    """Extra share of CFS periods throttled once demand exceeds the quota (most do)."""
    return 0.0 if demand <= limit else min(0.8, 0.25 + 0.8 * (demand / limit - 1.0))


def _le(value: float) -> str:
    return "+Inf" if math.isinf(value) else f"{value:g}"


def _fmt(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.6f}".rstrip("0").rstrip(".")


def _labels(labels: Labels) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return "{" + inner + "}" if inner else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def write_openmetrics(families: list[Family], path: Path) -> None:
    """Series-major OpenMetrics text, every sample timestamped, ending in # EOF."""
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as out:
        _write(families, out)


def _write(families: list[Family], out: TextIO) -> None:
    for fam in families:
        if not fam.series:
            continue
        out.write(f"# HELP {fam.name} {fam.help}\n# TYPE {fam.name} {fam.type}\n")
        for metric, labels, samples in fam.series:
            prefix = metric + _labels(labels) + " "
            out.writelines(f"{prefix}{_fmt(v)} {_fmt(t)}\n" for t, v in samples)
    out.write("# EOF\n")
