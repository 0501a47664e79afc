"""Runbook search: a chromadb index of runbook chunks plus exact front-matter matching.

The index persists on disk. A fingerprint of the runbook files, the chunker and the model,
kept in the collection's metadata, tells whether anything changed; if so only chunks whose
text changed are embedded again (ids are content hashes). A bot restart costs a file hash,
not a re-embedding. Nothing heavy loads before `ensure()`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasoning.runbooks.embed import MiniLmEncoder
from reasoning.runbooks.lexical import Bm25
from reasoning.runbooks.match import ExactMatch, exact_match
from reasoning.runbooks.parse import Chunk, Runbook, chunk_runbook, load_runbooks

log = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "runbooks"
CHUNKER_VERSION = "2"
COLLECTION = "runbooks"
EXCERPT_CHARS = 600
LEXICAL_WEIGHT = 0.25  # BM25's share beside cosine similarity (bench/runbook_retrieval.py)
# HNSW is approximate; a search list larger than any runbook set makes it exact and stable.
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 400}


@dataclass(frozen=True)
class RunbookHit:
    source_path: str
    title: str
    section: str
    excerpt: str
    score: float
    why: str
    causes: tuple[str, ...] = ()


def runbook_dirs(extra: str | Iterable[str | Path] = "", *, builtin: bool = True) -> list[Path]:
    """The shipped runbooks/ plus a user's directories ('os.pathsep'- or comma-separated)."""
    if isinstance(extra, str):
        extra = [p for p in extra.replace(",", os.pathsep).split(os.pathsep) if p.strip()]
    dirs = [BUILTIN_DIR] if builtin else []
    return dirs + [Path(p).expanduser() for p in extra]


