"""Pick the runbooks to quote for a report, from the page and the findings."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from detectors import Finding
from reasoning.hypotheses import Hypothesis
from reasoning.page import Page
from reasoning.report import RunbookExcerpt
from reasoning.runbooks import RunbookIndex

log = logging.getLogger(__name__)


async def lookup(index: RunbookIndex, page: Page, hypotheses: list[Hypothesis],
                 findings: list[Finding], k: int = 2) -> list[RunbookExcerpt]:
    """Runbooks for the page's alert and the leading cause; never fails the report."""
    top = hypotheses[0] if hypotheses else None
    query = " ".join(x for x in (page.summary, top.cause if top and top.cause != "none" else "",
                                 top.summary if top else "") if x)
    signatures = [f.facts.get("template", "") for f in findings if f.signal == "new-log-signature"]
    reasons = sorted({r for f in findings for r in f.facts.get("reasons", []) if isinstance(r, str)})
    try:
        by_alert = await asyncio.to_thread(
            index.search, query, alertname=page.alertname,
            runbook_url=page.common_annotations.get("runbook_url"),
            signatures=[s for s in signatures if s], reasons=reasons, k=k)
        by_cause = [] if top is None or top.cause == "none" else await asyncio.to_thread(
            index.search, f"{top.cause.replace('-', ' ')}: {top.summary}", k=k)
    except Exception:  # retrieval is a help, not a dependency of the report
        log.exception("runbook search failed")
        return []
    # the leading cause's own runbook first, then the alert's
    cause_hits = [h for h in by_cause if top is not None and top.cause in h.causes]
    hits, seen = [], set()
    for h in cause_hits + by_alert + by_cause:
        if h.source_path not in seen:
            seen.add(h.source_path)
            hits.append(h)
    return [RunbookExcerpt(source=Path(h.source_path).name, title=h.title, section=h.section,
                           excerpt=h.excerpt[:600], why=h.why) for h in hits[:k]]
