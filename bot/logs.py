"""Logging set-up: plain text for a terminal, or one JSON object per line for a
log pipeline (ONCALL_LOG_FORMAT=json), each line tagged with the incident it
concerns so all of an incident's lines can be pulled up across replicas."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

INCIDENT: ContextVar[str | None] = ContextVar("oncall_incident", default=None)
GROUP_KEY: ContextVar[str | None] = ContextVar("oncall_group_key", default=None)
NOTIFICATION: ContextVar[int | None] = ContextVar("oncall_notification", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s {role}%(name)s: %(message)s"


def incident_id(group_key: str) -> str:
    """A short stable id for an alert group (group keys are long label sets)."""
    return "inc-" + hashlib.sha256(group_key.encode()).hexdigest()[:12]


@contextmanager
def incident(group_key: str, notification_id: int | None = None) -> Iterator[None]:
    """Tag every log line emitted below (in this task) with the incident."""
    tokens = (INCIDENT.set(incident_id(group_key)), GROUP_KEY.set(group_key),
              NOTIFICATION.set(notification_id))
    try:
        yield
    finally:
        NOTIFICATION.reset(tokens[2])
        GROUP_KEY.reset(tokens[1])
        INCIDENT.reset(tokens[0])


class JsonFormatter(logging.Formatter):
    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage(),
            "role": self.role, "pid": os.getpid(),
        }
        if (inc := INCIDENT.get()) is not None:
            out.update(incident=inc, group_key=GROUP_KEY.get())
        if (nid := NOTIFICATION.get()) is not None:
            out["notification"] = nid
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class _IncidentText(logging.Filter):
    """Text lines get a short `[inc-…]` prefix when they concern an incident."""

    def filter(self, record: logging.LogRecord) -> bool:
        inc = INCIDENT.get()
        if inc and not getattr(record, "_oncall_tagged", False):
            record.msg, record._oncall_tagged = f"[{inc}] {record.msg}", True
        return True


def setup_logging(level: str | int, fmt: str = "text", role: str = "") -> None:
    """Replace the root handlers (basicConfig would keep a pre-existing one)."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter(role or "serve"))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT.format(role=f"{role} " if role else "")))
        handler.addFilter(_IncidentText())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
