"""Helpers for the builder tests: a built scenario folder with lazy views of its files
(no tests here)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from sandbox.scenario import iter_samples, load_scenario

LABELS = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


class Built:
    """One built scenario and lazy views of its files."""

    def __init__(self, path: Path, seconds: float) -> None:
        self.path, self.seconds = path, seconds
        self.end = load_scenario(path).end.timestamp()
        self.truth = yaml.safe_load((path / "truth.yaml").read_text())
        self.alerts = json.loads((path / "alerts.json").read_text())["alerts"]
        self._series: dict[str, list[tuple[dict[str, str], list[tuple[float, float]]]]] = {}
        self._logs: list[dict[str, Any]] | None = None

    def kube(self, name: str) -> dict[str, Any]:
        return json.loads((self.path / "kube" / f"{name}.json").read_text())

    def items(self, name: str) -> list[dict[str, Any]]:
        return self.kube(name)["items"]

    def series(self, metric: str) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
        if not self._series:
            found: dict[str, tuple[dict[str, str], list[tuple[float, float]]]] = {}
            for key, value, ts in iter_samples(self.path / "metrics.om"):
                if key not in found:
                    found[key] = (dict(LABELS.findall(key)), [])
                found[key][1].append((ts, value))
            for key, entry in found.items():
                self._series.setdefault(key.split("{", 1)[0], []).append(entry)
        return self._series.get(metric, [])

    def logs(self) -> list[dict[str, Any]]:
        if self._logs is None:
            self._logs = [json.loads(x) for x in (self.path / "logs.jsonl").read_text()
                          .splitlines()]
        return self._logs

    def last(self, metric: str, **match: str) -> list[float]:
        return [s[-1][1] for lab, s in self.series(metric)
                if s and all(lab.get(k) == v for k, v in match.items())]
