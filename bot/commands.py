"""`/oncall` (Slack) and `@oncall` (Teams) subcommands: one router for every surface.

Each subcommand is one entry: usage line, argument parser, and what it runs
(a workflow function from reasoning/workflows/, or a store query). Bad input
gets the usage line; a missing workflow gets "not available yet"; a failing
one gets one line naming the error. Never a stack trace.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from bot.chat_deps import ChatDeps
from bot.render.common import minutes_between
from bot.workflow_calls import NotAvailable, call_workflow, find_workflow, render_result
from reasoning.report import Report

log = logging.getLogger(__name__)
WORKFLOW_TIMEOUT = 60.0


@dataclass
class Reply:
    """What a command answers, before any surface renders it."""

    text: str
    ephemeral: bool = False
    report: Report | None = None


class UsageError(ValueError):
    pass


Parser = Callable[[list[str]], dict[str, Any]]
Runner = Callable[[ChatDeps, dict[str, Any]], Awaitable[Reply]]


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    parse: Parser
    run: Runner
    workflow: bool = True  # slow: acknowledged with "working", result posted after
    aliases: tuple[str, ...] = field(default=())


def tokens(text: str) -> list[str]:
    """Words of a command; quotes keep selectors like app="web" whole (Slack's smart quotes too)."""
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2018", "'").replace("\u2019", "'")
    try:
        return shlex.split(text, posix=False)
    except ValueError:
        raise UsageError("unbalanced quotes") from None


def arguments(words: list[str], positional: list[tuple[str, bool]],
              options: dict[str, tuple[str, type]] | None = None) -> dict[str, Any]:
    """A small getopt: `positional` is [(name, required)], `options` maps --flag to (name, type)."""
    options, out, rest = options or {}, {}, []
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("-") and not word.lstrip("-").isdigit():
            flag, _, inline = word.partition("=")
            if flag not in options:
                raise UsageError(f"unknown option {flag}")
            name, kind = options[flag]
            value = inline or (words[i + 1] if i + 1 < len(words) else None)
            if value is None:
                raise UsageError(f"{flag} needs a value")
            i += 1 if inline else 2
            try:
                out[name] = kind(value)
            except ValueError:
                raise UsageError(f"{flag} must be a {kind.__name__}, got {value!r}") from None
            continue
        rest.append(word)
        i += 1
    if len(rest) > len(positional):
        raise UsageError(f"unexpected argument {rest[len(positional)]!r}")
    for (name, required), value in zip(positional, rest + [None] * len(positional)):
        if value is None and required:
            raise UsageError(f"missing <{name}>")
        out.setdefault(name, _unquote(value) if value else None)
    return out


def _unquote(value: str) -> str:
    """"a b" -> a b, while app="web" keeps its quotes."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _health(words: list[str]) -> dict[str, Any]:
    return arguments(words, [("namespace", False)], {"--namespace": ("namespace", str), "-n": ("namespace", str)})


def _triage(words: list[str]) -> dict[str, Any]:
    args = arguments(words, [("target", True)], {"--lines": ("lines", int), "--namespace": ("namespace", str),
                                                 "-n": ("namespace", str)})
    kind, _, name = args.pop("target").rpartition("/")
    kind = {"": "pod", "po": "pod", "pods": "pod", "deploy": "deployment", "deployments": "deployment"}.get(
        kind.lower(), kind.lower())
    if kind not in ("pod", "deployment") or not name:
        raise UsageError("give a pod name, pod/NAME or deployment/NAME")
    lines = 300 if args.get("lines") is None else args["lines"]
    if not 1 <= lines <= 5000:
        raise UsageError("--lines must be between 1 and 5000")
    return {kind: name, "lines": lines, "namespace": args.get("namespace")}


def _slo(words: list[str]) -> dict[str, Any]:
    return arguments(words, [("service", True)], {"--namespace": ("namespace", str), "-n": ("namespace", str)})


def _canary(words: list[str]) -> dict[str, Any]:
    args = arguments(words, [("canary_selector", True), ("baseline_selector", True)],
                     {"--window": ("window", str)})
    args["window"] = args.get("window") or "30m"
    return args


def _none(words: list[str]) -> dict[str, Any]:
    return arguments(words, [])


def _help_args(words: list[str]) -> dict[str, Any]:
    return arguments(words, [("topic", False)])


def _workflow_runner(command: str) -> Runner:
    async def run(deps: ChatDeps, args: dict[str, Any]) -> Reply:
        try:
            fn = find_workflow(command)
        except NotAvailable as exc:
            return Reply(str(exc), ephemeral=True)
        try:
            result = await asyncio.wait_for(call_workflow(fn, provided(command, deps, args)),
                                            WORKFLOW_TIMEOUT)
        except NotAvailable as exc:
            return Reply(str(exc), ephemeral=True)
        except asyncio.TimeoutError:
            return Reply(f"`{command}` took longer than {WORKFLOW_TIMEOUT:.0f} s and was stopped.", ephemeral=True)
        except ValueError as exc:  # the workflows' way of saying "bad input"
            return Reply(f"Bad input: {exc}\nUsage: `{ROUTER[command].usage}`", ephemeral=True)
        except Exception as exc:
            log.exception("chat command %s failed", command)
            return Reply(f"`{command}` failed: {type(exc).__name__}: {exc}"[:500], ephemeral=True)
        if isinstance(result, Report):
            return Reply(result.title, report=result)
        return Reply(render_result(result) or "(no output)")
    return run


def provided(command: str, deps: ChatDeps, args: dict[str, Any]) -> dict[str, Any]:
    """Everything a workflow may ask for by parameter name: the parsed arguments first."""
    out = {**args, **_extras(command, deps), "settings": deps.settings}
    out["prometheus"] = out["prom"] = deps.prometheus()
    return out


def _extras(command: str, deps: ChatDeps) -> dict[str, Any]:
    """Policies and configuration a workflow may ask for by parameter name."""
    policies = deps.settings.policies_dir
    out: dict[str, Any] = {}
    if command == "slo":
        from detectors.slo import load_slos

        out["slos"] = load_slos(policies / "slo.yaml")
        out["slo_objective"] = deps.settings.slo_objective
    if command == "canary":
        from detectors.canary import load_canary_policy

        out["policy"] = load_canary_policy(policies / "canary_policy.yaml")
    try:
        out["cluster"] = deps.settings.default_cluster()
    except Exception:  # optional; a workflow that needs it says so
        pass
    return out


async def _status(deps: ChatDeps, args: dict[str, Any]) -> Reply:
    incidents = await deps.store.run(deps.incidents.open)
    if not incidents:
        return Reply("No open incidents.", ephemeral=True)
    lines = [f"*{len(incidents)} open incident{'s' if len(incidents) != 1 else ''}*"]
    for i in incidents:
        where = f" · thread in <#{i.channel}>" if i.channel and i.channel.startswith("C") else ""
        lines.append(f"• :red_circle: *{i.title}* ({i.severity}): {i.firing} of {i.total} firing, "
                     f"{minutes_between(i.first_seen, None)} min{where}")
    return Reply("\n".join(lines), ephemeral=True)


async def _help(deps: ChatDeps, args: dict[str, Any]) -> Reply:
    return Reply(help_text(args.get("topic")), ephemeral=True)


ROUTER: dict[str, Subcommand] = {s.name: s for s in [
    Subcommand("health", "health [namespace]", "pods, nodes, events and alerts at a glance", _health,
               _workflow_runner("health")),
    Subcommand("triage", "triage <pod|deployment/NAME> [--lines N] [--namespace NS]",
               "why a pod or deployment is unhappy: states, events, top log errors", _triage,
               _workflow_runner("triage")),
    Subcommand("slo", "slo <service> [--namespace NS]", "error budget and burn rates of a service", _slo,
               _workflow_runner("slo")),
    Subcommand("canary", 'canary <canary-selector> <baseline-selector> [--window 30m]',
               "Continue or Hold a canary from Prometheus", _canary, _workflow_runner("canary")),
    Subcommand("cost", "cost [namespace]", "wasted requests, missing limits, monthly estimate", _health,
               _workflow_runner("cost")),
    Subcommand("status", "status", "open incidents", _none, _status, workflow=False),
    Subcommand("help", "help [subcommand]", "this help", _help_args, _help, workflow=False),
]}


def help_text(topic: str | None = None, prefix: str = "/oncall") -> str:
    if topic and topic in ROUTER:
        s = ROUTER[topic]
        return f"`{prefix} {s.usage}`\n{s.summary}"
    lines = ["*oncall-copilot commands*"] + [f"• `{prefix} {s.usage}`: {s.summary}" for s in ROUTER.values()]
    lines.append("In an incident thread, mention me: `why?`, `show logs`, `re-investigate`.")
    return "\n".join(lines)


def parse(text: str) -> tuple[Subcommand, dict[str, Any]]:
    """The subcommand and its arguments; UsageError with the usage line on bad input."""
    words = tokens(text)
    if not words:
        return ROUTER["help"], {"topic": None}
    name = words[0].lower()
    sub = ROUTER.get(name)
    if sub is None:
        raise UsageError(f"unknown subcommand {name!r}.\n{help_text()}")
    try:
        return sub, sub.parse(words[1:])
    except UsageError as exc:
        raise UsageError(f"{exc}. Usage: `/oncall {sub.usage}`") from None


def available(sub: Subcommand) -> str | None:
    """None when the subcommand can run; else why not (said at once, not after "working")."""
    if not sub.workflow:
        return None
    try:
        find_workflow(sub.name)
    except NotAvailable as exc:
        return str(exc)
    except Exception as exc:  # a workflow module that fails to import
        return f"`{sub.name}` is not available: {type(exc).__name__}: {exc}"[:300]
    return None
