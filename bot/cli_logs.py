"""`oncall logs`: log tools that run on a pipe, no server needed."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import TextIO

import typer

from detectors.logsig import TemplateMiner

logs_app = typer.Typer(help="Work on raw log lines from stdin.", no_args_is_help=True)


@logs_app.callback()
def logs() -> None:
    """Work on raw log lines from stdin."""  # keeps `logs` a group as commands are added

_CHUNK = 1 << 16


def stream_signatures(source: TextIO, sink: TextIO, baseline: int = 0) -> int:
    """Mine ``source`` line by line, writing one JSON object per line to ``sink``.

    Output is flushed after each batch of lines that arrived together: a
    ``tail -f`` pipe gets an answer per line, a big file is written in 64 KiB
    batches; nothing is held beyond one batch.
    """
    miner = TemplateMiner(baseline=baseline)
    dumps = json.dumps
    count = 0
    for batch in _batches(source):
        out = []
        for line in batch:
            match = miner.add(line)
            out.append(dumps({"template_id": match.template_id, "template": match.template,
                              "new": match.new}, ensure_ascii=False))
        if out:
            sink.write("\n".join(out) + "\n")
            sink.flush()
            count += len(out)
    return count


def _batches(source: TextIO) -> Iterator[list[str]]:
    """Lines grouped as they become available (``read1`` never waits for a full buffer)."""
    read1 = getattr(getattr(source, "buffer", None), "read1", None)
    if read1 is None:
        for line in source:
            yield [line.rstrip("\r\n")]
        return
    pending = b""
    while chunk := read1(_CHUNK):
        *complete, pending = (pending + chunk).split(b"\n")
        yield [_decode(line) for line in complete]
    if pending:
        yield [_decode(pending)]


def _decode(line: bytes) -> str:
    return line.rstrip(b"\r").decode("utf-8", "replace")


@logs_app.command("signatures")
def signatures(
    baseline: int = typer.Option(
        0, min=0,
        help="first N lines only teach the miner (never 'new'); 0 = every first occurrence is new",
    ),
) -> None:
    """Read raw log lines on stdin; print {"template_id", "template", "new"} per line as JSON."""
    try:
        stream_signatures(sys.stdin, sys.stdout, baseline)
    except BrokenPipeError:  # e.g. `| head`: stop quietly
        sys.stderr.close()
        raise typer.Exit(0) from None
