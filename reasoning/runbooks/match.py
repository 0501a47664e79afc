"""Exact matching of a page against runbook front matter: alert names, runbook_url,
log signatures and event reasons. These are facts, so they outrank similarity."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from reasoning.runbooks.parse import Runbook

URL_BOOST = 2.0
ALERT_BOOST = 1.0
SPECIFIC_ALERT_BOOST = 0.2    # split among the alerts a runbook lists: dedicated runbooks win ties
SIGNATURE_BOOST = (0.3, 0.1)  # first match, each further one
SIGNATURE_CAP = 0.5
REASON_BOOST = 0.15
REASON_CAP = 0.3


@dataclass
class ExactMatch:
    score: float = 0.0
    why: list[str] = field(default_factory=list)
    section: str | None = None  # a section the runbook_url's fragment names


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _norm_url(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}"


def url_match(book: Runbook, url: str) -> tuple[bool, str | None]:
    """Does the URL point at this file: listed in `urls`, or its last path segment or
    fragment is the file name? Also returns a section its fragment names."""
    parts = urlsplit(url.strip())
    fragment = _norm(parts.fragment)
    section = next((s.heading for s in book.sections if fragment and _norm(s.heading) == fragment),
                   None)
    if any(_norm_url(u) == _norm_url(url) for u in book.urls):
        return True, section
    return _norm(book.stem) in {url_name(url), fragment}, section


def url_name(url: str) -> str:
    """Normalised last path segment: kube-prometheus-stack URLs end in the alert name."""
    last = urlsplit(url.strip()).path.rstrip("/").rsplit("/", 1)[-1]
    return _norm(re.sub(r"\.(md|markdown|html?)$", "", last, flags=re.I))


def _reasons_in(text: str, reasons: Iterable[str]) -> set[str]:
    return {r for r in reasons if re.search(rf"\b{re.escape(r)}\b", text)}


def exact_match(book: Runbook, *, text: str, alertname: str | None, runbook_url: str | None,
                signatures: Iterable[str], reasons: Iterable[str]) -> ExactMatch:
    """Score what the page and its evidence literally share with the runbook's front matter."""
    m = ExactMatch()
    if runbook_url:
        hit, m.section = url_match(book, runbook_url)
        if hit:
            m.score += URL_BOOST
            m.why.append(f"runbook_url {runbook_url} points here")
    alerts = {_norm(a): a for a in book.alerts}
    named = _norm(alertname) if alertname else (url_name(runbook_url) if runbook_url else "")
    if named in alerts:
        m.score += ALERT_BOOST + SPECIFIC_ALERT_BOOST / len(book.alerts)
        via = "" if alertname else " (named by its runbook_url)"
        m.why.append(f"alert {alerts[named]}{via} is listed in its front matter")
    haystack = "\n".join([text, *signatures]).lower()
    found = [s for s in book.signatures if s.lower() in haystack]
    if found:
        m.score += min(SIGNATURE_CAP, SIGNATURE_BOOST[0] + SIGNATURE_BOOST[1] * (len(found) - 1))
        m.why.append("log/event text matches " + ", ".join(repr(s) for s in found[:3]))
    given = {r.lower() for r in reasons}
    hit_reasons = {r for r in book.reasons if r.lower() in given} | _reasons_in(text, book.reasons)
    if hit_reasons:
        m.score += min(REASON_CAP, REASON_BOOST * len(hit_reasons))
        m.why.append("event reason " + ", ".join(sorted(hit_reasons)))
    return m
