"""Log styles added after the first builder: Python (uvicorn) and Redis services, error
lines of Go services, and start-up / graceful-shutdown lines of pods that start or stop
during the recording (rollouts, scaling, replacements)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from sandbox.builder_logs_text import api_method, api_path, native
from sandbox.builder_world import Pod

if TYPE_CHECKING:
    from sandbox.builder_logs import LogWriter

_REASON = {200: "OK", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}


def _client_ip(w: LogWriter, pod: Pod, r: random.Random) -> str:
    callers = [p for p in w.world.pods if pod.service.name in p.service.upstreams]
    return (r.choice(callers).ip if callers else "10.48.0.1") + f":{r.randint(32768, 60999)}"


def _access(pod: Pod, ip: str, method: str, path: str, code: int) -> str:
    return f'INFO:     {ip} - "{method} {path} HTTP/1.1" {code} {_REASON.get(code, "")}'.rstrip()


def python(w: LogWriter, pod: Pod, r: random.Random) -> None:
    """uvicorn access log (sampled) plus the app's own ERROR lines for failed requests."""
    step = w.world.spec.step_s
    method = api_method(pod.service.name)
    for t0, ok, err in w._steps(pod):
        for _ in range(r.choice((1, 1, 2)) if ok else 0):
            w.emit(pod, t0 + r.uniform(0, step),
                   _access(pod, _client_ip(w, pod, r), method, api_path(pod.service, r), 200), r)
        for _ in range(min(4, int(err + r.random()))):
            t, path = t0 + r.uniform(0, step), api_path(pod.service, r)
            text = w.incident.error_text(pod, t, r)
            w.emit(pod, t, native(pod, "ERROR", f"{method} {path} failed: {text}",
                                  logger=f"{pod.service.name}.api"), r)
            w.emit(pod, t + 0.002, _access(pod, _client_ip(w, pod, r), method, path, 500), r)


def redis(w: LogWriter, pod: Pod, r: random.Random) -> None:
    """RDB snapshots every few minutes, as redis-server logs them."""
    t = w.world.start + r.uniform(0, 300)
    while t < w.world.end:
        child = r.randint(200, 9000)
        changes = r.randint(100, 4000)
        w.emit(pod, t, native(pod, "INFO", f"{changes} changes in 300 seconds. Saving..."), r)
        w.emit(pod, t + 0.001, native(pod, "INFO", f"Background saving started by pid {child}"),
               r)
        w.emit(pod, t + r.uniform(0.3, 2.5), native(pod, "INFO", "DB saved on disk", pid=child), r)
        w.emit(pod, t + 2.6, native(pod, "INFO", "Background saving terminated with success"), r)
        t += 300 + r.uniform(0, 4)


def go_errors(w: LogWriter, pod: Pod, steps: list[tuple[float, float, float]]) -> None:
    """slog ERROR lines for a Go service's failed requests (own random stream)."""
    r = w.world.rng("logs-err:" + pod.name)
    step = w.world.spec.step_s
    method = api_method(pod.service.name)
    for t0, _, err in steps:
        for _ in range(min(5, int(err + r.random()))):
            t = t0 + r.uniform(0, step)
            w.emit(pod, t, native(pod, "ERROR", "request failed", fields={
                "method": method, "path": api_path(pod.service, r), "status": 500,
                "error": w.incident.error_text(pod, t, r),
                "trace_id": f"{r.getrandbits(64):016x}"}), r)


def startup(w: LogWriter, pod: Pod, t: float, r: random.Random) -> None:
    """Start-up lines of the runtimes builder_logs does not cover itself."""
    svc = pod.service
    if pod.owner_kind == "Job":
        return
    if svc.runtime == "python":
        for dt, msg in ((0.0, "Started server process [1]"),
                        (0.01, "Waiting for application startup."),
                        (1.2, "Application startup complete."),
                        (1.21, f"Uvicorn running on http://0.0.0.0:{svc.port} "
                               "(Press CTRL+C to quit)")):
            w.emit(pod, t + dt, f"INFO:     {msg}", r)
    elif svc.runtime == "postgres":
        for dt, msg in ((0.0, f"starting PostgreSQL {svc.version} on x86_64-pc-linux-musl, "
                              "compiled by gcc (Alpine 13.2.1_git20231014) 13.2.1 20231014, "
                              "64-bit"),
                        (0.01, f'listening on IPv4 address "0.0.0.0", port {svc.port}'),
                        (0.4, "database system is ready to accept connections")):
            w.emit(pod, t + dt, native(pod, "INFO", msg), r)
    elif svc.runtime == "redis":
        for dt, msg in ((0.0, f"Redis version={svc.version}, bits=64, commit=00000000, "
                              "modified=0, pid=1, just started"),
                        (0.01, "Server initialized"),
                        (0.3, "Ready to accept connections tcp")):
            w.emit(pod, t + dt, native(pod, "INFO", msg), r)


def lifecycle(w: LogWriter, pod: Pod) -> None:
    """First start inside the recording, and the graceful shutdown of deleted pods."""
    r = w.world.rng("logs-life:" + pod.name)
    if w.world.start < pod.first_start <= w.world.end:
        w.startup(pod, pod.first_start + 0.4, r)
    if pod.deleting is None or not pod.node.up(pod.deleting):
        return
    t, rt = pod.deleting + 0.05, pod.service.runtime
    lines: list[tuple[float, str]] = {
        "java": [(0.0, "Commencing graceful shutdown. Waiting for active requests to complete"),
                 (1.8, "Graceful shutdown complete")],
        "node": [(0.0, "received SIGTERM, closing server"), (0.6, "server closed")],
        "go": [(0.0, "shutting down"), (0.3, "server stopped")],
        "python": [(0.0, "Shutting down"), (0.2, "Application shutdown complete.")],
    }.get(rt, [])
    for dt, msg in lines:
        if rt == "python":
            w.emit(pod, t + dt, f"INFO:     {msg}", r)
        else:
            logger = "o.s.b.w.e.tomcat.GracefulShutdown" if rt == "java" else ""
            w.emit(pod, t + dt, native(pod, "INFO", msg, logger=logger,
                                       thread="tomcat-shutdown"), r)
