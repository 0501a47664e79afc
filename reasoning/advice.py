"""What to do next and what to tell people: next checks and the stakeholder draft."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import yaml

from reasoning.hypotheses import Hypothesis
from reasoning.page import Page

CHECKS = Path(__file__).resolve().parents[1] / "policies" / "next_checks.yaml"

# Plain words for stakeholders: what is probably happening, without jargon.
PLAIN = {
    "oom-killed": "parts of the service keep restarting because they run out of memory",
    "crashloop-config": "a component fails to start, most likely because of its configuration",
    "image-pull": "new copies of a component cannot start because its software image cannot be fetched",
    "scheduling-capacity": "the cluster lacks capacity to run every copy of a component",
    "node-failure": "one of the servers running the service has a problem",
    "dependency-down": "a system the service depends on is failing",
    "cpu-throttling": "a component is held back by its processing limits",
    "disk-full": "a storage volume is running out of space",
    "traffic-surge": "the service receives far more traffic than usual",
    "cert-expiry": "a security certificate has expired or is about to",
    "bad-deploy": "a recent release is the most likely trigger",
    "none": "no underlying fault has been identified yet",
}


def next_checks(hypotheses: list[Hypothesis], page: Page, namespace: str | None,
                service: str | None, limit: int = 6) -> list[str]:
    """Concrete read-only commands and queries, for the best hypotheses first."""
    templates = yaml.safe_load(CHECKS.read_text()) or {}
    out: list[str] = []
    for h in hypotheses[:2]:
        c = h.culprit
        values = {"ns": (c.namespace if c and c.namespace else namespace) or "default",
                  "name": c.name if c else (service or ""), "kind": (c.kind if c else "deployment").lower(),
                  "service": service or (c.name if c else "")}
        for template in templates.get(h.cause, []):
            check = template.format(**values)
            if check not in out:
                out.append(check)
    return out[:limit]


def status_draft(page: Page, hypotheses: list[Hypothesis], service: str | None, now: datetime,
                 update_minutes: int = 30) -> str:
    """A stakeholder update in plain words: impact, what is being done, next update time."""
    what = service or page.common_labels.get("service") or "a production service"
    top = hypotheses[0] if hypotheses else None
    if page.status == "resolved":
        return (f"Resolved: {what} is working normally again. We are reviewing what happened "
                "and will share a summary.")
    impact = (f"We are investigating a problem with {what}: some requests may fail or be slow."
              if page.severity in ("page", "critical") else
              f"We are looking into a warning about {what}; users may not be affected.")
    cause = PLAIN.get(top.cause if top else "none", PLAIN["none"])
    certainty = "Early findings suggest" if top and top.confidence >= 0.5 else "So far"
    next_update = (now + timedelta(minutes=update_minutes)).strftime("%H:%M UTC")
    return f"{impact} {certainty} {cause}. The on-call team is working on it. Next update by {next_update}."
