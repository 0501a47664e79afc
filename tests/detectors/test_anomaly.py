"""The streaming anomaly scorer, its CLI and the NAB benchmark's scoring."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from bot.cli_detect import detect_app, parse_timestamp
from detectors.anomaly import Score, ScorerConfig, StreamingScorer, score_series

ROOT = Path(__file__).resolve().parents[2]
NAB = ROOT.parent / "shared" / "datasets" / "nab"


def alarms(values) -> list[int]:
    points = ((60.0 * i, float(v)) for i, v in enumerate(values))
    return [i for i, s in enumerate(score_series(points)) if s.anomaly]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def noisy(rng, n=3000, level=100.0):
    return level + rng.normal(0.0, 1.0, n)


def seasonal(rng, n=4000, period=288):
    t = np.arange(n)
    return 50 + 20 * np.sin(2 * np.pi * t / period) + rng.normal(0.0, 1.0, n)


def test_a_step_is_flagged_when_it_happens(rng):
    values = noisy(rng)
    values[1500:] += 8.0
    assert alarms(values) == [1500]


def test_a_spike_is_flagged_at_once_and_scored_high(rng):
    values = noisy(rng)
    values[1200] += 10.0
    scores = score_series((float(i), float(v)) for i, v in enumerate(values))
    assert [i for i, s in enumerate(scores) if s.anomaly] == [1200]
    assert scores[1200].score > 0.5 > max(s.score for s in scores[:1200])
    assert "above the recent range" in scores[1200].reason


def test_a_slow_drift_out_of_range_is_flagged(rng):
    values = noisy(rng)
    values[2000:] += np.linspace(0.0, 15.0, 1000)
    flagged = alarms(values)
    assert flagged and 2000 < flagged[0] < 2600


@pytest.mark.parametrize("name", ["flat", "noise", "seasonal", "square wave"])
def test_normal_series_raise_no_alarm(rng, name):
    values = {
        "flat": np.full(3000, 42.0),
        "noise": noisy(rng),
        "seasonal": seasonal(rng),
        "square wave": np.where((np.arange(4000) // 144) % 2 == 0, 20.0, 80.0),
    }[name]
    assert alarms(values) == []


def test_a_missing_daily_peak_is_flagged_by_the_seasonal_view(rng):
    values = seasonal(rng)
    values[3024:3168] = 50 + rng.normal(0.0, 1.0, 144)  # one high half-cycle stays flat
    flagged = alarms(values)
    assert flagged and 3024 <= flagged[0] < 3060
    # the flat stretch never leaves the raw range: only the seasonal residual sees it
    assert values[3024:3168].max() < values[:3024].max()


def test_one_alarm_per_incident(rng):
    values = noisy(rng)
    values[1500:1560] += 20.0  # an hour-long outage, one alarm
    assert alarms(values) == [1500]


def test_streaming_scores_never_change_when_rows_are_appended(rng):
    values = noisy(rng, 2500)
    values[1800] += 12.0
    points = [(float(i), float(v)) for i, v in enumerate(values)]
    short, full = score_series(points[:2000]), score_series(points)
    assert short == full[:2000]


def test_non_finite_values_are_skipped(rng):
    scorer = StreamingScorer()
    for i, v in enumerate(noisy(rng, 600)):
        scorer.update(float(i), float(v))
    verdict = scorer.update(600.0, float("nan"))
    assert verdict == Score(600.0, verdict.value, 0.0, False, reason="not a finite number")


def test_warmup_keeps_early_points_quiet(rng):
    values = noisy(rng, 500)
    values[100] += 50.0
    assert alarms(values) == []  # too little history to call anything abnormal
    assert ScorerConfig().warmup > 100


# --- CLI -------------------------------------------------------------------------

def cli() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(detect_app, name="detect")
    return app


def test_cli_prints_one_json_object_per_row_with_the_input_timestamp(tmp_path, rng):
    values = noisy(rng, 1000)
    values[900] += 15.0
    csv = tmp_path / "series.csv"
    stamps = [f"2014-04-{1 + i // 288:02d} {(i % 288) * 5 // 60:02d}:{(i % 288) * 5 % 60:02d}:00"
              for i in range(1000)]
    csv.write_text("timestamp,value\n" + "".join(f"{t},{v}\n" for t, v in zip(stamps, values)))
    result = CliRunner().invoke(cli(), ["detect", "series", str(csv)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 1000
    assert all(set(r) == {"timestamp", "score", "anomaly"} and 0.0 <= r["score"] <= 1.0 for r in rows)
    assert [r["timestamp"] for r in rows] == stamps
    assert [i for i, r in enumerate(rows) if r["anomaly"]] == [900]


def test_cli_accepts_unix_seconds_and_stdin(rng):
    body = "timestamp,value\n" + "".join(f"{1700000000 + 60 * i},{v}\n"
                                         for i, v in enumerate(noisy(rng, 50)))
    result = CliRunner().invoke(cli(), ["detect", "series", "-"], input=body)
    assert result.exit_code == 0, result.output
    first = json.loads(result.output.splitlines()[0])
    assert first == {"timestamp": 1700000000, "score": 0.0, "anomaly": False}


def test_cli_rejects_a_bad_row_and_a_missing_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,value\n2014-04-01 00:00:00,1\nyesterday,2\n")
    result = CliRunner().invoke(cli(), ["detect", "series", str(bad)])
    assert result.exit_code == 1 and "line 3" in result.output
    assert CliRunner().invoke(cli(), ["detect", "series", str(tmp_path / "no.csv")]).exit_code == 2


def test_timestamp_formats():
    assert parse_timestamp("2014-04-01 00:00:00") == (1396310400.0, "2014-04-01 00:00:00")
    assert parse_timestamp("2014-04-01T00:00:00Z")[0] == 1396310400.0
    assert parse_timestamp("1396310400.5") == (1396310400.5, 1396310400.5)


# --- NAB benchmark -----------------------------------------------------------------

def load_bench():
    spec = importlib.util.spec_from_file_location("bench_nab", ROOT / "bench" / "nab.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_nab_scoring_rewards_early_detection_and_charges_false_alarms():
    nab = load_bench()
    ts = [float(i) for i in range(1000)]
    window = [(500.0, 599.0)]

    def raw(*hits: int) -> float:
        return nab.score_file("x", ts, [i in hits for i in range(1000)], window).raw

    assert raw() == -1.0  # missed window: A_fn
    assert raw(500) == pytest.approx(nab.scaled_sigmoid(-1.0)) and raw(500) > 0.98
    assert raw(500) > raw(550) > raw(599) > 0.0  # earlier is better
    assert raw(550, 560) == raw(550)  # only the first detection in a window counts
    assert raw(550, 300) == pytest.approx(raw(550) - 0.11)  # before any window: full A_fp
    assert raw(550, 100) == raw(550)  # probationary period: not scored
    assert raw(550) - 0.11 < raw(550, 620) < raw(550)  # just after a window: cheaper
    assert nab.probation_rows(4032) == 604 and nab.probation_rows(22695) == 750


@pytest.mark.skipif(not (NAB / "labels").is_dir(), reason="shared NAB data not present")
def test_nab_standard_score_meets_the_target():
    nab = load_bench()
    results = nab.run_corpus(NAB, StreamingScorer)
    assert len(results) == 18 and sum(r.windows for r in results) == 25
    assert nab.normalised(results) >= 60.0
