"""`oncall cost`: render the cost workflow (reasoning.workflows.cost)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from bot.cli_workflows import (AT, FORMAT, NAMESPACE, SCENARIO, Format, emit, fail, md_checks,
                               md_table, print_sections, run, when)
from reasoning.workflows.cost_policy import DEFAULT_PATH, load_cost_policy

if TYPE_CHECKING:  # the workflow loads when the command runs, not with every `oncall` command
    from reasoning.workflows.cost import CostResult, Totals


def cost(
    namespace: str | None = NAMESPACE,
    window: str | None = typer.Option(None, "--window",
                                      help="look-back for usage and waste (default: policy, 1h)"),
    policy: Path = typer.Option(DEFAULT_PATH, "--policy", dir_okay=False,
                                help="cost policy YAML: unit prices and thresholds"),
    at: str | None = AT,
    scenario: Path | None = SCENARIO,
    fmt: Format = FORMAT,
) -> None:
    """Crash/backoff waste, missing limits, limit:request ratios, idle requests, monthly cost."""
    from reasoning.workflows.cost import cost as cost_workflow

    moment = when(at, fmt)
    try:
        rules = load_cost_policy(policy)
    except ValueError as exc:
        fail(str(exc), fmt, 2)
    result = run(lambda src: cost_workflow(namespace, window, policy=rules, sources=src,
                                           at=moment),
                 scenario=scenario, fmt=fmt, label="reading requests and usage")
    emit(result, fmt, render_text, render_markdown)


def _money(r: CostResult, value: float) -> str:
    return f"{value:,.2f} {r.currency}"


def _total(r: CostResult, what: str, t: Totals) -> list[object]:
    return [what, f"{t.cpu_cores:.3g}", f"{t.memory_gib:.3g}", _money(r, t.monthly_cost)]


def _sections(r: CostResult) -> list[tuple[str, list[str], list[list[object]]]]:
    totals = [_total(r, "requested (all pods)", r.requested),
              _total(r, "crash/backoff waste", r.waste_total),
              _total(r, "requests above usage", r.overprovisioned_total)]
    return [s for s in [
        ("Totals (monthly if it lasted)", ["", "cores", "GiB", "per month"], totals),
        (f"Crash/backoff waste over {r.window}", ["pod", "workload", "state", "cores", "GiB",
                                                  "hours", "cost", "detail"],
         [[w.pod, w.workload, w.state, w.cpu_cores, f"{w.memory_gib:.3g}", w.hours,
           _money(r, w.cost), w.detail] for w in r.waste]),
        ("Containers without requests or limits", ["workload", "container", "pods", "missing"],
         [[m.workload, m.container, len(m.pods), ", ".join(m.missing)] for m in r.missing]),
        ("Limit:request ratios above policy", ["workload", "container", "resource", "request",
                                               "limit", "ratio"],
         [[x.workload, x.container, x.resource, f"{x.request:.3g}", f"{x.limit:.3g}", x.ratio]
          for x in r.ratios]),
        ("Requests far above usage", ["pod", "container", "resource", "request",
                                      f"usage p{r.usage_quantile * 100:g}", "excess"],
         [[o.pod, o.container, o.resource, f"{o.request:.3g}", f"{o.usage:.3g}",
           f"{o.excess:.3g}"] for o in r.overprovisioned]),
        ("Scheduling failures", ["pod", "workload", "count", "pending now", "message"],
         [[s.pod, s.workload, s.count, "yes" if s.pending_now else "no", s.message]
          for s in r.scheduling_failures]),
    ] if s[2]]


def render_text(r: CostResult, console: Console) -> None:
    console.print(r.summary, style="bold", markup=False, highlight=False)
    console.print(f"prices: {r.prices['cpu_core_hour']:g} {r.currency}/core-hour, "
                  f"{r.prices['memory_gib_hour']:g} {r.currency}/GiB-hour, "
                  f"{r.prices['hours_per_month']:g} h/month", style="dim")
    print_sections(_sections(r), console)
    for f in r.failures:
        console.print(f"unavailable: {f}", style="yellow", markup=False, highlight=False)


def render_markdown(r: CostResult) -> str:
    lines = [f"## {r.summary}", ""]
    for title, headers, rows in _sections(r):
        lines += [f"### {title}", ""] + md_table(headers, rows)
    return "\n".join(lines + md_checks([], r.failures, [e for e in r.evidence if e.link]))
