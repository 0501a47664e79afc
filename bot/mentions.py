"""`@oncall why?`, `show logs`, `re-investigate` in an incident thread.

The thread identifies the incident, so the questions need no arguments; the
answers come from the stored report or a fresh investigation of the group.
"""

from __future__ import annotations

import re

from bot.chat_deps import ChatDeps
from bot.commands import Reply
from bot.incidents import Incident
from bot.workflow_calls import NotAvailable, call_workflow, find_workflow, render_result
from detectors.slo import load_slos

INTENTS = [
    ("reinvestigate", re.compile(r"\b(re-?investigate|re-?run|again|refresh|recheck)\b", re.I)),
    ("logs", re.compile(r"\b(logs?|errors?)\b", re.I)),
    ("why", re.compile(r"\b(why|cause|explain|what happened)\b", re.I)),
]
HELP = "In an incident thread ask me `why?`, `show logs` or `re-investigate`."
LOG_SOURCES = {"loki", "logs", "kubernetes"}


def intent(text: str) -> str | None:
    text = re.sub(r"<@[A-Z0-9]+>", " ", text)
    return next((name for name, pattern in INTENTS if pattern.search(text)), None)


async def answer(deps: ChatDeps, text: str, incident: Incident | None) -> Reply:
    if incident is None:
        return Reply(f"I can only answer inside an incident thread. {HELP} Or try `/oncall status`.")
    kind = intent(text)
    if kind == "why":
        return await _why(deps, incident)
    if kind == "logs":
        return await _logs(deps, incident)
    if kind == "reinvestigate":
        return await _reinvestigate(deps, incident)
    return Reply(HELP)


async def _why(deps: ChatDeps, incident: Incident) -> Reply:
    report = await deps.store.run(deps.incidents.latest_report, incident.group_key)
    if report is None or not report.hypotheses:
        return Reply("No hypothesis yet for this incident; try `re-investigate`.")
    lines = ["*Why, as far as the evidence goes*"]
    for i, h in enumerate(report.hypotheses[:3], 1):
        who = f" in {h.culprit.kind} {h.culprit.name}" if h.culprit else ""
        lines.append(f"{i}. *{h.cause}*{who} ({h.confidence:.0%}): {h.summary}")
        for ev in h.evidence[:3]:
            link = f" (<{ev.link}|open>)" if ev.link else ""
            lines.append(f"    • {ev.text}{link}")
    return Reply("\n".join(lines))


async def _logs(deps: ChatDeps, incident: Incident) -> Reply:
    report = await deps.store.run(deps.incidents.latest_report, incident.group_key)
    culprit = report.hypotheses[0].culprit if report and report.hypotheses else None
    if culprit is not None and culprit.kind in ("Pod", "Deployment"):
        try:
            fn = find_workflow("triage")
            result = await call_workflow(fn, {
                culprit.kind.lower(): culprit.name, "namespace": culprit.namespace, "lines": 300,
                "prometheus": deps.prometheus(), "settings": deps.settings})
            return Reply(render_result(result))
        except NotAvailable:
            pass  # fall back to what the report already holds
    lines = []
    for f in report.findings if report else []:
        logs = [ev for ev in f.evidence if ev.source in LOG_SOURCES]
        if logs or "log" in f.detector:
            lines.append(f"*{f.title}*")
            lines += [f"• {d}" for d in f.details[:8]]
            lines += [f"• <{ev.link}|{ev.source}: open>" for ev in logs if ev.link]
    if not lines:
        target = f"{culprit.kind.lower()}/{culprit.name}" if culprit else "<pod>"
        return Reply(f"No log evidence in this incident's report. Try `/oncall triage {target}`.")
    return Reply("*Log evidence*\n" + "\n".join(lines))


async def _reinvestigate(deps: ChatDeps, incident: Incident) -> Reply:
    page = await deps.store.run(deps.incidents.page, incident.group_key)
    if page is None:
        return Reply("This incident is no longer in the store.")
    s = deps.settings
    from reasoning.investigate import investigate  # the HTTP process loads it when first asked

    report = await investigate(page, deps.prometheus(), deadline=s.investigation_deadline,
                               slo_objective=s.slo_objective, slos=load_slos(s.policies_dir / "slo.yaml"))
    await deps.store.run(deps.store.save_report, incident.group_key, report.model_dump_json())
    return Reply(f"Re-investigated: {report.tldr[-1] if report.tldr else report.title}", report=report)
