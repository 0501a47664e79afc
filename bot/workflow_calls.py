"""Calling on-demand workflows (reasoning/workflows/) from chat, and rendering what they return.

Workflows are written by their own authors with their own signatures; chat
supplies arguments by parameter name (`prometheus`, `settings`, `namespace`...)
and says "not available yet" when a workflow or an argument it needs is missing,
instead of failing.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
from typing import Any, Callable

from pydantic import BaseModel

log = logging.getLogger(__name__)

WORKFLOWS: dict[str, tuple[str, str]] = {
    "health": ("reasoning.workflows.health", "health"),
    "triage": ("reasoning.workflows.triage", "triage"),
    "slo": ("reasoning.workflows.slo_service", "slo_status"),
    "canary": ("reasoning.workflows.canary", "canary_prom"),
    "cost": ("reasoning.workflows.cost", "cost"),
}
MAX_ITEMS = 15
HEADLINE = ("verdict", "summary")  # a workflow's one-line answer, said first
HIDDEN = ("command", "evidence")  # the CLI's bookkeeping and raw query dumps: noise in chat


class NotAvailable(Exception):
    """The workflow is not there (yet), or needs something chat cannot give it."""


def find_workflow(command: str) -> Callable[..., Any]:
    module_name, func_name = WORKFLOWS[command]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise NotAvailable(f"`{command}` is not available yet (no {module_name}).") from None
        raise
    fn = getattr(module, func_name, None)
    if not callable(fn):
        raise NotAvailable(f"`{command}` is not available yet ({module_name} has no {func_name}()).")
    return fn


def bind(fn: Callable[..., Any], provided: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments `fn` gets from `provided`; NotAvailable if a required one is missing."""
    kwargs: dict[str, Any] = {}
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in provided and provided[p.name] is not None:
            kwargs[p.name] = provided[p.name]
        elif p.default is p.empty:
            raise NotAvailable(f"`{fn.__name__}` needs `{p.name}`, which chat cannot supply yet.")
    return kwargs


async def call_workflow(fn: Callable[..., Any], provided: dict[str, Any]) -> Any:
    """Call `fn` with the provided values its parameters ask for, by name."""
    result = fn(**bind(fn, provided))
    return await result if inspect.isawaitable(result) else result


def render_result(result: Any) -> str:
    """Slack-style markup (`*bold*`, bullets) for whatever a workflow returned."""
    if isinstance(result, str):
        return result
    for name in ("to_markdown", "markdown", "render_markdown"):
        method = getattr(result, name, None)
        if callable(method):
            return str(method())
    if hasattr(result, "decision") and hasattr(result, "reasons"):
        decision = getattr(result.decision, "value", result.decision)
        return f"*{decision}*\n" + "\n".join(f"• {r}" for r in result.reasons)
    data = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in HIDDEN}
        first = {k: data.pop(k) for k in HEADLINE if k in data}
        return "\n".join(_field(k, v) for k, v in {**first, **data}.items() if v not in (None, [], {}, ""))
    if isinstance(data, list):
        return _items(data)
    return str(data)


def _field(key: str, value: Any) -> str:
    title = key.replace("_", " ")
    if isinstance(value, list):
        return f"*{title}*\n{_items(value)}"
    if isinstance(value, dict):
        return f"*{title}*\n" + "\n".join(f"• {k}: {_compact(v)}" for k, v in list(value.items())[:MAX_ITEMS])
    return f"*{title}*: {value}"


def _items(values: list[Any]) -> str:
    lines = [f"• {_compact(v)}" for v in values[:MAX_ITEMS]]
    if len(values) > MAX_ITEMS:
        lines.append(f"… and {len(values) - MAX_ITEMS} more")
    return "\n".join(lines)


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        text = ", ".join(f"{k}={_compact(v)}" for k, v in value.items() if v not in (None, [], {}, ""))
    elif isinstance(value, list):
        text = json.dumps(value, default=str)
    else:
        text = str(value)
    return text if len(text) <= 300 else text[:297] + "..."
