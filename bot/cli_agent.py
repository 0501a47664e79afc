"""`oncall agent-run` and `oncall eval`: investigate pages outside the chat loop."""

from __future__ import annotations

import asyncio
import json
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bot.settings import Settings


class Format(str, Enum):
    text = "text"
    md = "md"
    json = "json"


def agent_run(
    once: bool = typer.Option(False, "--once", help="investigate once and exit (the only mode so far)"),
    scenario: Path = typer.Option(..., exists=True, file_okay=False,
                                  help="scenario folder to replay and investigate"),
    format: Format = typer.Option(Format.text, "--format", help="text, md or json"),
) -> None:
    """Investigate a scenario's page and print the report: hypotheses, next checks, status draft."""
    from bot.render.markdown import render_markdown
    from bot.render.terminal import print_report
    from bot.replay import investigate_scenario, report_json

    if not once:
        raise typer.BadParameter("only --once is supported: use `oncall serve` for the live loop")
    report = asyncio.run(investigate_scenario(scenario, Settings()))
    if format is Format.json:
        typer.echo(report_json(report))
    elif format is Format.md:
        typer.echo(render_markdown(report), nl=False)
    else:
        print_report(report, Console())


def eval_scenarios(
    scenarios: list[Path] = typer.Argument(..., exists=True, file_okay=False, help="scenario folders"),
    format: Format = typer.Option(Format.text, "--format", help="text or json"),
) -> None:
    """Diagnose each scenario and score the answer against its truth.yaml (top-1, top-3)."""
    from bot.replay import evaluate, summary

    async def run() -> list:
        return [await evaluate(s, Settings()) for s in scenarios]

    outcomes = asyncio.run(run())
    result = summary(outcomes)
    if format is Format.json:
        typer.echo(json.dumps(result, indent=2))
        return
    table = Table("scenario", "expected", "got", "confidence", "seconds", "ok")
    for o in outcomes:
        table.add_row(o.name, o.expected, o.got, f"{o.confidence:.2f}", f"{o.seconds:.1f}",
                      "yes" if o.correct else "NO")
    console = Console()
    console.print(table)
    console.print(f"top-1 accuracy {result['top1']:.0%}, top-3 accuracy {result['top3']:.0%} "
                  f"over {len(outcomes)} scenarios")
