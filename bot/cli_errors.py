"""How `oncall` fails: one clear line and a non-zero exit, the traceback only on `--debug`.

An on-call engineer running a command at 3 a.m. needs to know what went wrong
(the store cannot be opened, a URL is malformed), not forty lines of frames
from inside SQLAlchemy. Bad usage stays Click's (exit 2 with the usage line);
any other unexpected error becomes `error: <Type>: <message>` and exit 1.
`--debug` (or `ONCALL_DEBUG=1`) prints the full traceback instead.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Callable

_debug = False


def set_debug(on: bool) -> None:
    """Called by the global `--debug` option before any command runs."""
    global _debug
    _debug = on


def debug_enabled() -> bool:
    return _debug or os.environ.get("ONCALL_DEBUG", "").lower() in {"1", "true", "yes"}


def print_traceback_if_debug() -> None:
    """For commands that turn a known failure into one line: keep the frames on --debug."""
    if debug_enabled():
        traceback.print_exc()


def one_line(exc: BaseException) -> str:
    """`Type: message` on one line; SQLAlchemy's background links and the like dropped."""
    text = " ".join(str(exc).split())
    cut = text.find("(Background on this error at:")
    if cut > 0:
        text = text[:cut].rstrip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_cli(app: Callable[[], object]) -> None:
    """Run the Typer app; unexpected exceptions end as one line on stderr and exit 1."""
    try:
        app()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the whole point: nothing escapes as a traceback
        if debug_enabled():
            traceback.print_exc()
        else:
            print(f"error: {one_line(exc)} (run with --debug for the traceback)",
                  file=sys.stderr)
        sys.exit(1)
