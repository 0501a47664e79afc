"""`oncall health`: render the health workflow (reasoning.workflows.health)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from bot.cli_workflows import (AT, FORMAT, NAMESPACE, SCENARIO, Format, emit, md_checks,
                               md_table, print_checks, print_evidence, print_sections, run,
                               when)

if TYPE_CHECKING:  # the workflow loads when the command runs, not with every `oncall` command
    from reasoning.workflows.health import HealthResult


def health(namespace: str | None = NAMESPACE, at: str | None = AT,
           scenario: Path | None = SCENARIO, fmt: Format = FORMAT) -> None:
    """Pods not ready, restarts, event surges, nodes, short workloads, Pending pods, alerts."""
    from reasoning.workflows.health import health as health_workflow

    moment = when(at, fmt)
    result = run(lambda src: health_workflow(namespace, sources=src, at=moment),
                 scenario=scenario, fmt=fmt, label="checking health", alertmanager=True)
    emit(result, fmt, render_text, render_markdown)


def _sections(r: HealthResult) -> list[tuple[str, list[str], list[list[object]]]]:
    """(title, headers, rows) of every non-empty section, in reading order."""
    return [s for s in [
        ("Firing alerts", ["alert", "severity", "namespace", "since", "summary"],
         [[a.alertname, a.severity, a.namespace, a.starts_at, a.summary] for a in r.alerts]),
        ("Nodes not ready or under pressure", ["node", "conditions", "pods"],
         [[n.node, ", ".join(n.conditions), n.pods] for n in r.nodes]),
        ("Restarts in the last hour", ["pod", "container", "workload", "restarts (1h)",
                                       "total", "last reason", "exit", "at"],
         [[x.pod, x.container, x.workload, "?" if x.restarts is None else x.restarts,
           x.restart_count, x.last_reason, x.exit_code,
           f"{x.finished_at:%H:%M:%S}" if x.finished_at else None] for x in r.restarts]),
        ("Pods not ready", ["pod", "workload", "phase", "why"],
         [[p.pod, p.workload, p.phase, "; ".join(p.reasons)] for p in r.pods_not_ready]),
        ("Pending pods", ["pod", "workload", "since", "reason", "message"],
         [[p.pod, p.workload, f"{p.since:%H:%M:%S}" if p.since else None, p.reason, p.message]
          for p in r.pending]),
        ("Workloads short of replicas", ["workload", "available", "unavailable"],
         [[f"{w.kind}/{w.name}", f"{w.available}/{w.desired}", w.unavailable]
          for w in r.workloads]),
        ("Warning-event surges (30 min)", ["workload", "signal", "count", "usual", "reasons"],
         [[s.workload, s.signal, s.count, s.usual, ", ".join(s.reasons)]
          for s in r.event_surges]),
    ] if s[2]]


def render_text(r: HealthResult, console: Console) -> None:
    style = "bold green" if r.healthy else "bold red"
    console.print(f"{'Healthy' if r.healthy else 'Unhealthy'}: {r.summary}", style=style,
                  markup=False, highlight=False)
    print_sections(_sections(r), console)
    print_checks(r.next_checks, r.failures, console)
    print_evidence([e for e in r.evidence if e.link], console)


def render_markdown(r: HealthResult) -> str:
    lines = [f"## {'Healthy' if r.healthy else 'Unhealthy'}: {r.summary}", ""]
    for title, headers, rows in _sections(r):
        lines += [f"### {title}", ""] + md_table(headers, rows)
    lines += md_checks(r.next_checks, r.failures, [e for e in r.evidence if e.link])
    return "\n".join(lines)
