"""Stand-in workflows with the parameter names chat supplies; they record their calls."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel

CALLS: list[tuple[str, dict]] = []


class Health(BaseModel):
    namespace: str | None
    pods_not_ready: list[str]
    next_checks: list[str]


async def health(prometheus, namespace: str | None = None) -> Health:
    CALLS.append(("health", {"namespace": namespace}))
    await asyncio.sleep(0.05)
    return Health(namespace=namespace, pods_not_ready=["checkout-1 (CrashLoopBackOff)"],
                  next_checks=["kubectl -n shop describe pod checkout-1"])


def triage(pod: str | None = None, deployment: str | None = None, namespace: str | None = None,
           lines: int = 300) -> str:
    CALLS.append(("triage", {"pod": pod, "deployment": deployment, "namespace": namespace, "lines": lines}))
    return f"*Triage* of {pod or deployment}: OOMKilled 3 times (last {lines} lines read)"


async def slo_status(service: str, slo=None) -> dict:
    CALLS.append(("slo", {"service": service}))
    return {"service": service, "budget_left": "41%", "burn_rate_1h": 14.2}


async def canary_prom(prometheus, canary_selector: str, baseline_selector: str, window: str, policy) -> str:
    CALLS.append(("canary", {"canary": canary_selector, "baseline": baseline_selector, "window": window}))
    return "*Hold*\n• p95 regression 38% > 20%"


def cost(namespace: str | None = None) -> dict:
    CALLS.append(("cost", {"namespace": namespace}))
    return {"namespace": namespace, "wasted_cores": 1.5, "monthly_estimate_usd": 92.0}
