"""logs.jsonl for a built scenario: sampled application logs in each runtime's
native style (Spring Boot, pino, Go slog, PostgreSQL), driven by the same
traffic, memory and container lifecycle as the metrics so they tell one story."""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from sandbox.builder_incidents import Incident
from sandbox.builder_logs_text import IDS, PAGES, api_path, java_ok
from sandbox.builder_metrics import Traffic
from sandbox.builder_world import Pod, World

Line = tuple[int, Pod, str]  # (epoch ns, pod, raw text)
_PRODUCTS = ("SKU-10442", "SKU-20817", "SKU-31175", "SKU-48213", "SKU-52096", "SKU-66310")
_PAGES = ("/", "/products/{p}", "/products/{p}", "/cart", "/api/recommendations",
          "/static/app.3c9e1f.js", "/search?q=lamp")


def _civil(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1_000_000_000, timezone.utc)


def rfc3339_ns(ns: int) -> str:
    return _civil(ns).strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 1_000_000_000:09d}Z"


def _ms(ns: int) -> str:
    return _civil(ns).strftime("%Y-%m-%dT%H:%M:%S") + f".{ns // 1_000_000 % 1000:03d}"


def _spring(app: str, level: str, thread: str, logger: str, msg: str) -> Callable[[int], str]:
    """Spring Boot 3 console layout (thread right-aligned to 15, logger padded to 40)."""
    return lambda ns: (f"{_ms(ns)}Z {level:>5} 1 --- [{app}] [{thread[-15:]:>15}] "
                       f"{logger[:40]:<40} : {msg}")


def _gc(text: str) -> Callable[[int], str]:
    """JDK unified GC logging (-Xlog:gc) line."""
    return lambda ns: f"[{_ms(ns)}+0000][info][gc] {text}"


def version(pod: Pod) -> str:
    """The version a pod runs: its image tag when it runs another image than the spec's."""
    return pod.image.rsplit(":", 1)[-1] if pod.image else pod.service.version


def _uuid(r: random.Random) -> str:
    h = f"{r.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