class RunbookIndex:
    """Search runbooks by page: exact alert/URL matches first, then similarity."""

    def __init__(self, dirs: Sequence[str | Path] | None = None,
                 persist_dir: str | Path = ".oncall/runbook-index", *,
                 encoder: MiniLmEncoder | None = None, collection: str = COLLECTION) -> None:
        self.dirs = [Path(d) for d in (dirs if dirs is not None else [BUILTIN_DIR])]
        self.persist_dir = Path(persist_dir)
        self.encoder = encoder or MiniLmEncoder()
        self.collection_name = collection
        self.rebuilt = False          # whether the last ensure() changed the index
        self.embedded = 0             # chunks it embedded then
        self.build_seconds = 0.0
        self.error: str | None = None  # why similarity search is off, if it is
        self._books: list[Runbook] = []
        self._parsed: dict[Path, Runbook] = {}
        self._lexical: Bm25 | None = None
        self._count = 0
        self._collection: Any = None
        self._fingerprint = ""
        self._lock = threading.Lock()

    @staticmethod
    def preload() -> None:
        """Import chromadb and the model runtime now rather than on first use.

        The imports hold the GIL for about a second; a server with the worker in its
        event loop calls this before it listens, so no acknowledgement waits on them.
        """
        import chromadb  # noqa: F401
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401

        from reasoning.runbooks import chroma_ef  # noqa: F401

    @property
    def runbooks(self) -> list[Runbook]:
        self.ensure()
        return self._books

    def fingerprint(self, books: Sequence[Runbook]) -> str:
        h = hashlib.sha256(f"{CHUNKER_VERSION}|{self.encoder.fingerprint()}".encode())
        for book in sorted(books, key=lambda b: str(b.path.resolve())):
            h.update(f"|{book.path.resolve()}={book.digest}".encode())
        return h.hexdigest()

    def ensure(self) -> bool:
        """Load the runbooks and open the index, rebuilding it if anything changed.

        Returns True when the index changed. If the model or chromadb is unusable, `error`
        says why and search falls back to exact front-matter matches and BM25.
        """
        with self._lock:
            books = load_runbooks(self.dirs, self._parsed)
            digests = [b.digest for b in books]
            if self._lexical is None or digests != [b.digest for b in self._books]:
                self._lexical = Bm25(books)
            self._books = books
            self.rebuilt = False
            try:
                fingerprint = self.fingerprint(self._books)
                if self._collection is None or fingerprint != self._fingerprint:
                    self.rebuilt = self._open(fingerprint)
                    self._fingerprint = fingerprint
                self.error = None
            except Exception as exc:  # noqa: BLE001 - any index failure degrades, never breaks a report
                self._collection, self._fingerprint = None, ""
                self.error = f"{type(exc).__name__}: {exc}"
                log.warning("runbook similarity search unavailable: %s", self.error)
            return self.rebuilt

    def _open(self, fingerprint: str) -> bool:
        """Open the collection and bring it in line with the runbooks: chunks whose text
        changed are embedded again, removed ones deleted, unchanged ones kept."""
        import chromadb
        from chromadb.config import Settings

        from reasoning.runbooks.chroma_ef import OfflineMiniLm

        self.persist_dir.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(
            path=str(self.persist_dir),
            settings=Settings(anonymized_telemetry=False, allow_reset=False))
        collection = client.get_or_create_collection(  # chromadb's generics are narrower
            self.collection_name, embedding_function=OfflineMiniLm(self.encoder),  # type: ignore[arg-type]
            configuration={"hnsw": dict(HNSW)},  # type: ignore[arg-type]
            metadata={"fingerprint": ""})
        self._collection = collection
        self.embedded = 0
        if (collection.metadata or {}).get("fingerprint") == fingerprint:
            self._count = collection.count()
            return False
        started = time.perf_counter()
        salt = f"{CHUNKER_VERSION}|{self.encoder.fingerprint()}"
        wanted = {_chunk_id(salt, c): c for book in self._books for c in chunk_runbook(book)}
        have = set(collection.get(include=[])["ids"])
        if stale := sorted(have - wanted.keys()):
            collection.delete(ids=stale)
        if new := [i for i in wanted if i not in have]:
            collection.add(ids=new, documents=[wanted[i].text for i in new],
                           metadatas=[_meta(wanted[i]) for i in new])
        collection.modify(metadata={"fingerprint": fingerprint})
        self.embedded = len(new)
        self._count = collection.count()
        self.build_seconds = time.perf_counter() - started
        log.info("runbook index updated: %d runbooks, %d chunks embedded, %d removed, %.2fs",
                 len(self._books), len(new), len(stale), self.build_seconds)
        return bool(new or stale)

    def search(self, query: str = "", *, alertname: str | None = None,
               runbook_url: str | None = None, signatures: Iterable[str] = (),
               reasons: Iterable[str] = (), k: int = 3, min_score: float = 0.2,
               exact: bool = True, lexical: float = LEXICAL_WEIGHT) -> list[RunbookHit]:
        """Best k runbooks (one hit each) for a page: its text, alert, runbook_url and evidence.

        Score = exact front-matter matches + cosine similarity of the best chunk
        + `lexical` x relative BM25. `exact=False`, `lexical=0` are the benchmark's ablations.
        """
        self.ensure()
        signatures, reasons = list(signatures), list(reasons)
        text = " ".join(p for p in (alertname, query, *signatures) if p).strip()
        best = self._semantic(text) if text and self._collection is not None else {}
        lex = self._lexical.scores(text) if text and lexical and self._lexical else {}
        hits = []
        for book in self._books:
            found = exact_match(book, text=query, alertname=alertname, runbook_url=runbook_url,
                                signatures=signatures, reasons=reasons) if exact else ExactMatch()
            sim, chunk = best.get(str(book.path), (0.0, None))
            score = found.score + max(sim, 0.0) + lexical * lex.get(str(book.path), 0.0)
            if score < min_score:
                continue
            why = list(found.why)
            if chunk is not None:
                why.append(f"similar to its '{chunk['section']}' section ({sim:.2f})")
            if lex.get(str(book.path), 0.0) >= 0.5:
                why.append(f"shares rare words with the page (BM25 {lex[str(book.path)]:.2f})")
            # with nothing but an alert name, quote the start of Checks rather than a random piece
            section, excerpt = self._excerpt(book, found.section,
                                             chunk if query or signatures else None)
            hits.append(RunbookHit(source_path=str(book.path), title=book.title, section=section,
                                   excerpt=excerpt, score=round(score, 4), why="; ".join(why),
                                   causes=book.causes))
        hits.sort(key=lambda h: (-h.score, h.source_path))
        return hits[:k]

    def chunk_count(self) -> int:
        """Chunks in the index (0 when similarity search is unavailable)."""
        self.ensure()
        return self._count if self._collection is not None else 0

    def _semantic(self, text: str) -> dict[str, tuple[float, dict]]:
        """Best chunk similarity per runbook file."""
        count = self._count
        if not count:
            return {}
        vector = self.encoder.encode([text])
        res = self._collection.query(query_embeddings=vector, n_results=min(count, 200),
                                     include=["metadatas", "distances"])
        best: dict[str, tuple[float, dict]] = {}
        for meta, dist in zip(res["metadatas"][0], res["distances"][0], strict=True):
            sim = 1.0 - float(dist)
            path = str(meta["path"])
            if path not in best or sim > best[path][0]:
                best[path] = (sim, dict(meta))
        return best

    @staticmethod
    def _excerpt(book: Runbook, section: str | None, chunk: dict | None) -> tuple[str, str]:
        if section is None and chunk is not None:
            return str(chunk["section"]), _trim(str(chunk["excerpt"]))
        wanted = section or "Checks"
        for s in book.sections:
            if s.heading == wanted:
                return s.heading, _trim(s.text)
        first = book.sections[0] if book.sections else None
        return (first.heading, _trim(first.text)) if first else ("", "")


def _chunk_id(salt: str, chunk: Chunk) -> str:
    """Content-addressed: the same text of the same file under the same model keeps its vector."""
    return hashlib.sha256(f"{salt}|{chunk.path}|{chunk.id}|{chunk.text}".encode()).hexdigest()[:32]


def _meta(chunk: Chunk) -> dict[str, str]:
    return {"path": chunk.path, "title": chunk.title, "section": chunk.section,
            "excerpt": chunk.excerpt}


def _trim(text: str, limit: int = EXCERPT_CHARS) -> str:
    return text if len(text) <= limit else text[:limit].rsplit("\n", 1)[0] + "\n…"
