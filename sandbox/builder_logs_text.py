"""Log vocabulary per topology and one formatter for "a line in this pod's native style",
so incidents can write start-up failures or connection errors without knowing whether the
pod runs Spring Boot, pino, Go slog, Python logging, PostgreSQL or Redis."""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from typing import Any, Callable

from sandbox.builder_world import Pod

Text = Callable[[int], str]

PAGES = {
    "bank": ("/", "/accounts/{p}", "/accounts/{p}/statements", "/transfers/new",
             "/api/session", "/static/main.81c0d2.js", "/cards"),
    "media": ("/", "/browse/{p}", "/title/{p}", "/title/{p}", "/watch/{p}",
              "/static/player.5b7e20.js", "/search?q=drama"),
}
IDS = {
    "bank": ("ACC-20417", "ACC-31884", "ACC-40922", "ACC-58301", "ACC-60715", "ACC-77126"),
    "media": ("tt0411008", "tt0903747", "tt1475582", "tt2861424", "tt4574334", "tt7366338"),
}
_PATHS = {
    "accounts": ("GET", "/v1/accounts/{id}/balance"), "ledger": ("GET", "/v1/ledger/entries"),
    "catalog": ("GET", "/v1/titles/{id}"), "playback": ("GET", "/v1/manifests/{id}.m3u8"),
    "transfers": ("POST", "/v1/transfers"), "gateway": ("GET", "/v1/accounts/{id}"),
    "inventory": ("GET", "/v1/stock/{id}"), "checkout": ("POST", "/api/orders"),
}
_LEVEL_NUM = {"DEBUG": 20, "INFO": 30, "WARN": 40, "ERROR": 50, "FATAL": 60}


def api_path(service: Any, r: random.Random) -> str:
    method, path = _PATHS.get(service.name, ("GET", f"/v1/{service.name}/{{id}}"))
    return path.format(id=r.randint(10_000, 99_999))


def api_method(name: str) -> str:
    return _PATHS.get(name, ("GET", ""))[0]


def java_ok(name: str, r: random.Random) -> str:
    """An INFO line of a healthy request of a (non-store) Java service."""
    if name == "transfers":
        return (f"Transfer TRF-{r.randint(10**8, 10**9)} booked debit=ACC-{r.randint(10**4, 10**5)}"
                f" amount={r.uniform(5, 2400):.2f} EUR scheme=SEPA_INST")
    return f"Processed request {r.getrandbits(40):x} for tenant {r.randint(100, 999)} in " \
           f"{r.randint(8, 90)} ms"


def _ms(ns: int) -> str:
    dt = datetime.fromtimestamp(ns // 1_000_000_000, timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ns // 1_000_000 % 1000:03d}"


def _ns9(ns: int) -> str:
    dt = datetime.fromtimestamp(ns // 1_000_000_000, timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 1_000_000_000:09d}Z"


def native(pod: Pod, level: str, msg: str, *, logger: str = "", thread: str = "main",
           fields: dict[str, Any] | None = None, pid: int = 1) -> Text:
    """A formatter for one line of ``pod``'s runtime (level: DEBUG/INFO/WARN/ERROR/FATAL)."""
    runtime, app = pod.service.runtime, pod.service.name
    extra = fields or {}
    if runtime == "java":
        lg = logger or f"c.e.{app}.{app.capitalize()}Application"
        lv = "WARN" if level == "WARN" else level if level != "FATAL" else "ERROR"
        return lambda ns: (f"{_ms(ns)}Z {lv:>5} 1 --- [{app}] [{thread[-15:]:>15}] "
                           f"{lg[:40]:<40} : {msg}")
    if runtime == "node":
        def pino(ns: int) -> str:
            body = {"level": _LEVEL_NUM[level], "time": ns // 1_000_000, "pid": 1,
                    "hostname": pod.name, **extra, "msg": msg}
            return json.dumps(body, separators=(",", ":"))
        return pino
    if runtime == "go":
        lv = {"WARN": "WARN", "FATAL": "ERROR"}.get(level, level)
        return lambda ns: json.dumps({"time": _ns9(ns), "level": lv, "msg": msg, **extra},
                                     separators=(",", ":"))
    if runtime == "python":
        lg = logger or f"{app}.app"
        lv = {"WARN": "WARNING", "FATAL": "CRITICAL"}.get(level, level)
        tail = "".join(f" {k}={v}" for k, v in extra.items())
        return lambda ns: f"{_ms(ns).replace('T', ' ').replace('.', ',')} {lv} [{lg}] {msg}{tail}"
    if runtime == "postgres":
        lv = {"INFO": "LOG", "WARN": "WARNING"}.get(level, level)
        return lambda ns: f"{_ms(ns).replace('T', ' ')} UTC [{pid}] {lv}:  {msg}"
    sym = {"DEBUG": ".", "INFO": "*", "WARN": "#", "ERROR": "#", "FATAL": "#"}[level]

    def redis(ns: int) -> str:
        dt = datetime.fromtimestamp(ns // 1_000_000_000, timezone.utc)
        ms = ns // 1_000_000 % 1000
        return f"{pid}:M {dt.strftime('%d %b %Y %H:%M:%S')}.{ms:03d} {sym} {msg}"
    return redis
