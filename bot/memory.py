"""glibc heap settings for the long-lived processes (`oncall serve`, its worker).

glibc gives every thread that allocates its own arena (up to 8 per core), and
freed memory stays in them: a worker whose thread pools embed, query and
render through a storm keeps the storm's peak for good. Two arenas and a trim
once a burst of work is over hand it back. Done in-process (mallopt) rather
than with MALLOC_ARENA_MAX in the image, so `oncall serve` run anywhere
behaves as in the pod. On other C libraries these are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
M_ARENA_MAX = -8  # from glibc's malloc.h
_libc: ctypes.CDLL | None = None


def _glibc() -> ctypes.CDLL | None:
    global _libc
    if _libc is None:
        try:
            lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            lib.mallopt, lib.malloc_trim  # noqa: B018 - glibc only
        except (OSError, AttributeError):
            return None
        _libc = lib
    return _libc


def limit_arenas(arenas: int = 2) -> bool:
    """Cap malloc arenas; call before threads start. True if glibc took it."""
    lib = _glibc()
    return bool(lib and lib.mallopt(M_ARENA_MAX, arenas))


def trim() -> bool:
    """Return free heap pages to the system. True if any were released."""
    lib = _glibc()
    return bool(lib and lib.malloc_trim(0))
