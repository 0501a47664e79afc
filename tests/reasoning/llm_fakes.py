"""Read-only source fakes and a rule-based report for the LLM tests.

The agent only needs the adapters' method signatures and SourceResult
envelopes; fakes keep the tests fast and record every call so a test can show
that nothing but reads happened.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from adapters.envelope import SourceResult, Status
from adapters.loki import LogLine
from adapters.prometheus import Sample
from detectors import Finding, Severity, Subject
from reasoning.hypotheses import Evidence, Hypothesis
from reasoning.report import Report

AT = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
POD = "checkout-7d9f8b6c5-x2x9k"
NS = "shop"
QUERY = 'increase(kube_pod_container_status_restarts_total{namespace="shop"}[1h])'


class FakeKube:
    def __init__(self, log_lines: list[str]) -> None:
        self.log_lines = log_lines
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    async def pod_logs(self, namespace: str, pod: str, **kw: Any) -> SourceResult:
        self.calls.append(("pod_logs", (namespace, pod)))
        lines = [LogLine(int(AT.timestamp() * 1e9) - i, {"namespace": namespace, "pod": pod}, ln)
                 for i, ln in enumerate(self.log_lines)]
        return SourceResult(source="kubernetes", status=Status.OK, data=lines,
                            query=f"GET /api/v1/namespaces/{namespace}/pods/{pod}/log?tailLines=100")

    async def get(self, resource: str, name: str, namespace: str | None = None, **kw: Any) -> SourceResult:
        self.calls.append(("get", (resource, name, namespace)))
        pod = {"kind": "Pod", "metadata": {"name": name, "namespace": namespace},
               "spec": {"nodeName": "node-a1", "containers": [{"name": "app", "image": "shop/checkout:2.4.1"}]},
               "status": {"phase": "Running", "containerStatuses": [{
                   "name": "app", "restartCount": 7, "ready": True, "state": {"running": {}},
                   "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}}
        return SourceResult(source="kubernetes", status=Status.OK, data=pod,
                            query=f"GET /api/v1/namespaces/{namespace}/{resource}/{name}")

    async def list(self, resource: str, namespace: str | None = None, **kw: Any) -> SourceResult:
        self.calls.append(("list", (resource, namespace)))
        return SourceResult(source="kubernetes", status=Status.EMPTY, data=[],
                            query=f"GET /api/v1/namespaces/{namespace}/{resource}")


class FakeProm:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def instant(self, expr: str, at: datetime | None = None, **kw: Any) -> SourceResult:
        self.calls.append(expr)
        return SourceResult(source="prometheus", status=Status.OK, query=expr, at=at,
                            data=[Sample({"namespace": NS, "pod": POD}, 7.0)],
                            link="http://prometheus.example/graph?g0.expr=x")


def rule_report(detail: str = "container app: OOMKilled, exit code 137") -> Report:
    """What the rules said about an OOM in shop/checkout, with a weaker second guess."""
    deploy = Subject(namespace=NS, kind="Deployment", name="checkout")
    finding = Finding(detector="restarts", signal="oom-killed", subject=deploy, severity=Severity.PAGE,
                      score=0.8, window="1h", title="checkout restarted 7 times (OOMKilled)",
                      details=[detail])
    oom = Evidence(text="checkout restarted 7 times (OOMKilled)", source="restarts", query=QUERY)
    deploy_ev = Evidence(text="checkout rolled out 2.4.1 at 09:31", source="rollouts")
    return Report(
        title="KubePodCrashLooping (page) in shop / checkout", group_key="g1", status="firing",
        severity="page", tldr=["FIRING (1 alert) in shop / checkout", "Likely cause: oom-killed"],
        hypotheses=[Hypothesis(cause="oom-killed", culprit=deploy, confidence=0.7,
                               summary="checkout runs out of memory", evidence=[oom]),
                    Hypothesis(cause="bad-deploy", culprit=deploy, confidence=0.4,
                               summary="a rollout preceded the restarts", evidence=[deploy_ev])],
        next_checks=["kubectl -n shop describe deployment checkout"],
        status_draft="We are investigating a problem with checkout. Next update by 10:30 UTC.",
        findings=[finding], generated_at=AT)


def honest_answer(cite: str = "T1", confidence: float = 0.9) -> dict[str, Any]:
    return {
        "tldr": ["Checkout is crash-looping in shop.",
                 "Most likely cause: the checkout containers exceed their memory limit."],
        "summary": "The rules' OOM hypothesis holds: the previous container was OOMKilled.",
        "status_draft": "Some checkout requests fail because part of the service keeps restarting. "
                        "The team is raising its memory. Next update by 10:30 UTC.",
        "hypotheses": [
            {"cause": "oom-killed", "culprit": {"namespace": NS, "kind": "Deployment", "name": "checkout"},
             "confidence": confidence, "summary": "checkout exceeds its memory limit",
             "evidence": [{"id": "E1", "fact": "7 restarts in an hour"},
                          {"id": cite, "fact": "the last container was killed for memory"}]},
            {"cause": "bad-deploy", "culprit": {"namespace": NS, "kind": "Deployment", "name": "checkout"},
             "confidence": 0.2, "summary": "the rollout only raised memory use",
             "evidence": [{"id": "E2", "fact": "2.4.1 rolled out at 09:31"}]},
        ]}
