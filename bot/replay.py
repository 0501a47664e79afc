"""Investigate recorded scenarios: `oncall agent-run --once --scenario` and `oncall eval`.

The scenario is replayed in the sandbox (real Prometheus, loopback Loki and
Kubernetes API), its page is investigated exactly as a live one would be, and
for `eval` the answer is compared with the scenario's truth.yaml, which the
investigation itself never reads.
"""

from __future__ import annotations

import json
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

import httpx
import yaml

from adapters.clusters import ClusterConfig, HttpEndpoint, KubeEndpoint
from adapters.kube import KubeClient
from adapters.kube_config import KubeTarget
from adapters.loki import LokiClient
from adapters.prometheus import PrometheusClient
from bot.settings import Settings
from bot.webhook import parse_webhook
from detectors.slo import load_slos
from reasoning import Report
from reasoning.investigate import investigate
from reasoning.runbooks import RunbookIndex, runbook_dirs
from sandbox.runner import Sandbox


def runbook_index(settings: Settings) -> RunbookIndex:
    return RunbookIndex(runbook_dirs(settings.runbooks_dirs or ""), settings.runbooks_index_dir)


async def investigate_scenario(scenario: Path, settings: Settings | None = None) -> Report:
    settings = settings or Settings(_env_file=None)
    async with Sandbox(scenario, alerting=False, slack=False) as sandbox:
        hook = parse_webhook((sandbox.shifted / "alerts.json").read_bytes())
        kube = KubeClient.connect(KubeTarget(url=sandbox.urls["kube"]))
        try:
            async with PrometheusClient(sandbox.urls["prometheus"]) as prometheus, \
                    LokiClient(sandbox.urls["loki"]) as loki:
                return await investigate(
                    hook.to_page(), prometheus, deadline=settings.investigation_deadline,
                    slo_objective=settings.slo_objective, kube=kube, loki=loki,
                    slos=load_slos(settings.policies_dir / "slo.yaml"), runbooks=runbook_index(settings))
        finally:
            kube.close()


@dataclass
class Outcome:
    name: str
    expected: str
    got: str
    confidence: float
    correct: bool
    in_top3: bool
    seconds: float

    def as_dict(self) -> dict:
        return {"name": self.name, "expected": self.expected, "got": self.got, "correct": self.correct,
                "confidence": self.confidence, "seconds": round(self.seconds, 2)}


def _label(cause: str, culprit: dict | None) -> str:
    if cause == "none" or not culprit:
        return cause
    return f"{cause} {culprit.get('kind')}/{culprit.get('name')}"


def judge(report: Report, truth: dict) -> tuple[bool, bool]:
    """(top-1 right, right within the top 3), by FORMAT.md's rules."""
    want_cause, want = truth.get("cause"), truth.get("culprit") or {}

    def right(h) -> bool:
        if want_cause == "none":
            return h.cause == "none" or h.confidence < 0.5
        c = h.culprit
        return (h.cause == want_cause and c is not None and c.name == want.get("name")
                and c.kind == want.get("kind") and (c.namespace or None) == (want.get("namespace") or None))

    hyps = report.hypotheses
    top1 = bool(hyps) and right(hyps[0])
    if want_cause == "none":
        return top1, top1
    return top1, any(right(h) for h in hyps[:3])


async def evaluate(scenario: Path, settings: Settings | None = None) -> Outcome:
    started = time.perf_counter()
    report = await investigate_scenario(scenario, settings)
    truth = yaml.safe_load((scenario / "truth.yaml").read_text())
    top1, top3 = judge(report, truth)
    best = report.hypotheses[0]
    return Outcome(
        name=scenario.name, expected=_label(truth["cause"], truth.get("culprit")),
        got=_label(best.cause, best.culprit.model_dump() if best.culprit else None),
        confidence=best.confidence, correct=top1, in_top3=top3, seconds=time.perf_counter() - started)


def summary(outcomes: list[Outcome]) -> dict:
    n = len(outcomes) or 1
    return {"scenarios": [o.as_dict() for o in outcomes],
            "top1": round(sum(o.correct for o in outcomes) / n, 3),
            "top3": round(sum(o.in_top3 for o in outcomes) / n, 3)}


def report_json(report: Report) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2)


DEAD_WEBHOOK = "http://127.0.0.1:9/unused"  # on-demand commands read Alertmanager, never page


@asynccontextmanager
async def scenario_cluster(scenario: Path, *, alertmanager: bool = False
                           ) -> AsyncIterator[ClusterConfig]:
    """Replay `scenario` in the sandbox for an on-demand command (`--scenario DIR`) and
    yield a cluster configuration pointing at it. With `alertmanager`, a real
    Alertmanager runs too, holding the scenario's page as firing alerts."""
    async with Sandbox(scenario, alerting=alertmanager, slack=False,
                       webhook_url=DEAD_WEBHOOK) as sandbox:
        if alertmanager:
            await load_page(sandbox.urls["alertmanager"], sandbox.shifted / "alerts.json")
        yield ClusterConfig(
            name=f"scenario {scenario.name}",
            prometheus=HttpEndpoint(url=sandbox.urls["prometheus"]),
            loki=HttpEndpoint(url=sandbox.urls["loki"]),
            kubernetes=KubeEndpoint(api_url=sandbox.urls["kube"]),
            alertmanager_url=sandbox.urls.get("alertmanager"))


async def load_page(alertmanager_url: str, alerts_json: Path) -> None:
    """Post a webhook body's firing alerts to Alertmanager (POST /api/v2/alerts), as
    Prometheus would once its rules had evaluated (which takes seconds to reach it)."""
    body = json.loads(alerts_json.read_text())
    alerts = [{"labels": a["labels"], "annotations": a.get("annotations") or {},
               "startsAt": a["startsAt"], "generatorURL": a.get("generatorURL") or ""}
              for a in body.get("alerts") or [] if a.get("status", "firing") == "firing"]
    if alerts:
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.post(f"{alertmanager_url}/api/v2/alerts", json=alerts)
            response.raise_for_status()
