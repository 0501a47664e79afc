"""How triage orders pods, names what it saw, and picks the next commands.

Pure functions over the result, kept apart from the fetching so the wording
and ranking can change without touching the calls.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from reasoning.workflows.checks import NextCheck, for_cause, ranked
from detectors.kube_objects import container_statuses
from reasoning.workflows.kube_view import is_ready
from reasoning.workflows.triage_logs import readable

if TYPE_CHECKING:
    from reasoning.workflows.triage import TriageResult

CAUSES = (("OOMKilled", "oom-killed"), ("ImagePullBackOff", "image-pull"),
          ("ErrImagePull", "image-pull"), ("CreateContainerConfigError", "crashloop-config"),
          ("CrashLoopBackOff", "crashloop-config"), ("Error", "crashloop-config"),
          ("FailedScheduling", "scheduling-capacity"), ("Unschedulable", "scheduling-capacity"))


def badness(pod: dict[str, Any]) -> tuple[bool, int]:
    """Sort key: unready pods first, then the most restarted."""
    restarts = sum(int(cs.get("restartCount") or 0) for cs in container_statuses(pod))
    return not is_ready(pod), restarts


def _occurrences(r: "TriageResult") -> list[str]:
    """Every termination, waiting and Warning-event reason, once per container or event."""
    found: list[str] = []
    for pod in r.pods:
        for c in pod.containers:
            if c.last_termination and c.last_termination.get("reason"):
                found.append(c.last_termination["reason"])
            if c.state != "running" and c.reason:
                found.append(c.reason)
    return found + [e.reason for e in r.events if e.type == "Warning" and e.reason]


def reasons(r: "TriageResult") -> list[str]:
    """Termination and waiting reasons, then Warning event reasons: what runbooks match on."""
    return list(dict.fromkeys(_occurrences(r)))


def _workload(r: "TriageResult") -> tuple[str, str]:
    """(kind, name) to act on: the deployment, or the pod's top owner, or the pod."""
    kind, name = r.target.split("/", 1)
    if kind == "Pod" and r.pods and r.pods[0].owners:
        kind, name = r.pods[0].owners[-1].split("/", 1)
    return kind, name


def next_checks(r: "TriageResult") -> list[NextCheck]:
    kind, name = _workload(r)
    checks: list[NextCheck] = []
    seen = reasons(r)
    counts = Counter(_occurrences(r))
    for reason, cause in CAUSES:
        if reason in seen:
            checks += for_cause(cause, f"{reason} x{counts[reason]} in {kind} {name}",
                                0.9 if reason == "OOMKilled" else 0.8,
                                namespace=r.namespace, name=name, kind=kind)
    for pod in r.pods:
        for c in pod.containers:
            if c.last_termination:
                t = c.last_termination
                checks.append(NextCheck(
                    command=f"kubectl -n {r.namespace} logs {pod.name} -c {c.name} --previous "
                            f"--tail={r.lines}",
                    why=f"{pod.name}/{c.name} last terminated {t.get('reason')} "
                        f"(exit {t.get('exitCode')}): its last words", score=0.85))
    if r.signatures:
        s = r.signatures[0]
        checks.append(NextCheck(command=f"kubectl -n {r.namespace} logs {r.pods[0].name} "
                                        f"--tail={r.lines} --timestamps" if r.pods else "",
                                why=f"top error x{s.count}: {readable(s.template)[:80]}",
                                score=0.6))
    for pod in r.pods[:1]:
        checks.append(NextCheck(command=f"kubectl -n {r.namespace} describe pod {pod.name}",
                                why="states, probes and events in one place", score=0.5))
    return ranked([c for c in checks if c.command])


def summary(r: "TriageResult") -> str:
    containers = [c for p in r.pods for c in p.containers]
    ready = sum(all(c.ready for c in p.containers) for p in r.pods)
    restarts = sum(c.restarts for c in containers)
    text = (f"{r.target} in {r.namespace}: {len(r.pods)} pod(s), {ready} ready, "
            f"{restarts} restart(s)")
    deaths = Counter(c.last_termination.get("reason") or "unknown"
                     for c in containers if c.last_termination)
    if deaths:
        text += "; last terminated " + ", ".join(f"{k} x{v}" for k, v in deaths.most_common())
    stuck = Counter(c.reason for c in containers if c.state == "waiting" and c.reason)
    if stuck:
        text += "; waiting " + ", ".join(f"{k} x{v}" for k, v in stuck.most_common())
    if r.signatures:
        s = r.signatures[0]
        text += f"; top error x{s.count}: {readable(s.template)[:100]}"
    elif r.logs:
        text += f"; no error lines in the last {r.lines} lines"
    return text
