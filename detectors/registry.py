"""Registry of detectors and the parallel runner with per-detector isolation."""

from __future__ import annotations

import asyncio
import logging
from importlib.metadata import entry_points
from typing import ClassVar, Protocol, runtime_checkable

from detectors.context import InvestigationContext
from detectors.finding import Finding

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "oncall.detectors"

_REGISTRY: dict[str, type["Detector"]] = {}


@runtime_checkable
class Detector(Protocol):
    name: ClassVar[str]

    async def detect(self, ctx: InvestigationContext) -> list[Finding]: ...


def register(cls: type[Detector]) -> type[Detector]:
    """Class decorator: make a detector available by its `name`."""
    _REGISTRY[cls.name] = cls
    return cls


def all_detectors() -> dict[str, type[Detector]]:
    """Built-in detectors plus those installed under the entry point group."""
    import detectors.builtin  # noqa: F401  (registers the built-ins)

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in _REGISTRY:
            try:
                _REGISTRY[ep.name] = ep.load()
            except Exception:  # a broken plugin must not take the others down
                log.exception("cannot load detector plugin %s", ep.name)
    return dict(_REGISTRY)


async def run_detectors(
    ctx: InvestigationContext, names: list[str] | None = None, *, deadline: float = 8.0
) -> tuple[list[Finding], dict[str, str]]:
    """Run detectors concurrently; return findings and the failures by detector name.

    A detector that raises or overruns the deadline is reported as failed; the
    others still count.
    """
    available = all_detectors()
    chosen = {n: available[n] for n in (names or sorted(available))}
    tasks = {n: asyncio.create_task(cls().detect(ctx)) for n, cls in chosen.items()}
    done, pending = await asyncio.wait(tasks.values(), timeout=deadline)
    findings: list[Finding] = []
    failures: dict[str, str] = {}
    for name, task in tasks.items():
        if task in pending:
            task.cancel()
            failures[name] = f"no result within {deadline:g}s"
        elif task.exception() is not None:
            exc = task.exception()
            log.warning("detector %s failed: %r", name, exc)
            failures[name] = f"{type(exc).__name__}: {exc}"
        else:
            findings.extend(task.result())
    findings.sort(key=lambda f: f.sort_key(), reverse=True)
    return findings, failures
