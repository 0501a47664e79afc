"""`oncall slo-prom`: render the slo_prom workflow (reasoning.workflows.slo_prom)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from bot.cli_workflows import (AT, FORMAT, SCENARIO, Format, emit, md_checks, md_table,
                               print_evidence, print_sections, run, when)

if TYPE_CHECKING:  # the workflow loads when the command runs, not with every `oncall` command
    from reasoning.workflows.slo_prom import SloPromResult

STYLE = {"page": "bold red", "warning": "bold yellow", "ok": "bold green", "unknown": "bold"}


def slo_prom(
    err: str = typer.Option(..., "--err", help="failed events: counter selector, or PromQL "
                            "with {{window}}"),
    tot: str = typer.Option(..., "--tot", help="all events: counter selector, or PromQL "
                            "with {{window}}"),
    window_minutes: int = typer.Option(5, "--window-minutes", help="window of the live ratio"),
    slo_target: float = typer.Option(0.995, "--slo-target",
                                     help="objective, 0.995 or 99.5 (percent)"),
    period: str = typer.Option("30d", "--period", help="SLO period the budget is for, e.g. 28d"),
    at: str | None = AT,
    scenario: Path | None = SCENARIO,
    fmt: Format = FORMAT,
) -> None:
    """Live error ratio, burn rate, budget spent in the window, multi-window burn verdict."""
    from reasoning.workflows.slo_prom import slo_prom as slo_prom_workflow

    moment = when(at, fmt)
    result = run(lambda src: slo_prom_workflow(err, tot, window_minutes, slo_target, period,
                                               prometheus=src.prometheus, at=moment),
                 scenario=scenario, fmt=fmt, label="reading Prometheus")
    emit(result, fmt, render_text, render_markdown)


def _pct(v: float | None, digits: int = 3) -> str:
    return "n/a" if v is None else f"{v:.{digits}%}"


def _x(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2f}x"


def _rows(r: SloPromResult) -> list[list[object]]:
    return [["error ratio", _pct(r.error_ratio)], ["burn rate", _x(r.burn_rate)],
            ["budget spent in window", _pct(r.budget_consumed, 4) + f" of the {r.period} budget"],
            ["errors / s", "n/a" if r.error_rate is None else f"{r.error_rate:.4g}"],
            ["events / s", "n/a" if r.total_rate is None else f"{r.total_rate:.4g}"],
            ["objective", f"{r.slo_target:.3%} (budget {r.budget:.3%})"],
            ["history", r.history or "n/a"]]


def _pairs(r: SloPromResult) -> list[list[object]]:
    return [[f"{p.long}/{p.short}", f"{p.threshold:g}x", p.severity, _x(p.long_burn),
             _x(p.short_burn), "n/a (no history)" if p.breached is None else
             ("BREACHED" if p.breached else "ok")] for p in r.pairs]


PAIR_HEADERS = ["pair", "threshold", "severity", "long burn", "short burn", "verdict"]


def render_text(r: SloPromResult, console: Console) -> None:
    console.print(f"{r.verdict}", style=STYLE[r.severity], markup=False, highlight=False)
    console.print(f"slo-prom over {r.window} at {r.at:%Y-%m-%d %H:%M:%S}Z", style="dim")
    sections = [(f"last {r.window}", ["", "value"], _rows(r))]
    if r.pairs:
        sections.append(("multi-window burn rates", PAIR_HEADERS, _pairs(r)))
    print_sections(sections, console)
    print_evidence(r.evidence[:2], console)


def render_markdown(r: SloPromResult) -> str:
    lines = [f"## {r.verdict}", "", f"slo-prom over {r.window} at {r.at:%Y-%m-%d %H:%M:%S}Z", ""]
    lines += md_table(["", "value"], _rows(r)) + md_table(PAIR_HEADERS, _pairs(r))
    return "\n".join(lines + md_checks([], [], r.evidence[:2]))
