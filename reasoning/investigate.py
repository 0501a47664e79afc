"""One investigation: scope the page, run detectors in parallel, compose a report."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from adapters.prometheus import PrometheusClient
from detectors import Finding, InvestigationContext, Severity, run_detectors
from reasoning.page import Page
from reasoning.report import Report
from reasoning.scope import scope_from_labels

SYMPTOM_DETECTORS = {"slo-burn"}  # they say *that* users hurt, not *why*


async def investigate(
    page: Page,
    prometheus: PrometheusClient,
    *,
    at: datetime | None = None,
    deadline: float = 8.0,
    slo_objective: float = 0.999,
) -> Report:
    started = time.perf_counter()
    at = at or datetime.now(timezone.utc)
    labels = page.common_labels or (page.alerts[0].labels if page.alerts else {})
    namespace, service, workload = scope_from_labels(labels)
    ctx = InvestigationContext(
        namespace=namespace, service=service, workload=workload, labels=labels, at=at,
        prometheus=prometheus, slo_objective=slo_objective,
        query_timeout=max(1.0, deadline * 0.8),
    )
    findings, failures = await run_detectors(ctx, deadline=deadline)
    failures.update(ctx.source_failures)
    where = " / ".join(x for x in (namespace, service) if x) or "cluster"
    return Report(
        title=f"{page.alertname} ({page.severity}) in {where}",
        group_key=page.group_key,
        status=page.status,
        severity=page.severity,
        tldr=[_what(page, where), _why(findings)],
        findings=findings,
        failures=failures,
        generated_at=at,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
    )


def _what(page: Page, where: str) -> str:
    count = len(page.firing)
    summary = page.summary or f"{page.alertname} is {page.status}"
    return f"{page.status.upper()} ({count} alert{'s' if count != 1 else ''}) in {where}: {summary}"


def _why(findings: list[Finding]) -> str:
    causes = [f for f in findings if f.detector not in SYMPTOM_DETECTORS and f.severity != Severity.INFO]
    if causes:
        return f"Most telling signal: {causes[0].title}"
    if findings:
        return f"Only the symptom is visible so far: {findings[0].title}"
    return "No abnormal signal found yet in metrics; check the deep links below."
