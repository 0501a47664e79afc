"""`make demo` runs `oncall demo`: the bundled scenario, built at start, pages for real."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from bot.demo import run_demo

pytestmark = pytest.mark.stack


def test_demo_prints_a_thread_naming_the_oom_killed_pods():
    out = io.StringIO()
    code = run_demo(None, 60.0, Console(file=out, width=200, color_system=None))
    text = out.getvalue()
    assert code == 0, text
    assert "FIRING: ErrorBudgetBurn" in text  # the parent message
    assert "reply in thread" in text
    assert text.count("last terminated OOMKilled, exit 137") >= 3  # one line per checkout pod
    assert len({w for w in text.split() if w.startswith("checkout-") and w.count("-") == 2}) >= 3
    assert "memory limit" in text
    assert "kube_pod_container_status_last_terminated_reason" in text  # the PromQL evidence
