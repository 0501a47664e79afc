"""Composite ranking and correlation of findings (detectors.correlate)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from adapters.envelope import SourceResult, Status
from detectors.context import Subject
from detectors.correlate import composite, correlate, dedupe, dependencies
from detectors.finding import Finding, Severity

AT = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
CHECKOUT = Subject(namespace="shop", kind="Deployment", name="checkout")
DB = Subject(namespace="shop", kind="StatefulSet", name="orders-db")
POD = Subject(namespace="shop", kind="Pod", name="checkout-7d9f-abcde")


def finding(signal: str, subject: Subject, *, minutes_ago: float | None = None, score: float = 0.8,
            severity: Severity = Severity.WARNING, query: str = "q", **facts) -> Finding:
    return Finding(
        detector=f"{signal}-detector", signal=signal, subject=subject, severity=severity,
        score=score, window="30m", title=f"{subject.name}: {signal}", facts=facts,
        started=None if minutes_ago is None else AT - timedelta(minutes=minutes_ago),
        evidence=[SourceResult(source="prometheus", status=Status.OK, query=query)])


def rolled_up(subject: Subject) -> Subject:
    return CHECKOUT if subject.name.startswith("checkout") else subject


def test_duplicates_collapse_into_the_strongest_with_all_evidence_and_the_earliest_start():
    weak = finding("restarts", CHECKOUT, minutes_ago=20, score=0.5, query="a")
    strong = finding("restarts", CHECKOUT, minutes_ago=5, score=0.9, query="b")
    again = finding("restarts", CHECKOUT, minutes_ago=5, score=0.9, query="b")
    other = finding("oom-killed", CHECKOUT, score=0.7)
    out = dedupe([weak, strong, again, other])
    assert len(out) == 2
    merged = next(f for f in out if f.signal == "restarts")
    assert merged.score == 0.9
    assert [e.query for e in merged.evidence] == ["b", "a"]
    assert merged.started == AT - timedelta(minutes=20)
    assert weak.evidence[0].query == "a" and len(strong.evidence) == 1  # inputs untouched


def test_rank_weighs_severity_and_recency():
    fresh = finding("a", CHECKOUT, minutes_ago=0, score=0.8)
    hour_old = finding("b", CHECKOUT, minutes_ago=60, score=0.8)
    assert composite(hour_old, AT) == composite(fresh, AT) / 2
    page = finding("c", DB, score=0.5, severity=Severity.PAGE)
    info = finding("d", DB, score=1.0, severity=Severity.INFO)
    ranked = correlate([info, hour_old, page, fresh], at=AT)
    # 0.7 x 0.8 = 0.56; 1.0 x 0.5; 0.4 x 1.0; half of 0.56, an hour later
    assert [f.signal for f in ranked] == ["a", "c", "d", "b"]
    assert [f.signal for f in correlate([info, hour_old, page, fresh], at=AT, top=2)] == ["a", "c"]


def test_a_finding_just_after_another_on_the_same_workload_is_linked_to_it():
    rollout = finding("new-rollout", CHECKOUT, minutes_ago=12)
    signature = finding("new-log-signature", POD, minutes_ago=8)
    much_later = finding("oom-killed", POD, minutes_ago=-30)  # 42 min after the rollout
    untimed = finding("restarts", POD)
    out = {f.signal: f for f in correlate([rollout, signature, much_later, untimed], at=AT,
                                            workload_of=rolled_up)}
    follows = out["new-log-signature"].facts["follows"]
    assert follows == [{"finding": "checkout: new-rollout", "subject": str(CHECKOUT),
                        "minutes_before": 4.0, "why": "same workload"}]
    assert out["new-log-signature"].details[-1].startswith("follows (4 min earlier, same workload)")
    assert "follows" not in out["new-rollout"].facts  # links point back in time only
    assert "follows" not in out["oom-killed"].facts  # too late to be the same story
    assert "follows" not in out["restarts"].facts  # no start time, no link
    assert "follows" not in signature.facts  # the detector's own finding is not changed


def test_a_caller_failing_after_its_dependency_is_linked_and_not_the_other_way_round():
    db_errors = finding("dependency-errors", DB, minutes_ago=6, caller="checkout")
    db_down = finding("restarts", DB, minutes_ago=9)
    checkout_errors = finding("log-error-spike", CHECKOUT, minutes_ago=5)
    stranger = finding("traffic-up", Subject(namespace="shop", kind="Deployment", name="search"),
                       minutes_ago=4)
    assert dependencies([db_errors]) == {"checkout": {"orders-db"}}
    out = {f.signal: f for f in correlate([db_down, checkout_errors, db_errors, stranger], at=AT)}
    why = {link["why"] for link in out["log-error-spike"].facts["follows"]}
    assert why == {"checkout calls orders-db"}
    assert [link["finding"] for link in out["log-error-spike"].facts["follows"]] == [
        "orders-db: dependency-errors", "orders-db: restarts"]  # nearest first
    assert "follows" not in out["traffic-up"].facts
    assert out["dependency-errors"].facts["follows"][0]["why"] == "same workload"
    # with the call graph given instead of found, the link is the same
    plain = finding("restarts", DB, minutes_ago=9)
    out = correlate([plain, finding("log-error-spike", CHECKOUT, minutes_ago=5)], at=AT,
                    depends={"checkout": {"orders-db"}})
    assert out[0].facts["follows"][0]["subject"] == str(DB)
