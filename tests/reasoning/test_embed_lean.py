"""The lean embedding session (the worker's default) gives the same vectors as the
fully optimised one, for a fraction of the resident memory."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from reasoning.runbooks.embed import EmbeddingUnavailable, MiniLmEncoder

TEXTS = ["KubePodCrashLooping checkout OOMKilled", "p99 latency of payments over the SLO " * 20,
         "node disk pressure evicting pods"]
PROBE = """
import os, sys
from reasoning.runbooks.embed import MiniLmEncoder
def rss():
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
enc = MiniLmEncoder(lean=sys.argv[1] == "lean")
import onnxruntime, tokenizers  # imports are not the session
before = rss()
enc.encode(["warm the session up"])
print(rss() - before)
"""


def _encoder(lean: bool) -> MiniLmEncoder:
    enc = MiniLmEncoder(lean=lean)
    try:
        enc.fingerprint()
    except EmbeddingUnavailable as exc:
        pytest.skip(str(exc))
    return enc


def test_lean_vectors_match_the_optimised_ones():
    lean, full = _encoder(True).encode(TEXTS), _encoder(False).encode(TEXTS)
    assert lean.shape == (3, 384)
    assert np.abs(lean - full).max() < 1e-4
    assert (lean * full).sum(axis=1).min() > 0.9999


def test_lean_session_holds_far_less_memory():
    _encoder(True)
    grown = {mode: float(subprocess.run([sys.executable, "-c", PROBE, mode], check=True,
                                        capture_output=True, text=True).stdout)
             for mode in ("lean", "full")}
    assert grown["lean"] < 80, grown
    assert grown["full"] - grown["lean"] > 60, grown
