"""Scenario builder: write a complete, self-consistent scenario folder (FORMAT.md)
from a declarative ``ScenarioSpec``.

    python -m sandbox.builder --kind oom-killed [--topology store] --out DIR [--seed N]
    python -m sandbox.builder --catalogue NAME --out DIR   # writes DIR/NAME
    python -m sandbox.builder --catalogue-all --out DIR    # every entry, DIR/<entry>
    python -m sandbox.builder --list

One seeded ``World`` model (pods, container lifecycles, traffic) drives every
file, so metrics, logs, kube objects and the page agree with each other and the
output is byte-identical for a given spec. The page in alerts.json is computed
by evaluating the rule over the generated samples, never written by hand.

Every cause of the taxonomy is a kind (builder_registry), on one of three
topologies (builder_topologies: store, bank, media), optionally with red herrings
(builder_herrings); sandbox.catalogue names ready-made combinations.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import yaml

from sandbox.builder_alerts import (
    Series, burn_rule, error_ratio, fired_at, latency_rule, quantile, rules_yaml, webhook_body,
)
from sandbox.builder_events import event_list
from sandbox.builder_incidents import Incident
from sandbox.builder_kube import pod_list
from sandbox.builder_kube_more import more_lists
from sandbox.builder_kube_workloads import workload_lists
from sandbox.builder_logs import LogWriter, write_logs
from sandbox.builder_metrics import AppMetrics, Family, write_openmetrics
from sandbox.builder_metrics_ksm import ksm_families
from sandbox.builder_metrics_more import more_families
from sandbox.builder_page import evaluate, kube_page, kube_rules_yaml, kube_webhook
from sandbox.builder_registry import INCIDENTS, make_incident
from sandbox.builder_topologies import TOPOLOGIES
from sandbox.builder_spec import (
    DEFAULT_END, DEMO_SEED, INCIDENT_KINDS, IncidentSpec, ScenarioSpec, ServiceSpec, default_spec,
)
from sandbox.builder_world import World
from sandbox.scenario import format_rfc3339, go_json, parse_rfc3339

__all__ = ["IncidentSpec", "ScenarioSpec", "ServiceSpec", "build_demo_scenario",
           "build_scenario", "default_spec", "main"]


def _series(families: list[Family], metric: str, **match: str) -> list[Series]:
    return [(labels, samples) for fam in families for name, labels, samples in fam.series
            if name == metric and all(labels.get(k) == v for k, v in match.items())]


def _page(spec: ScenarioSpec, page: str, incident: Incident, families: list[Family],
          world: World) -> tuple[str, dict[str, object]]:
    """Evaluate the paging rule like Prometheus would: (rules.yaml, webhook body)."""
    ns, svc = spec.namespace, spec.paged_service
    phase = world.rng("rule-eval").uniform(0.001, 29.999)
    start = max(world.start + 3600.0, incident.onset - 600.0)
    if page not in ("burn", "latency"):
        kp = kube_page(page, ns)
        series = [(name, (labels, samples)) for fam in families
                  for name, labels, samples in fam.series
                  if name in kp.metrics and labels.get("namespace") == ns]
        firing = evaluate(kp, series, start, world.end, phase)
        if not firing:
            raise RuntimeError(f"{kp.rule.alert} does not fire on the generated data "
                               f"(kind={spec.incident.kind}, seed={spec.seed})")
        return kube_rules_yaml(kp), kube_webhook(spec, kp.rule, firing)
    if page == "latency":
        rule = latency_rule(spec)
        buckets = _series(families, "http_request_duration_seconds_bucket", namespace=ns,
                          service=svc)

        def cond(t: float) -> float | None:
            v = quantile(0.99, buckets, t, 300.0)
            return v if v is not None and v > 0.5 else None
    else:
        rule = burn_rule(spec)
        reqs = _series(families, "http_requests_total", namespace=ns, service=svc)

        def cond(t: float) -> float | None:
            long, short = error_ratio(reqs, t, 3600.0), error_ratio(reqs, t, 300.0)
            ok = long is not None and short is not None and long > 0.0144 and short > 0.0144
            return long if ok else None
    result = fired_at(cond, start, world.end, rule.for_s, phase)
    if result is None:
        raise RuntimeError(f"{rule.alert} for {svc} does not fire on the generated data "
                           f"(kind={spec.incident.kind}, seed={spec.seed})")
    return rules_yaml(spec, [rule]), webhook_body(spec, rule, *result)


def _write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def build_scenario(spec: ScenarioSpec, out_dir: Path) -> Path:
    """Write the scenario folder for ``spec`` into ``out_dir`` and return it."""
    out = Path(out_dir)
    (out / "kube").mkdir(parents=True, exist_ok=True)
    world = World(spec)
    incident, herrings = make_incident(world)
    app = AppMetrics(world, incident)
    families = app.families() + ksm_families(world, incident) + more_families(world, incident)
    write_openmetrics(families, out / "metrics.om")
    write_logs(LogWriter(world, incident, app.traffic).build(herrings.extra_logs),
               spec.namespace, out / "logs.jsonl")
    kube = {"pods": pod_list(world), "events": event_list(world, incident),
            **workload_lists(world), **more_lists(world, incident)}
    if not spec.legacy:
        incident.patch_kube(kube)
    for name, obj in kube.items():
        _write_json(out / "kube" / f"{name}.json", obj)
    rules, body = _page(spec, spec.incident.page or incident.alert, incident, families, world)
    (out / "rules.yaml").write_text(rules, encoding="utf-8")
    (out / "alerts.json").write_text(go_json(body) + "\n", encoding="utf-8")
    meta = {"name": spec.name, "end": format_rfc3339(spec.end),
            "namespace": spec.namespace,
            "description": spec.description or incident.description()}
    (out / "scenario.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, width=120),
                                       encoding="utf-8")
    (out / "truth.yaml").write_text(yaml.safe_dump(incident.truth(), sort_keys=False),
                                    encoding="utf-8")
    return out


def build_demo_scenario(out_dir: Path) -> Path:
    """The bundled demo: an OOM-killed checkout service, fixed seed."""
    return build_scenario(default_spec("oom-killed", seed=DEMO_SEED), out_dir)


def _build_catalogue(names: list[str], out: Path) -> None:
    """Write each named catalogue entry into its own subfolder of ``out``."""
    from sandbox.catalogue import catalogue_spec
    for name in names:
        t0 = time.perf_counter()
        folder = build_scenario(catalogue_spec(name), out / name)
        size = (folder / "metrics.om").stat().st_size / 1e6
        print(f"wrote {folder} in {time.perf_counter() - t0:.2f}s (metrics.om {size:.2f} MB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.builder",
                                     description="Write synthetic incident scenario folders.")
    parser.add_argument("--kind", default="oom-killed", choices=INCIDENT_KINDS)
    parser.add_argument("--topology", default="store", choices=sorted(TOPOLOGIES))
    parser.add_argument("--catalogue", metavar="NAME", action="append", default=[],
                        help="build a named catalogue entry into OUT/NAME (repeatable)")
    parser.add_argument("--catalogue-all", action="store_true",
                        help="build every catalogue entry into OUT/<entry>")
    parser.add_argument("--list", action="store_true", help="list the catalogue and exit")
    parser.add_argument("--out", type=Path, help="scenario folder (catalogue: parent folder); "
                                                 "build/ is git-ignored")
    parser.add_argument("--seed", type=int, default=DEMO_SEED)
    parser.add_argument("--end", default=format_rfc3339(DEFAULT_END),
                        help="the recording's end (RFC 3339); loaders shift it to now anyway")
    parser.add_argument("--name", default=None, help="scenario name (default from the kind)")
    args = parser.parse_args(argv)
    from sandbox.catalogue import CATALOGUE, names
    if args.list:
        for e in CATALOGUE:
            print(f"{e.name:28} {e.kind:20} {e.topology:6} herrings={','.join(e.red_herrings)}")
        return 0
    if args.out is None:
        parser.error("--out is required")
    if args.catalogue or args.catalogue_all:
        unknown = sorted(set(args.catalogue) - set(names()))
        if unknown:
            parser.error(f"unknown catalogue entries {unknown}; try --list")
        _build_catalogue(names() if args.catalogue_all else args.catalogue, args.out)
        return 0
    if args.kind not in INCIDENTS:
        parser.error(f"kind {args.kind!r} is not implemented yet; try {sorted(INCIDENTS)}")
    spec = default_spec(args.kind, seed=args.seed, end=parse_rfc3339(args.end),
                        topology=args.topology)
    if args.name:
        spec = replace(spec, name=args.name)
    out = build_scenario(spec, args.out)
    print(f"wrote {out} ({spec.name}, {spec.end - timedelta(seconds=spec.duration_s)} .. "
          f"{spec.end})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
