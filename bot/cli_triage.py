"""`oncall triage`: render the triage workflow (reasoning.workflows.triage)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from bot.cli_workflows import (AT, FORMAT, SCENARIO, Format, emit, fail, md_checks, md_table,
                               print_checks, print_sections, run, when)
from bot.settings import Settings

if TYPE_CHECKING:  # the workflow loads when the command runs, not with every `oncall` command
    from reasoning.runbooks import RunbookIndex
    from reasoning.workflows.triage import TriageResult


def triage(
    pod: str | None = typer.Option(None, "--pod", help="pod to triage (or --deployment)"),
    deployment: str | None = typer.Option(None, "--deployment",
                                          help="deployment to triage through its pods"),
    namespace: str | None = typer.Option(None, "--namespace", "-n",
                                         help="namespace (default: wherever the name is unique)"),
    lines: int = typer.Option(300, "--lines", help="log lines to read per container instance"),
    at: str | None = AT,
    scenario: Path | None = SCENARIO,
    fmt: Format = FORMAT,
) -> None:
    """Container states, last terminations, events, top log errors, runbooks, next checks."""
    if bool(pod) == bool(deployment):
        fail("give exactly one of --pod NAME or --deployment NAME", fmt, 2)
    from reasoning.workflows.triage import triage as triage_workflow

    moment = when(at, fmt)
    settings = Settings()
    index = runbook_index(settings.runbooks_dirs or "", settings.runbooks_index_dir)
    result = run(lambda src: triage_workflow(pod, deployment, namespace, lines, sources=src,
                                             runbooks=index, at=moment),
                 scenario=scenario, fmt=fmt, label="triaging")
    emit(result, fmt, render_text, render_markdown)


@lru_cache(maxsize=4)
def runbook_index(dirs: str, index_dir: Path) -> RunbookIndex:
    """One index per process and configuration: loading the model takes seconds."""
    from reasoning.runbooks import RunbookIndex, runbook_dirs

    return RunbookIndex(runbook_dirs(dirs), index_dir)


def _containers(r: TriageResult) -> list[list[object]]:
    rows = []
    for p in r.pods:
        for c in p.containers:
            t = c.last_termination or {}
            rows.append([p.name, c.name, c.state + (f" ({c.reason})" if c.reason else ""),
                         "yes" if c.ready else "no", c.restarts,
                         f"{t.get('reason')} exit {t.get('exitCode')} at {t.get('finishedAt')}"
                         if t else ""])
    return rows


def _sections(r: TriageResult) -> list[tuple[str, list[str], list[list[object]]]]:
    from reasoning.workflows.triage_logs import readable

    return [s for s in [
        ("Containers", ["pod", "container", "state", "ready", "restarts", "last termination"],
         _containers(r)),
        ("Top error signatures", ["count", "current", "previous", "first seen", "signature"],
         [[s.count, s.current, s.previous, f"{s.first_seen:%Y-%m-%d %H:%M:%S}",
           readable(s.template)]
          for s in r.signatures]),
        ("Events (last hour)", ["last", "type", "reason", "object", "count", "message"],
         [[f"{e.last:%H:%M:%S}" if e.last else "", e.type, e.reason, e.object, e.count,
           e.message[:160]] for e in r.events]),
        ("Logs read", ["pod", "container", "instance", "source", "lines", "errors"],
         [[x.pod, x.container, x.instance, x.source, x.lines, x.error_lines] for x in r.logs]),
        ("Runbooks", ["runbook", "section", "why"],
         [[f"{b.title} ({b.source})", b.section, b.why] for b in r.runbooks]),
    ] if s[2]]


def render_text(r: TriageResult, console: Console) -> None:
    console.print(r.summary, style="bold", markup=False, highlight=False)
    print_sections(_sections(r), console)
    print_checks(r.next_checks, r.failures, console)


def render_markdown(r: TriageResult) -> str:
    lines = [f"## {r.summary}", ""]
    for title, headers, rows in _sections(r):
        lines += [f"### {title}", ""] + md_table(headers, rows)
    return "\n".join(lines + md_checks(r.next_checks, r.failures, []))
