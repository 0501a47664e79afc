"""Imports flow one way (bot -> reasoning -> detectors -> adapters); `sandbox` stays out."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["bot", "reasoning", "detectors", "adapters"]
# Only these modules may import the loopback stand-ins, for `oncall sandbox`/`oncall demo`.
SANDBOX_USERS = {"bot/demo.py", "bot/replay.py"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", LAYERS)
def test_no_upward_imports(layer):
    above = set(LAYERS[: LAYERS.index(layer)])
    offenders = {}
    for path in (ROOT / layer).rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        bad = imported_packages(path) & (above | ({"sandbox"} if rel not in SANDBOX_USERS else set()))
        if bad:
            offenders[rel] = sorted(bad)
    assert offenders == {}


def test_sandbox_is_not_imported_at_module_level_by_the_cli():
    cli = ROOT / "bot" / "cli.py"
    top_level = {n.module for n in ast.parse(cli.read_text()).body
                 if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(m.startswith(("sandbox", "bot.demo", "bot.replay")) for m in top_level)