class LogWriter:
    """Collects lines per pod and writes them sorted by time."""

    def __init__(self, world: World, incident: Incident, traffic: Traffic) -> None:
        self.world, self.incident, self.traffic = world, incident, traffic
        self.lines: list[Line] = []
        store = world.spec.topology == "store"
        self.pages = _PAGES if store else PAGES.get(world.spec.topology, _PAGES)
        self.ids = _PRODUCTS if store else IDS.get(world.spec.topology, _PRODUCTS)

    def build(self, extra: Callable[[LogWriter], None] | None = None) -> list[Line]:
        from sandbox import builder_logs_more as more  # late: it builds on this module
        for pod in self.world.pods:
            r = self.world.rng("logs:" + pod.name)
            style = {"java": self._java, "node": self._node, "go": self._go,
                     "postgres": self._postgres, "python": lambda p, rr: more.python(self, p, rr),
                     "redis": lambda p, rr: more.redis(self, p, rr)}[pod.service.runtime]
            self._startups(pod, r)
            style(pod, r)
            if not self.world.spec.legacy:
                more.lifecycle(self, pod)
        if not self.world.spec.legacy:
            self.incident.extra_logs(self)
        if extra is not None:
            extra(self)
        self.lines.sort(key=lambda x: x[0])
        return self.lines

    def emit(self, pod: Pod, t: float, text: str | Callable[[int], str],
             r: random.Random) -> None:
        """Add one line of ``pod`` at ``t`` if its container is running then (incident
        lines: never silenced by Incident.quiet)."""
        ns = int(t * 1e9) + r.randint(0, 999_999)
        if self.world.start < ns / 1e9 <= self.world.end and pod.running(ns / 1e9):
            self.lines.append((ns, pod, text(ns) if callable(text) else text))

    def _emit(self, pod: Pod, t: float, text: str | Callable[[int], str],
              r: random.Random) -> None:
        ns = int(t * 1e9) + r.randint(0, 999_999)
        if not (self.world.start < ns / 1e9 <= self.world.end) or not pod.running(ns / 1e9):
            return
        if self.incident.quiet(pod, ns / 1e9):
            return
        self.lines.append((ns, pod, text(ns) if callable(text) else text))

    def _steps(self, pod: Pod) -> list[tuple[float, float, float]]:
        """(step start, ok requests, errors) per http step while the pod serves."""
        step = self.world.spec.step_s
        ok = self.traffic.ok.get(pod.name)
        err = self.traffic.errors.get(pod.name)
        if ok is None or err is None:
            return [(t - step, 0.0, 0.0) for t in self.world.grid("http", step)]
        return [(t - step, o, e) for t, o, e in zip(self.traffic.times, ok, err)]

    # ---- per-runtime styles ----
    def _java(self, pod: Pod, r: random.Random) -> None:
        svc, step = pod.service, self.world.spec.step_s
        limit = svc.mem_limit_mib
        app = svc.name
        gc_next, gc_id = self.world.start + r.uniform(0, 120), r.randint(2000, 6000)

        def spring(level: str, thread: str, logger: str, msg: str) -> Callable[[int], str]:
            return _spring(app, level, thread, logger, msg)

        for t0, ok, err in self._steps(pod):
            thread = f"nio-{svc.port}-exec-{r.randint(1, 200)}"
            if ok and r.random() < min(1.0, ok / 25):
                at = t0 + r.uniform(0, step)
                msg = (f"Order {r.randint(10**7, 10**8)} placed for cart {_uuid(r)} "
                       f"items={r.randint(1, 6)} total={r.uniform(8, 240):.2f} EUR"
                       if self.pages is _PAGES else java_ok(svc.name, r))
                self._emit(pod, at, spring(
                    "INFO", thread, f"c.e.{self.world.spec.topology}.{app}.web."
                    f"{app.capitalize()}Controller", msg), r)
            for _ in range(min(5, int(err + r.random()))):
                at = t0 + r.uniform(0, step)
                self._emit(pod, at, spring(
                    "ERROR", f"nio-{svc.port}-exec-{r.randint(1, 200)}",
                    "o.a.c.c.C.[.[.[/].[dispatcherServlet]",
                    self.incident.error_message_at(pod, at)), r)
            while gc_next < t0 + step:
                t = gc_next
                used = self.incident.memory_mib(pod, t, svc.mem_base_mib)
                pressure = used / limit
                heap = int(limit * 0.75)
                before = min(heap - 2, int(used * 0.72 + r.uniform(0, 20)))
                after = max(40, before - int(r.uniform(18, 30) * (1.2 - pressure)))
                if pressure > 0.9:
                    kind = "Pause Full (G1 Compaction Pause)"
                    pause = r.uniform(380, 900)
                else:
                    kind = "Pause Young (Normal) (G1 Evacuation Pause)"
                    pause = r.uniform(3, 14) * (1 + 12 * max(0.0, pressure - 0.75))
                gc_id += 1
                text = f"GC({gc_id}) {kind} {before}M->{after}M({heap}M) {pause:.3f}ms"
                self._emit(pod, t, _gc(text), r)
                if pressure > 0.93 and r.random() < 0.3:
                    self._emit(pod, t + 1.5, spring(
                        "WARN", "l-1 housekeeper", "com.zaxxer.hikari.pool.HikariPool",
                        f"HikariPool-1 - Thread starvation or clock leap detected "
                        f"(housekeeper delta={r.randint(31, 75)}s{r.randint(0, 999)}ms)."), r)
                gc_next = t + (r.uniform(90, 150) if pressure < 0.8 else r.uniform(12, 30))

    def _node(self, pod: Pod, r: random.Random) -> None:
        step, svc = self.world.spec.step_s, pod.service
        upstream = svc.upstreams[0] if svc.upstreams else "api"
        up_pods = self.world.pods_of(upstream)
        for t0, ok, err in self._steps(pod):
            for _ in range(r.choice((1, 2, 2, 3)) if ok else 0):
                page = r.choice(self.pages).format(p=r.choice(self.ids))
                rec = {"level": 30, "pid": 1, "hostname": pod.name,
                       "reqId": f"req-{r.getrandbits(32):x}",
                       "req": {"method": "GET", "url": page}, "res": {"statusCode": 200},
                       "responseTime": round(r.lognormvariate(3.4, 0.5)),
                       "msg": "request completed"}
                self._emit(pod, t0 + r.uniform(0, step), self._pino(rec), r)
            for _ in range(min(4, int(err + r.random()))):
                t = t0 + r.uniform(0, step)
                custom = self.incident.node_error(pod, t)
                if custom is not None:
                    self._emit(pod, t, self._pino({
                        "level": 50, "pid": 1, "hostname": pod.name,
                        **({"upstream": custom["upstream"]} if "upstream" in custom else {}),
                        "err": {k: v for k, v in custom.items() if k != "upstream"},
                        "req": {"method": r.choice(("GET", "GET", "GET", "POST")),
                                "url": r.choice(self.pages).format(p=r.choice(self.ids))},
                        "msg": "request failed"}), r)
                    continue
                down = [p for p in up_pods if not p.ready(t)]
                if down and r.random() < 0.45:
                    target = r.choice(down)
                    e = {"type": "Error", "message": f"connect ECONNREFUSED {target.ip}:"
                         f"{target.service.port}", "code": "ECONNREFUSED"}
                else:
                    e = {"type": "AxiosError", "message": "Request failed with status code 500"}
                rec = {"level": 50, "pid": 1, "hostname": pod.name, "upstream": upstream,
                       "err": e, "req": {"method": "POST", "url": f"/api/{upstream}"},
                       "msg": "upstream request failed"}
                self._emit(pod, t, self._pino(rec), r)

    @staticmethod
    def _pino(rec: dict[str, object]) -> Callable[[int], str]:
        def fmt(ns: int) -> str:
            body = {"level": rec["level"], "time": ns // 1_000_000}
            body.update({k: v for k, v in rec.items() if k != "level"})
            return json.dumps(body, separators=(",", ":"))
        return fmt

    def _go(self, pod: Pod, r: random.Random) -> None:
        step = self.world.spec.step_s
        if not self.world.spec.legacy:
            from sandbox.builder_logs_more import go_errors
            go_errors(self, pod, self._steps(pod))
        for t0, ok, err in self._steps(pod):
            if ok and r.random() < 0.8:
                rec = {"level": "INFO", "msg": "request served", "method": "GET",
                       "path": f"/v1/stock/{r.choice(_PRODUCTS)}" if self.pages is _PAGES
                       else api_path(pod.service, r), "status": 200,
                       "duration_ms": round(r.lognormvariate(1.9, 0.4), 2),
                       "trace_id": f"{r.getrandbits(64):016x}"}
                self._emit(pod, t0 + r.uniform(0, step), self._slog(rec), r)

    @staticmethod
    def _slog(rec: dict[str, object]) -> Callable[[int], str]:
        return lambda ns: json.dumps({"time": rfc3339_ns(ns), **rec}, separators=(",", ":"))

    def _postgres(self, pod: Pod, r: random.Random) -> None:
        def pg(pid: int, level: str, msg: str) -> Callable[[int], str]:
            return lambda ns: (_ms(ns).replace("T", " ") + f" UTC [{pid}] {level}:  {msg}")

        t = self.world.start + r.uniform(0, 300)
        while t < self.world.end:
            buffers = r.randint(40, 400)
            dur = r.uniform(4, 27)
            self._emit(pod, t, pg(27, "LOG", "checkpoint starting: time"), r)
            self._emit(pod, t + dur, pg(27, "LOG", (
                f"checkpoint complete: wrote {buffers} buffers ({buffers / 163.84:.1f}%); "
                f"0 WAL file(s) added, 0 removed, {r.randint(0, 2)} recycled; "
                f"write={dur - 0.03:.3f} s, "
                f"sync=0.00{r.randint(1, 9)} s, total={dur:.3f} s; sync files={r.randint(8, 40)}, "
                f"longest=0.002 s, average=0.001 s; distance={buffers * 8} kB, "
                f"estimate={buffers * 9} kB; lsn=0/{r.getrandbits(28):X}, "
                f"redo lsn=0/{r.getrandbits(28):X}")), r)
            t += 300
        clients = [p for p in self.world.pods if pod.service.name in p.service.upstreams]
        for client in clients:
            for term in client.terminations:
                pid = r.randint(4000, 30000)
                self._emit(pod, term.finished + 0.004, pg(
                    pid, "LOG", "could not receive data from client: Connection reset by peer"), r)
                self._emit(pod, term.finished + 0.006, pg(
                    pid, "LOG", "unexpected EOF on client connection with an open transaction"), r)

    def _startups(self, pod: Pod, r: random.Random) -> None:
        for term in pod.terminations:
            self.startup(pod, term.restarted + 0.4, r)

    def startup(self, pod: Pod, t: float, r: random.Random) -> None:
        """The start-up lines of one container start at ``t``."""
        svc = pod.service
        if pod.never_ready:
            return
        if svc.runtime == "java":
            name = svc.name.capitalize() + "Application"
            logger = f"c.e.{self.world.spec.topology}.{svc.name}.{name}"
            for dt, lg, msg in (
                (0.0, logger, f"Starting {name} {version(pod)} using Java 21.0.2 with PID 1 "
                              f"(/app/{svc.name}.jar started by app in /app)"),
                (0.1, logger, 'The following 1 profile is active: "prod"'),
                (6.2, "o.s.b.w.embedded.tomcat.TomcatWebServer",
                 f"Tomcat initialized with port {svc.port} (http)"),
                (11.8, "com.zaxxer.hikari.HikariDataSource", "HikariPool-1 - Start completed."),
                (16.9, "o.s.b.w.embedded.tomcat.TomcatWebServer",
                 f"Tomcat started on port {svc.port} (http) with context path ''"),
                (17.1, logger, f"Started {name} in 17.02 seconds (process running for 17.9)"),
            ):
                self._emit(pod, t + dt, _spring(svc.name, "INFO", "main", lg, msg), r)
        elif svc.runtime == "node":
            self._emit(pod, t, self._pino({"level": 30, "pid": 1, "hostname": pod.name,
                                           "msg": f"server listening on port {svc.port}"}), r)
        elif svc.runtime == "go":
            self._emit(pod, t, self._slog({"level": "INFO", "msg": "listening",
                                           "addr": f":{svc.port}"}), r)
        else:
            from sandbox.builder_logs_more import startup
            startup(self, pod, t, r)


def write_logs(lines: list[Line], namespace: str, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for ns, pod, text in lines:
            labels = {"namespace": namespace, "pod": pod.name, "container": pod.service.name,
                      "app": pod.service.name}
            out.write(json.dumps({"ts": rfc3339_ns(ns), "labels": labels, "line": text},
                                 ensure_ascii=False) + "\n")
