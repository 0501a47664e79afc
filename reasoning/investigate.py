"""One investigation: scope the page, run detectors in parallel, compose a report."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from adapters.event_sources import EventReader
from adapters.kube import KubeClient
from adapters.logs import LogReader
from adapters.loki import LokiClient
from adapters.prometheus import PrometheusClient
from detectors import Finding, InvestigationContext, Severity, Subject, run_detectors
from detectors.correlate import correlate
from detectors.slo import Slo
from detectors.workloads import workload_catalog
from reasoning.advice import next_checks, status_draft
from reasoning.hypotheses import Hypothesis, culprit_of, rank
from reasoning.page import Page
from reasoning.report import Report
from reasoning.runbook_lookup import lookup
from reasoning.scope import scope_from_labels

# Findings a report lists, and the LLM is shown (the rules weigh every finding).
MAX_FINDINGS = 15

if TYPE_CHECKING:
    from reasoning.llm.agent import Agent
    from reasoning.runbooks import RunbookIndex


async def investigate(
    page: Page,
    prometheus: PrometheusClient,
    *,
    at: datetime | None = None,
    deadline: float = 8.0,
    slo_objective: float = 0.999,
    slos: list[Slo] | None = None,
    kube: KubeClient | None = None,
    loki: LokiClient | None = None,
    loki_events_selector: str | None = None,
    llm: Agent | None = None,
    runbooks: RunbookIndex | None = None,
) -> Report:
    started = time.perf_counter()
    at = at or datetime.now(timezone.utc)
    labels = page.common_labels or (page.alerts[0].labels if page.alerts else {})
    namespace, service, workload = scope_from_labels(labels)
    ctx = InvestigationContext(
        namespace=namespace, service=service, workload=workload, labels=labels, at=at,
        prometheus=prometheus, slo_objective=slo_objective, slos=slos or [], kube=kube,
        logs=LogReader(loki, kube) if (loki or kube) else None,
        events=EventReader(kube, loki, **({"loki_selector": loki_events_selector}
                                          if loki_events_selector else {})) if (loki or kube) else None,
        query_timeout=max(1.0, deadline * 0.8),
    )
    findings, failures = await run_detectors(ctx, deadline=deadline)
    catalog = await workload_catalog(ctx)
    failures.update(ctx.source_failures)
    paged = culprit_of(workload or Subject(namespace=namespace, kind="Service", name=service or ""), catalog)
    hypotheses = rank(findings, paged if (workload or service) else None, catalog)
    # The report shows the strongest, most recent findings, each linked to what it followed;
    # the rules above weigh all of them.
    shown = correlate(findings, at=at, workload_of=lambda s: culprit_of(s, catalog),
                      top=MAX_FINDINGS)
    where = " / ".join(x for x in (namespace, service) if x) or "cluster"
    report = Report(
        title=f"{page.alertname} ({page.severity}) in {where}",
        group_key=page.group_key,
        status=page.status,
        severity=page.severity,
        tldr=[_what(page, where), _why(hypotheses, findings)],
        hypotheses=hypotheses,
        next_checks=next_checks(hypotheses, page, namespace, service),
        status_draft=status_draft(page, hypotheses, service, at),
        findings=shown,
        failures=failures,
        generated_at=at,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    if runbooks is not None:
        report.runbooks = await lookup(runbooks, page, report.hypotheses, findings)
    if llm is not None:  # only with an API key; on any LLM failure the rules' answer stands
        report = await llm.refine(report, prometheus, at=at)
        if report.llm and report.llm.refined:
            report.next_checks = next_checks(report.hypotheses, page, namespace, service)
    return report


def _what(page: Page, where: str) -> str:
    count = len(page.firing)
    summary = page.summary or f"{page.alertname} is {page.status}"
    return f"{page.status.upper()} ({count} alert{'s' if count != 1 else ''}) in {where}: {summary}"


def _why(hypotheses: list[Hypothesis], findings: list[Finding]) -> str:
    top = hypotheses[0] if hypotheses else None
    if top and top.cause != "none":
        who = f" in {top.culprit.kind} {top.culprit.name}" if top.culprit else ""
        return f"Likely cause: {top.cause}{who} ({top.confidence:.0%}): {top.summary}"
    symptoms = [f for f in findings if f.severity != Severity.INFO]
    if symptoms:
        return f"Cause unclear (evidence thin); strongest signal: {symptoms[0].title}"
    return "No abnormal signal found in the checked metrics; this page may be noise."
