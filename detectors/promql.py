"""Small helpers for writing PromQL safely from label values."""

from __future__ import annotations


def quote(value: str) -> str:
    """A PromQL double-quoted string literal for an arbitrary label value."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def selector(metric: str, *matchers: str, **equal: str | None) -> str:
    """`metric{k="v",...,extra}`; None values are left out."""
    parts = [f"{k}={quote(v)}" for k, v in equal.items() if v is not None]
    parts.extend(m for m in matchers if m)
    return f"{metric}{{{','.join(parts)}}}"


def window(seconds: int) -> str:
    """Seconds as a PromQL duration (`5m`, `1h`, `3d`)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
