"""`oncall canary-gate` and `oncall canary-prom`: render the canary workflows' decisions.

Exit codes are the contract with CI/CD pipelines: 0 Continue, 1 Hold, 2 bad
input (the reason printed on one line). The decision itself is made in
`reasoning.workflows.canary`; this module only parses options and prints.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.table import Table

from adapters.prometheus import PrometheusClient
from bot.settings import Settings
from detectors.canary import Arm, CanaryPolicy, load_canary_policy
from reasoning.workflows.canary import (CanaryInputError, CanaryResult, Decision, canary_gate as
                                        gate_workflow, canary_prom as prom_workflow)

DEFAULT_POLICY = Path(__file__).resolve().parents[1] / "policies" / "canary_policy.yaml"


class Format(StrEnum):
    TEXT = "text"
    MD = "md"
    JSON = "json"


FORMAT = typer.Option(Format.TEXT, "--format", help="output: text (Rich), md or json")
POLICY = typer.Option(DEFAULT_POLICY, "--policy", exists=True, dir_okay=False,
                      help="canary policy YAML (thresholds, sample-size floor)")


def canary_gate(
    co: int | None = typer.Option(None, "--co", help="canary: successful requests in the window"),
    ct: int | None = typer.Option(None, "--ct", help="canary: all requests in the window"),
    bo: int | None = typer.Option(None, "--bo", help="baseline: successful requests in the window"),
    bt: int | None = typer.Option(None, "--bt", help="baseline: all requests in the window"),
    cp95: float | None = typer.Option(None, "--cp95", help="canary p95 latency, ms"),
    bp95: float | None = typer.Option(None, "--bp95", help="baseline p95 latency, ms"),
    cp99: float | None = typer.Option(None, "--cp99", help="canary p99 latency, ms (with --bp99)"),
    bp99: float | None = typer.Option(None, "--bp99",
                                      help="baseline p99 latency, ms (with --cp99)"),
    policy: Path = POLICY,
    fmt: Format = FORMAT,
) -> None:
    """Continue or Hold a canary from its counts and latencies (exit 0, 1; 2 on bad input)."""
    try:
        result = gate_workflow(Arm(co, ct, cp95, cp99), Arm(bo, bt, bp95, bp99),
                               load_canary_policy(policy))
    except (CanaryInputError, ValueError) as exc:
        _bad_input(exc, fmt)
    _emit(result, fmt)


def canary_prom(
    canary: str = typer.Option(..., "--canary", help='canary label matchers, e.g. track="canary"'),
    baseline: str = typer.Option(..., "--baseline",
                                 help='baseline label matchers, e.g. track="stable"'),
    window: str = typer.Option("30m", "--window", help="analysis window ending at --at, e.g. 30m"),
    at: str | None = typer.Option(None, "--at",
                                  help="evaluation time, ISO 8601 or unix seconds (default now)"),
    prometheus_url: str | None = typer.Option(None, "--prometheus-url",
                                       help="Prometheus HTTP API (default ONCALL_PROMETHEUS_URL)"),
    policy: Path = POLICY,
    fmt: Format = FORMAT,
) -> None:
    """Continue or Hold a canary from Prometheus: totals, percentiles, Mann-Whitney per interval."""
    try:
        when = parse_time(at) if at else None
        rules = load_canary_policy(policy)
    except ValueError as exc:
        _bad_input(exc, fmt)
    result = asyncio.run(_run_prom(prometheus_url, canary, baseline, window, rules, when, fmt))
    _emit(result, fmt)


async def _run_prom(url: str | None, canary: str, baseline: str, window: str,
                    policy: CanaryPolicy, at: datetime | None, fmt: Format) -> CanaryResult:
    endpoint = Settings().default_cluster().prometheus
    assert endpoint is not None
    link_url = None if url else endpoint.link_url
    async with PrometheusClient(url or endpoint.url, link_url=link_url,
                                auth=endpoint.auth()) as client:
        try:
            return await prom_workflow(client, canary, baseline, window, policy, at)
        except CanaryInputError as exc:
            _bad_input(exc, fmt)


def parse_time(text: str) -> datetime:
    """`2026-11-20T10:00:00Z` (UTC when no zone) or unix seconds."""
    try:
        return datetime.fromtimestamp(float(text), tz=timezone.utc)
    except ValueError:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _bad_input(exc: Exception, fmt: Format) -> NoReturn:
    reasons = exc.reasons if isinstance(exc, CanaryInputError) else [str(exc)]
    if fmt is Format.JSON:
        typer.echo(json.dumps({"decision": None, "error": "bad input", "reasons": reasons}))
    else:
        typer.echo(f"error: bad input: {'; '.join(reasons)}", err=True)
    raise typer.Exit(2)


def _emit(result: CanaryResult, fmt: Format) -> NoReturn:
    if fmt is Format.JSON:
        typer.echo(result.model_dump_json(indent=2))
    elif fmt is Format.MD:
        typer.echo(render_markdown(result))
    else:
        render_text(result, Console())
    raise typer.Exit(result.exit_code)


def _arms_rows(result: CanaryResult) -> list[tuple[str, str, str]]:
    def rate(arm: Arm) -> str:
        return f"{arm.success_rate:.3%}" if arm.success_rate is not None else "-"

    def ms(value: float | None) -> str:
        return f"{value:.1f} ms" if value is not None else "-"

    c, b = result.canary, result.baseline
    return [("requests", str(c.total), str(b.total)),
            ("success rate", rate(c), rate(b)),
            ("p95", ms(c.p95_ms), ms(b.p95_ms)),
            ("p99", ms(c.p99_ms), ms(b.p99_ms))]


def _title(result: CanaryResult) -> str:
    scope = (f" {result.canary_selector} vs {result.baseline_selector}, {result.window} to "
             f"{result.at:%Y-%m-%d %H:%M:%S}Z" if result.command == "canary-prom" and result.at
             else "")
    return f"{result.decision.value}: {result.command}{scope}"


def render_text(result: CanaryResult, console: Console) -> None:
    """Decision line, reasons, the arms side by side, every check, then the queries."""
    style = "bold green" if result.decision is Decision.CONTINUE else "bold red"
    console.print(_title(result), style=style, highlight=False)
    if result.decision is Decision.HOLD:  # on Continue the checks table says it all
        for reason in result.reasons:
            console.print(f"  • {reason}", highlight=False, markup=False)
    arms = Table("", "canary", "baseline", title="arms")
    for row in _arms_rows(result):
        arms.add_row(*row)
    console.print(arms)
    checks = Table("check", "result", "detail", title="checks")
    for check in result.checks:
        checks.add_row(check.name, "pass" if check.passed else "[red]fail[/red]", check.reason)
    console.print(checks)
    for ev in result.evidence:
        console.print(f"PromQL ({ev.status.value}): {ev.query}", style="dim", markup=False,
                      highlight=False, soft_wrap=True)
        if ev.link:  # soft_wrap: a link broken over lines cannot be clicked or copied
            console.print(f"  {ev.link}", style="blue", markup=False, highlight=False,
                          soft_wrap=True)


def render_markdown(result: CanaryResult) -> str:
    lines = [f"## {_title(result)}", ""]
    if result.decision is Decision.HOLD:
        lines += [f"- {r}" for r in result.reasons] + [""]
    lines += ["| | canary | baseline |", "|---|---|---|"]
    lines += [f"| {a} | {c} | {b} |" for a, c, b in _arms_rows(result)]
    lines += ["", "| check | result | detail |", "|---|---|---|"]
    lines += [f"| {c.name} | {'pass' if c.passed else '**fail**'} | {c.reason.replace('|', '∣')} |"
              for c in result.checks]
    if result.evidence:
        lines += ["", "Queries:", ""]
        lines += [f"- [`{ev.query}`]({ev.link})" if ev.link else f"- `{ev.query}`"
                  for ev in result.evidence]
    return "\n".join(lines)
