"""The scenario catalogue: named specs over every cause and three topologies, written by
the builder's CLI, with red herrings that leave their true-but-irrelevant traces."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.builder import build_scenario, main
from sandbox.builder_registry import make_incident
from sandbox.builder_spec import INCIDENT_KINDS
from sandbox.builder_world import World
from sandbox.catalogue import CATALOGUE, catalogue_spec, names
from sandbox.scenario import load_scenario, parse_rfc3339


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("catalogue")
    assert main(["--catalogue-all", "--out", str(out)]) == 0
    return out


def _items(folder: Path, name: str) -> list[dict[str, Any]]:
    path = folder / "kube" / f"{name}.json"
    return json.loads(path.read_text())["items"] if path.exists() else []


def _lines(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (folder / "logs.jsonl").read_text().splitlines()]


def test_catalogue_covers_causes_topologies_and_noise() -> None:
    assert len(CATALOGUE) >= 10 and len(set(names())) == len(CATALOGUE)
    assert {e.kind for e in CATALOGUE} == set(INCIDENT_KINDS)
    assert {e.topology for e in CATALOGUE} == {"store", "bank", "media"}
    assert len({catalogue_spec(n).namespace for n in names()}) >= 4
    assert sum(1 for e in CATALOGUE if e.red_herrings) >= 5
    assert any(e.kind == "none" and e.red_herrings for e in CATALOGUE)


def test_catalogue_all_writes_one_folder_per_entry(shelf: Path) -> None:
    assert sorted(p.name for p in shelf.iterdir()) == sorted(names())
    for e in CATALOGUE:
        folder = shelf / e.name
        scenario = load_scenario(folder)
        assert scenario.name == e.name
        assert scenario.end == parse_rfc3339(e.end)
        truth = yaml.safe_load((folder / "truth.yaml").read_text())
        assert truth["cause"] == e.kind
        if e.target:
            assert truth["culprit"]["name"] == e.target
        assert (folder / "metrics.om").stat().st_size < 5_000_000
        assert json.loads((folder / "alerts.json").read_text())["alerts"]


def test_single_entry_cli(tmp_path: Path) -> None:
    assert main(["--catalogue", "streaming-playback-cache", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "streaming-playback-cache" / "truth.yaml").is_file()
    with pytest.raises(SystemExit):
        main(["--catalogue", "no-such-entry", "--out", str(tmp_path)])


def _culprit(folder: Path) -> str:
    truth = yaml.safe_load((folder / "truth.yaml").read_text())
    return str((truth.get("culprit") or {}).get("name", ""))


def _with(herring: str) -> list[str]:
    return [e.name for e in CATALOGUE if herring in e.red_herrings]


def test_old_restarts_herring(shelf: Path) -> None:
    for name in _with("old-restarts"):
        folder, start = shelf / name, load_scenario(shelf / name).end.timestamp() - 7200
        hits = [p for p in _items(folder, "pods")
                if p["status"].get("containerStatuses", [{}])[0].get("restartCount")
                and not p["metadata"]["name"].startswith(_culprit(folder) + "-")]
        assert hits, name
        term = hits[0]["status"]["containerStatuses"][0]["lastState"]["terminated"]
        assert parse_rfc3339(term["finishedAt"]).timestamp() < start


def test_cronjob_herring(shelf: Path) -> None:
    for name in _with("cronjob-errors"):
        folder = shelf / name
        assert _items(folder, "cronjobs") and _items(folder, "jobs")
        failed = [p for p in _items(folder, "pods") if p["status"]["phase"] == "Failed"]
        assert failed and failed[0]["metadata"]["ownerReferences"][0]["kind"] == "Job"
        assert any(e["reason"] == "BackoffLimitExceeded" for e in _items(folder, "events"))
        assert any("AccessDenied" in x["line"] for x in _lines(folder))


def test_warning_event_herring(shelf: Path) -> None:
    for name in _with("warning-event"):
        folder = shelf / name
        warn = [e for e in _items(folder, "events") if e["type"] == "Warning"
                and e["reason"] in ("DNSConfigForming", "Unhealthy")
                and not e["involvedObject"]["name"].startswith(_culprit(folder) + "-")]
        assert warn, name


def test_deploy_other_herring(shelf: Path) -> None:
    for name in _with("deploy-other"):
        folder = shelf / name
        end = load_scenario(folder).end.timestamp()
        fresh = [r for r in _items(folder, "replicasets")
                 if parse_rfc3339(r["metadata"]["creationTimestamp"]).timestamp() > end - 7200
                 and r["metadata"]["labels"]["app"] != _culprit(folder)]
        assert fresh and all(r["status"].get("readyReplicas") for r in fresh), name


def test_noisy_logs_herring(shelf: Path) -> None:
    for name in _with("noisy-logs"):
        lines = [x for x in _lines(shelf / name) if "feature flag refresh failed" in x["line"]]
        assert len(lines) > 10 and lines[0]["labels"]["app"] != _culprit(shelf / name)


def test_traffic_ramp_herring() -> None:
    for name in _with("traffic-ramp"):
        spec = catalogue_spec(name)
        world = World(spec)
        incident, _ = make_incident(world)
        edge = next(s.name for s in spec.services if s.post_share)
        assert incident.traffic(edge, world.end) > 1.15
        assert incident.traffic(edge, world.start) == 1.0


def test_unknown_herring_is_refused(tmp_path: Path) -> None:
    spec = replace(catalogue_spec(names()[0]), red_herrings=("solar-flare",))
    with pytest.raises(ValueError, match="solar-flare"):
        build_scenario(spec, tmp_path / "x")
