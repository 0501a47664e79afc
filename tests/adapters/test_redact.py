"""The redactor against a corpus of secret-bearing log lines, and reversible anonymisation."""

from __future__ import annotations

import logging
import re

import pytest

from adapters.anonymise import Anonymiser
from adapters.redact import Redactor, RedactingFilter
from tests.adapters.redaction_corpus import CORPUS

MARK = re.compile(r"\[REDACTED:[\w-]+\]")


def expected(line: str, spans: list[str]) -> str:
    for span in sorted(spans, key=len, reverse=True):
        line = line.replace(span, "\0")
    return line


def test_corpus_is_big_enough():
    assert len(CORPUS) >= 50
    assert sum(1 for _, secrets, _ in CORPUS if secrets) >= 50


@pytest.mark.parametrize("line,secrets,personal", CORPUS)
def test_no_secret_survives_and_the_rest_is_intact(line, secrets, personal):
    out = Redactor().redact(line)
    assert [s for s in secrets + personal if s in out] == []
    assert MARK.sub("\0", out) == expected(line, secrets + personal)


def test_emails_and_ips_are_optional():
    line = "mail jane@example.com from 10.84.0.18 password=abc12345"
    assert Redactor(emails=False, ips=False).redact(line) == \
        "mail jane@example.com from 10.84.0.18 password=[REDACTED:secret]"
    assert Redactor().redact(line) == \
        "mail [REDACTED:email] from [REDACTED:ip] password=[REDACTED:secret]"


def test_ordinary_lines_are_untouched():
    for line in ("2026-11-20T09:43:35.365Z ERROR 1 --- [checkout] c.a.shop.checkout.web."
                 "CheckoutController : Checkout failed for cart 23702e43-cc2b-44c9",
                 "GC(4543) Pause Young (Normal) (G1 Evacuation Pause) 473M->439M(537M) 297ms",
                 "std::vector<int> a::b at 09:43:38 took 1.5s password_reset_enabled",
                 "Back-off restarting failed container checkout in pod checkout-7d9f_shop"):
        assert Redactor(ips=True).redact(line) == line


def test_nested_data_and_the_logging_filter(caplog):
    data = {"msg": "token=abcdef123456", "items": ["Bearer abcdefgh12345678", 3],
            "nested": ("postgres://u:pw12345@db/x",)}
    out = Redactor().redact_obj(data)
    assert out == {"msg": "token=[REDACTED:secret]", "items": ["Bearer [REDACTED:auth]", 3],
                   "nested": ("postgres://u:[REDACTED:url-password]@db/x",)}
    log = logging.getLogger("oncall.test.redact")
    log.addFilter(RedactingFilter(Redactor()))
    with caplog.at_level(logging.INFO, logger="oncall.test.redact"):
        log.info("calling with %s", "api_key=0123456789abcdef")
    assert "0123456789abcdef" not in caplog.text and "[REDACTED:secret]" in caplog.text


def test_anonymise_and_restore_round_trip():
    anon = Anonymiser()
    anon.learn_objects([{"metadata": {"name": "checkout-5255lpzzwd-58tv8", "namespace": "shop"},
                         "spec": {"nodeName": "gke-shop-prod-euw1-pool-8238574d-6cqf"}}],
                       kind="pod")
    anon.add("deployment", "checkout")
    text = ("Pod checkout-5255lpzzwd-58tv8 in shop on gke-shop-prod-euw1-pool-8238574d-6cqf "
            "(deployment checkout) was OOMKilled; checkout-5255lpzzwd-58tv8_shop(uid)")
    hidden = anon.anonymise(text)
    for name in ("checkout", "shop", "5255lpzzwd", "gke-shop"):
        assert name not in hidden
    assert "pod-1" in hidden and "namespace-1" in hidden and "node-1" in hidden
    assert anon.restore(hidden) == text
    answer = "Restart pod-1 (namespace-1); deployment-1 needs more memory. pod-10 is unrelated."
    assert anon.restore(answer) == ("Restart checkout-5255lpzzwd-58tv8 (shop); checkout needs "
                                    "more memory. pod-10 is unrelated.")
