"""Saturation: what will run out soon, from `predict_linear` trends and expiry dates.

Covers container memory against its limit (an OOM kill is the symptom), PVCs
and node filesystems against their capacity, and TLS certificates against their
expiry. A resource is reported when its linear trend reaches the capacity within
its horizon, or when it is already nearly full; metrics that are absent simply
yield nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from adapters.envelope import SourceResult
from detectors.context import InvestigationContext, Subject
from detectors.finding import Finding, Severity
from detectors.promql import selector, window
from detectors.registry import register
from detectors.workloads import pod_owners, workload_of

HOUR = 3600
DAY = 24 * HOUR
FULL = 0.9  # share of capacity that counts as saturated already
CERT_WARN, CERT_PAGE = 14 * DAY, 2 * DAY
_FS = 'fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|fuse.*"'


@dataclass(frozen=True)
class Resource:
    """PromQL for one kind of fillable resource, all aggregated by `keys`."""

    kind: str
    keys: tuple[str, ...]
    used: str
    capacity: str
    fill_rate: str  # units per second, positive while filling
    projected: str  # predicted use at the horizon
    peak: str
    horizon: int
    lookback: int


def _by(keys: tuple[str, ...], fn: str, expr: str) -> str:
    return f"{fn} by ({', '.join(keys)}) ({expr})"


def memory(ns: str | None, horizon: int = 4 * HOUR, lookback: int = 30 * 60) -> Resource:
    keys = ("namespace", "pod", "container")
    ws = selector("container_memory_working_set_bytes", 'container!=""', 'container!="POD"',
                  namespace=ns)
    w = window(lookback)
    return Resource(
        "memory", keys, _by(keys, "max", ws),
        _by(keys, "max", selector("kube_pod_container_resource_limits", namespace=ns,
                                  resource="memory")) + " > 0",
        _by(keys, "max", f"deriv({ws}[{w}])"),
        _by(keys, "max", f"predict_linear({ws}[{w}], {horizon})"),
        _by(keys, "max", f"max_over_time({ws}[1h])"), horizon, lookback)


def _disk(kind: str, keys: tuple[str, ...], avail: str, size: str, horizon: int,
          lookback: int) -> Resource:
    w = window(lookback)
    return Resource(
        kind, keys, f"{_by(keys, 'max', size)} - {_by(keys, 'min', avail)}",
        _by(keys, "max", size) + " > 0",
        _by(keys, "max", f"-deriv({avail}[{w}])"),
        f"{_by(keys, 'max', size)} - {_by(keys, 'min', f'predict_linear({avail}[{w}], {horizon})')}",
        f"{_by(keys, 'max', size)} - {_by(keys, 'min', f'min_over_time({avail}[1h])')}",
        horizon, lookback)


def volumes(ns: str | None, horizon: int = DAY, lookback: int = 6 * HOUR) -> Resource:
    return _disk("volume", ("namespace", "persistentvolumeclaim"),
                 selector("kubelet_volume_stats_available_bytes", namespace=ns),
                 selector("kubelet_volume_stats_capacity_bytes", namespace=ns), horizon, lookback)


def filesystems(horizon: int = DAY, lookback: int = 6 * HOUR) -> Resource:
    return _disk("filesystem", ("instance", "mountpoint"),
                 selector("node_filesystem_avail_bytes", _FS),
                 selector("node_filesystem_size_bytes", _FS), horizon, lookback)


def certificate_queries(ns: str | None) -> dict[str, str]:
    """Seconds left per certificate, from the exporters that may be installed."""
    soon = f"< {CERT_WARN}"
    return {
        "Endpoint": f"min by (instance) (probe_ssl_earliest_cert_expiry) - time() {soon}",
        "Secret": f"min by (secret_namespace, secret_name) "
                  f"({selector('x509_cert_not_after', secret_namespace=ns)}) - time() {soon}",
        "Certificate": f"min by (namespace, name) ("
                       f"{selector('certmanager_certificate_expiration_timestamp_seconds', namespace=ns)}"
                       f") - time() {soon}",
    }


@dataclass
class Reading:
    key: tuple[str, ...]
    used: float
    capacity: float
    fill_rate: float | None
    projected: float | None
    peak: float | None

    @property
    def ratio(self) -> float:
        return max(self.used, self.peak or 0.0) / self.capacity

    @property
    def eta(self) -> float | None:
        """Seconds until full at the current rate, when filling."""
        if not self.fill_rate or self.fill_rate <= 0:
            return None
        return max(0.0, (self.capacity - self.used) / self.fill_rate)

    def saturating(self, horizon: int) -> bool:
        heading = (self.projected is not None and self.projected >= self.capacity
                   and self.eta is not None and self.eta <= horizon)
        return heading or self.ratio >= FULL


@register
class SaturationDetector:
    """Memory, volumes, node filesystems and certificates about to run out."""

    name: ClassVar[str] = "saturation"

    async def detect(self, ctx: InvestigationContext) -> list[Finding]:
        resources = [memory(ctx.namespace), volumes(ctx.namespace), filesystems()]
        exprs: list[str] = []
        for r in resources:
            exprs += [r.used, r.capacity, r.fill_rate, r.projected, r.peak]
        certs = certificate_queries(ctx.namespace)
        owners, *answers = await asyncio.gather(
            pod_owners(ctx), *(ctx.instant(e) for e in [*exprs, *certs.values()]))
        findings: list[Finding] = []
        for i, r in enumerate(resources):
            findings += self._resource(r, answers[5 * i: 5 * i + 5], owners)
        for (kind, _), result in zip(certs.items(), answers[len(exprs):]):
            findings += [self._certificate(kind, s.labels, s.value, result) for s in result.data or []
                         if s.value == s.value]
        return findings

    def _resource(self, r: Resource, results: list[SourceResult],
                  owners: dict[tuple[str, str], Subject]) -> list[Finding]:
        used, cap, rate, proj, peak = (_index(res, r.keys) for res in results)
        readings = [Reading(k, used[k], cap[k], rate.get(k), proj.get(k), peak.get(k))
                    for k in used if cap.get(k)]
        hot = [x for x in readings if x.saturating(r.horizon)]
        if not hot:
            return []
        groups: dict[str, tuple[Subject, list[Reading]]] = {}
        for x in hot:
            subject = self._subject(r, x.key, owners)
            groups.setdefault(str(subject), (subject, []))[1].append(x)
        return [self._finding(r, subject, xs, results) for subject, xs in groups.values()]

    @staticmethod
    def _subject(r: Resource, key: tuple[str, ...], owners: dict[tuple[str, str], Subject]) -> Subject:
        if r.kind == "memory":
            return workload_of(owners, key[0], key[1])
        if r.kind == "volume":
            return Subject(namespace=key[0] or None, kind="PersistentVolumeClaim", name=key[1])
        return Subject(kind="Node", name=key[0])

    def _finding(self, r: Resource, subject: Subject, xs: list[Reading],
                 results: list[SourceResult]) -> Finding:
        etas = [x.eta for x in xs if x.eta is not None and x.projected is not None
                and x.projected >= x.capacity]
        soonest = min(etas) if etas else None
        worst = max(xs, key=lambda x: x.ratio)
        what = {"memory": "memory working set", "volume": "volume",
                "filesystem": f"filesystem {worst.key[1]}"}[r.kind]
        limit = "memory limit" if r.kind == "memory" else "capacity"
        title = f"{subject}: {what} up to {worst.ratio:.0%} of its {_bytes(worst.capacity)} {limit}"
        if soonest is not None:
            title += f", full in ~{_duration(soonest)} at the {window(r.lookback)} trend"
        if r.kind == "memory":
            title += f" ({len(xs)} container(s) near or heading to it)"
        urgent = (soonest is not None and soonest <= HOUR) or worst.ratio >= 0.95
        urgency = max(worst.ratio, 1.0 - (soonest or r.horizon) / r.horizon)
        if r.kind == "memory":
            signal = "memory-near-limit"
        else:
            signal = "disk-full" if worst.ratio >= 0.95 else "disk-filling"
        return Finding(
            detector=self.name, signal=signal, subject=subject,
            severity=Severity.PAGE if urgent else Severity.WARNING,
            score=round(min(1.0, max(0.3, urgency)), 3), window=window(r.lookback), title=title,
            details=[_line(r, x) for x in sorted(xs, key=lambda x: -x.ratio)],
            facts={"resource": r.kind, "horizon_seconds": r.horizon,
                   "seconds_to_full": soonest, "max_ratio": round(worst.ratio, 4),
                   "items": [{"key": list(x.key), "used": x.used, "capacity": x.capacity,
                              "peak": x.peak, "fill_rate": x.fill_rate, "projected": x.projected,
                              "seconds_to_full": x.eta} for x in xs]},
            evidence=[results[0], results[1], results[3]] + ([results[4]] if r.kind == "memory" else []),
        )

    def _certificate(self, kind: str, labels: dict[str, str], left: float,
                     result: SourceResult) -> Finding:
        if kind == "Endpoint":
            subject = Subject(kind="Endpoint", name=labels.get("instance", "?"))
        elif kind == "Secret":
            subject = Subject(namespace=labels.get("secret_namespace") or None, kind="Secret",
                              name=labels.get("secret_name", "?"))
        else:
            subject = Subject(namespace=labels.get("namespace") or None, kind="Certificate",
                              name=labels.get("name", "?"))
        when = f"expired {_duration(-left)} ago" if left < 0 else f"expires in {_duration(left)}"
        return Finding(
            detector=self.name, signal="cert-expiring", subject=subject,
            severity=Severity.PAGE if left <= CERT_PAGE else Severity.WARNING,
            score=round(min(1.0, max(0.3, 1.0 - left / CERT_WARN)), 3), window="now",
            title=f"{subject}: TLS certificate {when}",
            facts={"resource": "certificate", "seconds_left": left}, evidence=[result],
        )


def _index(result: SourceResult, keys: tuple[str, ...]) -> dict[tuple[str, ...], float]:
    out = {}
    for s in result.data or [] if result.ok else []:
        if s.value == s.value:  # NaN: no data
            out[tuple(s.labels.get(k, "") for k in keys)] = s.value
    return out


def _line(r: Resource, x: Reading) -> str:
    name = "/".join(k for k in x.key[1:] if k) if r.kind != "filesystem" else " ".join(x.key)
    text = f"{name}: {_bytes(x.used)} of {_bytes(x.capacity)} ({x.used / x.capacity:.0%})"
    if x.peak is not None and x.peak > x.used:
        text += f", peak {x.peak / x.capacity:.0%} in the last hour"
    if x.fill_rate is not None:
        text += f", trend {'+' if x.fill_rate >= 0 else '-'}{_bytes(abs(x.fill_rate) * 60)}/min"
    if x.eta is not None and x.projected is not None and x.projected >= x.capacity:
        text += f", full in ~{_duration(x.eta)}"
    return text


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _duration(seconds: float) -> str:
    for unit, size in (("d", DAY), ("h", HOUR), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}" if unit != "h" else f"{seconds / size:.1f} h"
    return f"{seconds:.0f} s"
