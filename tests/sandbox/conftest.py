"""Fixtures for the stand-in contract tests: scenario data, wire-sample captures, shape checks."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SCENARIO = SHARED / "scenarios" / "shop-checkout-oom"
WIRE = SHARED / "wire-samples"


@pytest.fixture
def scenario_dir() -> Path:
    if not (SCENARIO / "kube").is_dir() or not (SCENARIO / "logs.jsonl").is_file():
        pytest.skip(f"{SCENARIO} not present (a clone without ../shared)")
    return SCENARIO


@pytest.fixture
def capture() -> Any:
    """Load a wire-sample file: JSON captures as dicts, .txt captures as the body text."""

    def load(rel: str) -> Any:
        path = WIRE / rel
        if not path.is_file():
            pytest.skip(f"{path} not present")
        if path.suffix == ".txt":
            return path.read_text().split("\nHTTP ")[0]
        return json.loads(path.read_text())

    return load


def rfc3339_ns(value: str) -> int:
    """Independent ns parser for ground truth (keeps all 9 fraction digits)."""
    head, _, frac = value.rstrip("Z").partition(".")
    secs = int(datetime.fromisoformat(head + "+00:00").timestamp())
    return secs * 10**9 + int((frac + "000000000")[:9])


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for row in rows:
        row["ns"] = rfc3339_ns(row["ts"])
    return sorted(rows, key=lambda r: r["ns"])


def _shape(node: Any, label_maps: tuple[str, ...] = ("stream", "metric")) -> Any:
    """Structural fingerprint: dict keys, first list element, leaf types (int/float alike)."""
    if isinstance(node, dict):
        return {k: "labels" if k in label_maps else _shape(v, label_maps)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_shape(node[0], label_maps)] if node else []
    if isinstance(node, bool):
        return "bool"
    if isinstance(node, (int, float)):
        return "number"
    return type(node).__name__


@pytest.fixture
def shape() -> Any:
    return _shape


@pytest.fixture(scope="session")
def log_rows() -> list[dict[str, Any]]:
    """The scenario's log lines (ground truth), with an integer `ns` timestamp, oldest first."""
    path = SCENARIO / "logs.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return _read_jsonl(path)
