"""Reasoning: from a page and its findings to a report a human can act on.

Names load on first use (PEP 562): `oncall serve`'s intake process reads
`reasoning.page` and `reasoning.report` only, and must not pay for the
investigation machinery (detectors, the Kubernetes client, numpy) it never runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reasoning.page import Page, PageAlert
    from reasoning.report import Report

# `investigate` is deliberately not re-exported: the function shares its
# submodule's name, and once `reasoning.investigate` is imported anywhere the
# package attribute becomes the module. Import it from `reasoning.investigate`.
_WHERE = {"Page": "reasoning.page", "PageAlert": "reasoning.page",
          "Report": "reasoning.report"}
__all__ = ["Page", "PageAlert", "Report"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'reasoning' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
