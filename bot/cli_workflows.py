"""What the on-demand commands (health, triage, slo-prom, cost) share: options, running, output.

Each command parses its options, hands a workflow the sources of the
configured cluster (`ONCALL_*`) or of a replayed scenario (`--scenario`), and
prints the typed result as Rich text, Markdown or JSON. Bad input is exit 2,
an unreachable source that makes the answer impossible exit 1, each with one
line and no traceback.
"""

from __future__ import annotations

import asyncio
import json
import sys
from contextlib import asynccontextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, NoReturn, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from rich.text import Text

from adapters.kube_config import KubeConfigError
from bot.cli_canary import Format, parse_time
from bot.cli_errors import print_traceback_if_debug
from bot.settings import Settings

if TYPE_CHECKING:  # the workflows load when a command runs, not when `oncall serve` starts
    from adapters.clusters import ClusterConfig
    from adapters.envelope import SourceResult
    from reasoning.workflows.checks import NextCheck
    from reasoning.workflows.sources import Sources

T = TypeVar("T", bound=BaseModel)

FORMAT = typer.Option(Format.TEXT, "--format", help="output: text (Rich), md or json")
SCENARIO = typer.Option(None, "--scenario", exists=True, file_okay=False,
                        help="replay this scenario folder in the sandbox instead of ONCALL_*")
AT = typer.Option(None, "--at", help="evaluation time, ISO 8601 or unix seconds (default now)")
NAMESPACE = typer.Option(None, "--namespace", "-n", help="namespace (default: all namespaces)")


def when(at: str | None, fmt: Format) -> datetime | None:
    try:
        return parse_time(at) if at else None
    except ValueError as exc:
        fail(f"bad --at: {exc}", fmt, 2)


@asynccontextmanager
async def cluster_for(scenario: Path | None, *, alertmanager: bool = False
                      ) -> AsyncIterator[ClusterConfig]:
    """The `ONCALL_*` cluster, or the scenario replayed on loopback."""
    if scenario is None:
        yield Settings().default_cluster()
        return
    from bot.replay import scenario_cluster  # the sandbox only loads when asked for

    async with scenario_cluster(scenario, alertmanager=alertmanager) as cluster:
        yield cluster


def run(workflow: Callable[[Sources], Awaitable[T]], *, scenario: Path | None, fmt: Format,
        label: str, alertmanager: bool = False) -> T:
    """Open the sources, run the workflow, map its failures to exit codes."""
    from reasoning.workflows.sources import open_sources

    async def main() -> T:
        async with cluster_for(scenario, alertmanager=alertmanager) as cluster:
            async with open_sources(cluster, events_selector=Settings().loki_events_selector
                                    ) as sources:
                return await workflow(sources)

    spinner = (Console(stderr=True).status(f"{label}…") if sys.stderr.isatty()
               else nullcontext())
    try:
        with spinner:
            return asyncio.run(main())
    except ValueError as exc:  # bad input, or a target that does not exist
        print_traceback_if_debug()
        fail(str(exc), fmt, 2)
    except (RuntimeError, OSError, KubeConfigError) as exc:
        print_traceback_if_debug()
        fail(f"{type(exc).__name__}: {exc}", fmt, 1)


def fail(message: str, fmt: Format, code: int) -> NoReturn:
    """One line (a JSON object with --format json) and the exit code."""
    message = " ".join(message.split())
    if fmt is Format.JSON:
        typer.echo(json.dumps({"error": message, "exit_code": code}))
    else:
        typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def emit(result: BaseModel, fmt: Format, text: Callable[[Any, Console], None],
         markdown: Callable[[Any], str]) -> None:
    if fmt is Format.JSON:
        typer.echo(result.model_dump_json(indent=2))
    elif fmt is Format.MD:
        typer.echo(markdown(result))
    else:
        text(result, Console())


def print_checks(checks: list[NextCheck], failures: list[str], console: Console) -> None:
    """Next checks (commands to copy, never wrapped) and the sources that failed."""
    if checks:
        console.print("Next checks", style="bold")
        for i, c in enumerate(checks, 1):
            console.print(f"{i}. {c.command}", markup=False, highlight=False, soft_wrap=True)
            console.print(f"   {c.why}", style="dim", markup=False, highlight=False)
    for f in failures:
        console.print(f"unavailable: {f}", style="yellow", markup=False, highlight=False)


def print_evidence(evidence: list[SourceResult], console: Console) -> None:
    for ev in evidence:
        console.print(f"{ev.source} ({ev.status.value}): {ev.query}", style="dim", markup=False,
                      highlight=False, soft_wrap=True)
        if ev.link:
            console.print(f"  {ev.link}", style="blue", markup=False, highlight=False,
                          soft_wrap=True)


def print_sections(sections: list[tuple[str, list[str], list[list[Any]]]],
                   console: Console) -> None:
    """One Rich table per section; cells are plain text (`[checkout]` is not markup)."""
    for title, headers, rows in sections:
        table = Table(*headers, title=title, title_justify="left")
        for row in rows:
            table.add_row(*(Text("" if v is None else str(v)) for v in row))
        console.print(table)


def md_table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    if not rows:
        return []
    cell = lambda v: str("" if v is None else v).replace("|", "∣").replace("\n", " ")  # noqa: E731
    return (["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
            + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows] + [""])


def md_checks(checks: list[NextCheck], failures: list[str],
              evidence: list[SourceResult]) -> list[str]:
    lines = ["### Next checks", ""] + [f"{i}. `{c.command}`: {c.why}"
                                       for i, c in enumerate(checks, 1)] if checks else []
    if failures:
        lines += ["", "Unavailable:", ""] + [f"- {f}" for f in failures]
    if evidence:
        lines += ["", "Queries:", ""] + [
            f"- [`{e.query}`]({e.link})" if e.link else f"- `{e.query}` ({e.status.value})"
            for e in evidence]
    return lines
