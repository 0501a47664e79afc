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
    once: bool = typer.Option(False, "--once", help="one round: print the report(s) and exit"),
    interval: str = typer.Option(None, "--interval",
                                 help="sweep every INTERVAL (e.g. 5m) and post to chat only on news"),
    scenario: Path = typer.Option(None, exists=True, file_okay=False,
                                  help="replay this scenario folder instead of ONCALL_*"),
    namespace: list[str] = typer.Option(None, "--namespace", "-n",
                                        help="namespace to sweep (repeat for several)"),
    threshold: str = typer.Option("page", "--threshold",
                                  help="least finding severity worth a post: warning or page"),
    format: Format = typer.Option(Format.text, "--format", help="text, md or json"),
) -> None:
    """Investigate a scenario's page, or sweep namespaces once or on a timer (--interval)."""
    from bot.cli_sweep import sweep
    from bot.render.markdown import render_markdown
    from bot.render.terminal import print_report
    from detectors import Severity
    from detectors.slo import parse_duration

    if once == bool(interval):
        raise typer.BadParameter("give exactly one of --once and --interval")
    if threshold not in ("warning", "page"):
        raise typer.BadParameter("--threshold must be warning or page")
    if not namespace and scenario is None:
        raise typer.BadParameter("give --namespace (one or more) or --scenario")
    every = None
    if interval:
        try:
            every = float(parse_duration(interval))
        except ValueError as exc:
            raise typer.BadParameter(f"--interval: {exc}") from None
        if every < 10:
            raise typer.BadParameter("--interval must be at least 10s")
        if not namespace:
            raise typer.BadParameter("--interval sweeps namespaces: give --namespace")
    console = Console()
    if namespace:
        try:
            outcomes = asyncio.run(sweep(namespace, scenario=scenario, threshold=Severity(threshold),
                                         interval=every, console=console))
        except KeyboardInterrupt:
            return
        reports = [o.report for o in outcomes]
    else:
        from bot.replay import investigate_scenario

        reports = [asyncio.run(investigate_scenario(scenario, Settings()))]
    for report in reports:
        if format is Format.json:
            typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
        elif format is Format.md:
            typer.echo(render_markdown(report), nl=False)
        else:
            print_report(report, console)


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
