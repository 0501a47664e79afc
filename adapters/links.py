"""Deep links a human can click to see the evidence in the source's own UI."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode


def _duration(seconds: float) -> str:
    """Prometheus UI range_input wants `1h`, `30m`, `90s`..."""
    seconds = int(max(seconds, 60))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def prometheus_graph(
    base_url: str, expr: str, *, end: datetime | None = None, range_seconds: float = 3600,
    tab: int = 0,
) -> str:
    """Link to the Prometheus expression browser showing `expr` as a graph (tab 0)."""
    params = {"g0.expr": expr, "g0.tab": str(tab), "g0.range_input": _duration(range_seconds)}
    if end is not None:
        params["g0.end_input"] = end.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        params["g0.moment_input"] = params["g0.end_input"]
    return f"{base_url.rstrip('/')}/graph?{urlencode(params)}"
