"""Named scenario specs: one line per scenario the builder can write on demand
(``python -m sandbox.builder --catalogue NAME --out DIR``), covering every cause, three
topologies with their own names and namespaces, a few quiet shifts, and red herrings.

Kept as Python data (not YAML) so it ships with the package without package-data rules.
Generated folders are data, not source: write them under build/ (git-ignored) or /tmp.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone

from sandbox.builder_spec import ScenarioSpec
from sandbox.builder_topologies import topology_spec


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str
    topology: str
    seed: int
    end: str  # the recording's end, RFC 3339 (UTC)
    target: str | None = None  # default: the topology's role for the kind
    paged: str | None = None
    namespace: str | None = None
    page: str = ""  # e.g. "pv-filling" instead of the kind's default page
    red_herrings: tuple[str, ...] = ()


CATALOGUE: tuple[Entry, ...] = (
    Entry("webshop-checkout-release", "bad-deploy", "store", 101, "2026-02-03T15:20:00Z",
          namespace="webshop", red_herrings=("deploy-other",)),
    Entry("payments-ledger-release", "bad-deploy", "bank", 202, "2026-02-10T10:45:00Z",
          red_herrings=("old-restarts", "cronjob-errors")),
    Entry("streaming-catalog-memory", "oom-killed", "media", 303, "2026-01-24T20:30:00Z",
          red_herrings=("cronjob-errors",)),
    Entry("payments-transfers-memory", "oom-killed", "bank", 404, "2026-03-02T08:55:00Z",
          red_herrings=("deploy-other", "warning-event")),
    Entry("payments-accounts-config", "crashloop-config", "bank", 505, "2026-02-17T13:10:00Z",
          red_herrings=("warning-event",)),
    Entry("streaming-playback-config", "crashloop-config", "media", 606, "2026-01-30T18:05:00Z"),
    Entry("streaming-frontend-rollout", "image-pull", "media", 707, "2026-02-21T09:40:00Z",
          red_herrings=("noisy-logs",)),
    Entry("shop-web-rollout", "image-pull", "store", 808, "2026-03-11T16:00:00Z",
          namespace="shop-eu", red_herrings=("old-restarts",)),
    Entry("webshop-checkout-scaleout", "scheduling-capacity", "store", 909,
          "2026-02-27T11:25:00Z", namespace="webshop", red_herrings=("old-restarts",)),
    Entry("payments-node-lost", "node-failure", "bank", 1010, "2026-01-19T04:50:00Z",
          red_herrings=("deploy-other", "warning-event")),
    Entry("streaming-catalog-db", "dependency-down", "media", 1111, "2026-02-06T21:15:00Z",
          red_herrings=("cronjob-errors", "old-restarts")),
    Entry("streaming-playback-cache", "dependency-down", "media", 1212, "2026-03-06T19:35:00Z",
          target="cache", paged="playback"),
    Entry("payments-ledger-cpu", "cpu-throttling", "bank", 1313, "2026-02-12T14:40:00Z",
          red_herrings=("traffic-ramp",)),
    Entry("webshop-db-disk", "disk-full", "store", 1414, "2026-01-27T07:30:00Z",
          namespace="webshop", red_herrings=("noisy-logs",)),
    Entry("payments-ledger-db-volume", "disk-full", "bank", 1515, "2026-03-09T23:10:00Z",
          page="pv-filling", red_herrings=("cronjob-errors",)),
    Entry("streaming-frontend-surge", "traffic-surge", "media", 1616, "2026-02-14T20:05:00Z",
          red_herrings=("old-restarts",)),
    Entry("payments-ledger-tls", "cert-expiry", "bank", 1717, "2026-02-24T09:00:00Z",
          red_herrings=("warning-event", "deploy-other")),
    Entry("shop-quiet-evening", "none", "store", 1818, "2026-01-22T19:45:00Z",
          namespace="shop-eu", red_herrings=("old-restarts", "warning-event",
                                             "cronjob-errors")),
    Entry("streaming-quiet-night", "none", "media", 1919, "2026-02-01T03:20:00Z",
          red_herrings=("traffic-ramp", "noisy-logs")),
)


def names() -> list[str]:
    return [e.name for e in CATALOGUE]


def entry(name: str) -> Entry:
    for e in CATALOGUE:
        if e.name == name:
            return e
    raise KeyError(f"no catalogue entry {name!r}; known: {', '.join(names())}")


def spec_for(e: Entry) -> ScenarioSpec:
    end = datetime.fromisoformat(e.end.replace("Z", "+00:00")).astimezone(timezone.utc)
    spec = topology_spec(e.topology, e.kind, seed=e.seed, end=end, target=e.target,
                         paged=e.paged, namespace=e.namespace, name=e.name, page=e.page,
                         red_herrings=e.red_herrings)
    return replace(spec, name=e.name)


def catalogue_spec(name: str) -> ScenarioSpec:
    """The ScenarioSpec of catalogue entry ``name``."""
    return spec_for(entry(name))
