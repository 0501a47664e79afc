"""Runbook retrieval: front-matter exact matches plus offline semantic search.

Importing this package loads neither chromadb nor the embedding model; the first
`RunbookIndex.search` (or `ensure`) does.
"""

from reasoning.runbooks.index import BUILTIN_DIR, RunbookHit, RunbookIndex, runbook_dirs
from reasoning.runbooks.parse import Chunk, Runbook, RunbookError, load_runbooks, parse_runbook

__all__ = ["BUILTIN_DIR", "Chunk", "Runbook", "RunbookError", "RunbookHit", "RunbookIndex",
           "load_runbooks", "parse_runbook", "runbook_dirs"]
