"""`oncall slo ...`: SLO tooling."""

from __future__ import annotations

from pathlib import Path

import typer

from detectors.slo import Slo, load_slos
from detectors.slo_rules import render

slo_app = typer.Typer(help="Service level objectives: burn-rate rules.", no_args_is_help=True)


@slo_app.command("rules")
def rules(
    name: str = typer.Option(None, help="SLO name (with --errors/--total), or one from --policy"),
    objective: float = typer.Option(99.9, help="objective in percent (99.9) or as a ratio (0.999)"),
    period: str = typer.Option("30d", help="SLO period, e.g. 30d or 28d"),
    errors: str = typer.Option(None, help="failed-requests counter selector, or PromQL with {{window}}"),
    total: str = typer.Option(None, help="all-requests counter selector, or PromQL with {{window}}"),
    service: str = typer.Option(None, help="service label value to attach to the rules"),
    namespace: str = typer.Option(None, help="namespace label value to attach to the rules"),
    policy: Path = typer.Option(None, help="policies/slo.yaml: print rules for every SLO in it"),
) -> None:
    """Print a Prometheus rule file: a recording rule per window and the four burn-rate alerts."""
    if policy is not None:
        slos = load_slos(policy)
        if not slos:
            raise typer.BadParameter(f"no SLOs in {policy}", param_hint="--policy")
    elif name and errors and total:
        try:
            slos = [Slo(name=name, objective=objective, period=period, errors=errors, total=total,
                        service=service, namespace=namespace)]
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    else:
        raise typer.BadParameter("give --name, --errors and --total, or --policy FILE")
    typer.echo("\n---\n".join(render(s) for s in slos), nl=False)
