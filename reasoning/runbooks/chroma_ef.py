"""chromadb adapter for MiniLmEncoder; imported only when an index is opened (chromadb is heavy)."""

from __future__ import annotations

from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from reasoning.runbooks.embed import MODEL_ID, MiniLmEncoder


@register_embedding_function
class OfflineMiniLm(EmbeddingFunction[Documents]):
    """Registered by name so a persisted collection reopens without chromadb's downloader."""

    def __init__(self, encoder: MiniLmEncoder | None = None) -> None:
        self._encoder = encoder or MiniLmEncoder()

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._encoder.encode(list(input)))

    @staticmethod
    def name() -> str:
        return "oncall-offline-minilm"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_ID}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OfflineMiniLm:
        return OfflineMiniLm()
