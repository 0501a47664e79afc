"""Scenario builder: write a complete, self-consistent scenario folder (FORMAT.md)
from a declarative ``ScenarioSpec``.

    python -m sandbox.builder --kind oom-killed --out DIR [--seed N] [--end RFC3339]

One seeded ``World`` model (pods, container lifecycles, traffic) drives every
file, so metrics, logs, kube objects and the page agree with each other and the
output is byte-identical for a given spec. The page in alerts.json is computed
by evaluating the rule over the generated samples, never written by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path

import yaml

from sandbox.builder_alerts import (
    Rule, Series, burn_rule, error_ratio, fired_at, latency_rule, quantile, rules_yaml,
    webhook_body,
)
from sandbox.builder_events import event_list
from sandbox.builder_incidents import INCIDENTS, Incident, make_incident
from sandbox.builder_kube import pod_list
from sandbox.builder_kube_workloads import workload_lists
from sandbox.builder_logs import LogWriter, write_logs
from sandbox.builder_metrics import AppMetrics, Family, write_openmetrics
from sandbox.builder_metrics_ksm import ksm_families
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


def _rule(spec: ScenarioSpec, incident: Incident) -> Rule:
    return latency_rule(spec) if incident.alert == "latency" else burn_rule(spec)


def _page(spec: ScenarioSpec, incident: Incident, families: list[Family],
          world: World) -> dict[str, object]:
    """Evaluate the paging rule like Prometheus would and build the webhook body."""
    ns, svc = spec.namespace, spec.paged_service
    phase = world.rng("rule-eval").uniform(0.001, 29.999)
    if incident.alert == "latency":
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
    start = max(world.start + 3600.0, incident.onset - 600.0)
    result = fired_at(cond, start, world.end, rule.for_s, phase)
    if result is None:
        raise RuntimeError(f"{rule.alert} for {svc} does not fire on the generated data "
                           f"(kind={spec.incident.kind}, seed={spec.seed})")
    return webhook_body(spec, rule, *result)


def build_scenario(spec: ScenarioSpec, out_dir: Path) -> Path:
    """Write the scenario folder for ``spec`` into ``out_dir`` and return it."""
    out = Path(out_dir)
    (out / "kube").mkdir(parents=True, exist_ok=True)
    world = World(spec)
    incident = make_incident(world)
    app = AppMetrics(world, incident)
    families = app.families() + ksm_families(world)
    write_openmetrics(families, out / "metrics.om")
    write_logs(LogWriter(world, incident, app.traffic).build(), spec.namespace,
               out / "logs.jsonl")
    kube = {"pods": pod_list(world), "events": event_list(world, incident),
            **workload_lists(world)}
    for name, obj in kube.items():
        (out / "kube" / f"{name}.json").write_text(json.dumps(obj, indent=2) + "\n",
                                                   encoding="utf-8")
    (out / "rules.yaml").write_text(rules_yaml(spec, [_rule(spec, incident)]), encoding="utf-8")
    (out / "alerts.json").write_text(go_json(_page(spec, incident, families, world)) + "\n",
                                     encoding="utf-8")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.builder",
                                     description="Write a synthetic incident scenario folder.")
    parser.add_argument("--kind", default="oom-killed", choices=INCIDENT_KINDS)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=DEMO_SEED)
    parser.add_argument("--end", default=format_rfc3339(DEFAULT_END),
                        help="the recording's end (RFC 3339); loaders shift it to now anyway")
    parser.add_argument("--name", default=None, help="scenario name (default from the kind)")
    args = parser.parse_args(argv)
    if args.kind not in INCIDENTS:
        parser.error(f"kind {args.kind!r} is not implemented yet; try {sorted(INCIDENTS)}")
    spec = default_spec(args.kind, seed=args.seed, end=parse_rfc3339(args.end))
    if args.name:
        spec = ScenarioSpec(**{**spec.__dict__, "name": args.name})
    out = build_scenario(spec, args.out)
    print(f"wrote {out} ({spec.name}, {spec.end - timedelta(seconds=spec.duration_s)} .. "
          f"{spec.end})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
