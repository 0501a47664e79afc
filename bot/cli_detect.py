"""`oncall detect series FILE.csv`: stream anomaly scores for a `timestamp,value` CSV.

Prints one JSON object per data row as soon as the row is read, so it can sit at
the end of a pipe (`-` reads standard input). Timestamps may be NAB-style
(`2014-04-01 00:00:00`, taken as UTC when no zone is given), ISO 8601 or unix
seconds; each is echoed back as it appeared in the input.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, TextIO

import typer

detect_app = typer.Typer(help="Score metric series for anomalies, client-side.",
                         no_args_is_help=True)


def parse_timestamp(text: str) -> tuple[float, str | int | float]:
    """Unix seconds for scoring, and the value to echo (numbers stay numbers)."""
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.timestamp(), text
    echo: int | float = int(text) if text.lstrip("-").isdigit() else number
    return number, echo


def read_rows(stream: TextIO) -> Iterator[tuple[float, str | int | float, float]]:
    """(seconds, timestamp as given, value) per data row; skips a header and blank lines."""
    for line_no, row in enumerate(csv.reader(stream), start=1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            raise ValueError(f"line {line_no}: expected timestamp,value, got {row!r}")
        try:
            seconds, echo = parse_timestamp(row[0])
            value = float(row[1]) if row[1].strip() else float("nan")
        except ValueError:
            if line_no == 1:  # the header row
                continue
            raise ValueError(f"line {line_no}: cannot read {row[:2]!r}") from None
        yield seconds, echo, value


@detect_app.command("series")
def series(
    file: str = typer.Argument(..., help="timestamp,value CSV (NAB format), or - for stdin"),
    anomalies_only: bool = typer.Option(False, "--anomalies-only", help="print flagged rows only"),
) -> None:
    """Print {"timestamp", "score", "anomaly"} per row, each judged from earlier rows only."""
    if file != "-" and not Path(file).is_file():
        typer.echo(f"no such file: {file}", err=True)
        raise typer.Exit(2)
    from detectors.anomaly import StreamingScorer  # numpy: only load it when scoring

    scorer = StreamingScorer()
    stream = sys.stdin if file == "-" else open(file, newline="")
    try:
        for seconds, echo, value in read_rows(stream):
            verdict = scorer.update(seconds, value)
            if anomalies_only and not verdict.anomaly:
                continue
            typer.echo(json.dumps({"timestamp": echo, "score": round(verdict.score, 4),
                                   "anomaly": verdict.anomaly}))
            sys.stdout.flush()
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        if stream is not sys.stdin:
            stream.close()
