"""Okapi BM25 over whole runbook files: the lexical half of a hybrid search.

Dense vectors blur rare exact words (a setting name, "control plane", an exit code);
BM25 keeps them. Scores are divided by the best one so they add to cosine similarities
on a comparable 0..1 scale.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from reasoning.runbooks.parse import Runbook


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


class Bm25:
    """BM25 (k1=1.5, b=0.75) with the +1 idf of Lucene, so common words never score negative."""

    def __init__(self, books: Sequence[Runbook], k1: float = 1.5, b: float = 0.75) -> None:
        self.paths = [str(book.path) for book in books]
        docs = [words(" ".join([book.title, *book.alerts, *book.signatures, *book.reasons,
                                *book.causes, *(f"{s.heading} {s.text}" for s in book.sections)]))
                for book in books]
        self.k1, self.b = k1, b
        self.tf = [Counter(d) for d in docs]
        self.lengths = [len(d) for d in docs]
        self.avg = sum(self.lengths) / len(docs) if docs else 0.0
        df = Counter(w for d in docs for w in set(d))
        self.idf = {w: math.log(1 + (len(docs) - f + 0.5) / (f + 0.5)) for w, f in df.items()}

    def scores(self, text: str) -> dict[str, float]:
        """Path -> score in 0..1 (relative to the best file for this text)."""
        query = words(text)
        raw = {}
        for path, tf, length in zip(self.paths, self.tf, self.lengths, strict=True):
            norm = self.k1 * (1 - self.b + self.b * length / (self.avg or 1))
            raw[path] = sum(self.idf[w] * tf[w] * (self.k1 + 1) / (tf[w] + norm)
                            for w in query if tf.get(w))
        best = max(raw.values(), default=0.0)
        return {p: s / best for p, s in raw.items()} if best > 0 else {}
