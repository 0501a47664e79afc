"""Runbook retrieval: recall@3 of our search (exact front-matter matches + offline MiniLM
similarity + a BM25 share) against a BM25 baseline, on bench/runbook_queries.yaml.

Queries marked `split: holdout` were written after the scoring (weights included) was
fixed; `dev` ones before. BM25 (rank_bm25's Okapi, or a small built-in one) ranks whole
runbook files, front matter included, for the same text our search sees: alert name,
query, runbook_url and event reasons. A query counts as found when its expected file is
among the first three. Also printed: ours without its BM25 part and similarity alone,
recall by query kind, every miss, index build time and query latency.

    .venv/bin/python bench/runbook_retrieval.py [--queries FILE] [--persist DIR] [-k 3]
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reasoning.runbooks import BUILTIN_DIR, RunbookIndex, load_runbooks  # noqa: E402

Ranker = Callable[[dict], list[str]]


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


class SmallBM25:
    """Okapi BM25 (k1=1.5, b=0.75), the same formula as rank_bm25.BM25Okapi."""

    def __init__(self, corpus: list[list[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b, self.docs = k1, b, [Counter(d) for d in corpus]
        self.lengths = [len(d) for d in corpus]
        self.avg = sum(self.lengths) / max(len(corpus), 1)
        df = Counter(t for d in corpus for t in set(d))
        n = len(corpus)
        self.idf = {t: math.log((n - f + 0.5) / (f + 0.5) + 1) for t, f in df.items()}

    def get_scores(self, query: list[str]) -> list[float]:
        out = []
        for doc, length in zip(self.docs, self.lengths, strict=True):
            s = 0.0
            for t in query:
                tf = doc.get(t, 0)
                if tf:
                    s += self.idf[t] * tf * (self.k1 + 1) / (
                        tf + self.k1 * (1 - self.b + self.b * length / self.avg))
            out.append(s)
        return out


def bm25_ranker(dirs: list[Path]) -> tuple[Ranker, str]:
    files = [b.path for b in load_runbooks(dirs)]
    corpus = [tokens(p.read_text()) for p in files]
    try:
        from rank_bm25 import BM25Okapi
        model, name = BM25Okapi(corpus), "BM25 (rank_bm25 Okapi)"
    except ImportError:
        model, name = SmallBM25(corpus), "BM25 (built-in Okapi)"

    def rank(q: dict) -> list[str]:
        text = " ".join([q.get("alertname") or "", q.get("query") or "",
                         q.get("runbook_url") or "", *q.get("reasons", [])])
        scores = model.get_scores(tokens(text))
        order = sorted(range(len(files)), key=lambda i: -scores[i])
        return [files[i].name for i in order if scores[i] > 0]
    return rank, name


def our_ranker(index: RunbookIndex, k: int, *, exact: bool = True,
               lexical: float | None = None) -> Ranker:
    extra = {} if lexical is None else {"lexical": lexical}

    def rank(q: dict) -> list[str]:
        if exact:
            hits = index.search(q.get("query") or "", alertname=q.get("alertname"),
                                runbook_url=q.get("runbook_url"), reasons=q.get("reasons", []),
                                k=k, **extra)
        else:  # similarity alone: everything the page says, as plain text
            text = " ".join(p for p in (q.get("alertname"), q.get("query"), q.get("runbook_url"))
                            if p)
            hits = index.search(text, k=k, min_score=0.0, exact=False, **extra)
        return [Path(h.source_path).name for h in hits]
    return rank


def evaluate(name: str, rank: Ranker, queries: list[dict], k: int) -> dict:
    found, latencies, misses = 0, [], []
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_split: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for q in queries:
        started = time.perf_counter()
        got = rank(q)[:k]
        latencies.append(time.perf_counter() - started)
        ok = q["expected"] in got
        found += ok
        by_kind[q["kind"]][0] += ok
        by_kind[q["kind"]][1] += 1
        by_split[q.get("split", "dev")][0] += ok
        by_split[q.get("split", "dev")][1] += 1
        if not ok:
            misses.append((q["id"], q["expected"], got))
    return {"name": name, "recall": found / len(queries), "found": found, "by_kind": by_kind,
            "by_split": by_split,
            "misses": misses, "latencies": latencies}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=Path, default=ROOT / "bench" / "runbook_queries.yaml")
    ap.add_argument("--persist", type=Path, help="index directory to reuse (default: a fresh one)")
    ap.add_argument("-k", type=int, default=3)
    args = ap.parse_args()

    queries = yaml.safe_load(args.queries.read_text())["queries"]
    known = {b.path.name for b in load_runbooks([BUILTIN_DIR])}
    unknown = sorted({q["expected"] for q in queries} - known)
    if unknown:
        sys.exit(f"expected runbooks that do not exist: {unknown}")

    with tempfile.TemporaryDirectory() as tmp:
        index = RunbookIndex([BUILTIN_DIR], args.persist or Path(tmp))
        started = time.perf_counter()
        rebuilt = index.ensure()
        opened = time.perf_counter() - started
        if index.error:
            sys.exit(f"index unavailable: {index.error}")
        chunks = index.chunk_count()
        print(f"{len(queries)} queries, {len(index.runbooks)} runbooks, {chunks} chunks")
        print(f"index {'built' if rebuilt else 'reused'} in {opened:.2f}s "
              f"(embedding + chromadb add {index.build_seconds:.2f}s)")
        warm = time.perf_counter()
        index.search("warm up")
        print(f"first query (model already loaded): {1000 * (time.perf_counter() - warm):.1f} ms")

        bm25, bm25_name = bm25_ranker([BUILTIN_DIR])
        results = [
            evaluate("ours (exact+semantic+bm25)", our_ranker(index, args.k), queries, args.k),
            evaluate("  without bm25 part", our_ranker(index, args.k, lexical=0.0),
                     queries, args.k),
            evaluate("  semantic only", our_ranker(index, args.k, exact=False, lexical=0.0),
                     queries, args.k),
            evaluate(bm25_name, bm25, queries, args.k)]

    kinds = sorted({q["kind"] for q in queries})
    splits = sorted({q.get("split", "dev") for q in queries})
    print(f"\n{'method':28} {'recall@' + str(args.k):>9}  "
          + "  ".join(f"{k:>8}" for k in splits + kinds) + "   p50 ms   p95 ms")
    for r in results:
        lat = sorted(r["latencies"])
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
        cols = "  ".join(f"{r['by_split'][k][0]:>3}/{r['by_split'][k][1]:<4}" for k in splits)
        cols += "  " + "  ".join(f"{r['by_kind'][k][0]:>3}/{r['by_kind'][k][1]:<4}" for k in kinds)
        print(f"{r['name']:28} {r['recall']:>9.3f}  {cols}  {1000 * statistics.median(lat):7.1f}"
              f"  {1000 * p95:7.1f}")
    for r in results:
        print(f"\nmisses of {r['name']} ({len(r['misses'])}):")
        for qid, expected, got in r["misses"]:
            print(f"  {qid}: expected {expected}, got {', '.join(got) or '-'}")


if __name__ == "__main__":
    main()
