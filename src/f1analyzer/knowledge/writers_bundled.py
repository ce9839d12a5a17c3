"""The knowledge documents shipped inside the package (``f1analyzer/bundled/knowledge_docs.json.gz``).

A fresh install has no race store, yet ``/query`` should answer questions about 2018–2024. The
bundle holds, for every race of the shared data, the derived *facts* (classification, stints, pit
laps, neutralisation phases, undercuts — no lap times) and the race, circuit and season documents
written from them with the bundled race models. ``scripts/build_bundled_knowledge.py`` writes it.

It also ships the MiniLM embeddings of those documents (float16), so that a fresh server builds
its index in a second instead of embedding every passage on one CPU thread for a minute:
:class:`PrecomputedEmbedder` answers known passage texts from the bundle and embeds the rest.

Lap data: Armchair Strategist (Apache-2.0), sourced from F1 live timing via FastF1.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import threading
from dataclasses import asdict
from pathlib import Path

import numpy as np

from f1analyzer.data.bundle import BUNDLE_FORMAT, BUNDLED_KNOWLEDGE, load_bundle  # noqa: F401 - re-exported
from f1analyzer.knowledge.documents import Document
from f1analyzer.log import get_logger

log = get_logger("knowledge.bundled")

ATTRIBUTION = "Lap data: Armchair Strategist (Apache-2.0), sourced from F1 live timing via FastF1."


#: the embedder whose vectors the bundle ships (MiniLM with F1 abbreviations spelled out)
EMBEDDING_MODEL = "all-MiniLM-L6-v2+expand"


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def write_bundle(path: Path, facts: list[dict], documents: list[Document], meta: dict,
                 vectors: np.ndarray | None = None,
                 embedded: list[Document] | None = None) -> Path:
    """Write facts + documents as gzip JSON, with ``vectors`` (rows in the order of ``embedded``,
    default ``documents``) keyed by the hash of each document's embedding text."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": BUNDLE_FORMAT, "attribution": ATTRIBUTION, **meta,
               "facts": facts, "documents": [asdict(d) for d in documents]}
    if vectors is not None:
        v16 = np.ascontiguousarray(vectors, dtype="<f2")
        payload["embeddings"] = {
            "model": EMBEDDING_MODEL, "dim": int(v16.shape[1]),
            "keys": [text_key(d.embedding_text()) for d in (embedded or documents)],
            "float16_base64": base64.b64encode(v16.tobytes()).decode("ascii")}
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9,
                                               mtime=0, filename="") as gz:
        gz.write(body.encode("utf-8"))
    tmp.replace(path)
    return path


def bundled_facts(path: Path | None = None) -> list[dict]:
    bundle = load_bundle(path)
    return list(bundle["facts"]) if bundle else []


def bundled_documents(path: Path | None = None) -> list[Document]:
    """Race, circuit and season documents of the bundle (rule notes are added by the caller)."""
    bundle = load_bundle(path)
    if not bundle:
        return []
    return [Document(**{**d, "drivers": tuple(d.get("drivers") or ())})
            for d in bundle["documents"]]


def bundled_vectors(path: Path | None = None) -> dict[str, np.ndarray]:
    """Text key → unit float32 vector of the bundled documents ({} when none are shipped)."""
    bundle = load_bundle(path)
    emb = (bundle or {}).get("embeddings")
    if not emb or emb.get("model") != EMBEDDING_MODEL:
        return {}
    raw = np.frombuffer(base64.b64decode(emb["float16_base64"]), dtype="<f2")
    matrix = raw.astype(np.float32).reshape(-1, int(emb["dim"]))
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return dict(zip(emb["keys"], matrix))


class PrecomputedEmbedder:
    """An :class:`~f1analyzer.knowledge.embeddings.Embedder` that answers the bundled passage
    texts from their shipped vectors and passes everything else to ``base``.

    Args:
        base: the real embedder (MiniLM with abbreviations expanded, the bundle's model).
        table: text key → vector; default :func:`bundled_vectors` (read on first use).
    """

    def __init__(self, base, table: dict[str, np.ndarray] | None = None):
        self.base = base
        self._table = table
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self.base.dim

    def table(self) -> dict[str, np.ndarray]:
        if self._table is None:
            with self._lock:
                if self._table is None:
                    self._table = bundled_vectors()
        return self._table

    def prime(self, queries: list[str]) -> int:
        """Batch-embed queries into the base embedder's query cache (see ``MiniLMEmbedder.prime``)."""
        prime = getattr(self.base, "prime", None)
        return prime(queries) if prime else 0

    def encode(self, texts: list[str]) -> np.ndarray:
        if len(texts) <= 1:  # queries: never in the table, and the base caches them
            return self.base.encode(texts)
        table = self.table()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing = []
        for i, t in enumerate(texts):
            v = table.get(text_key(t))
            if v is None or v.shape[0] != self.dim:
                missing.append(i)
            else:
                out[i] = v
        if missing:
            out[missing] = self.base.encode([texts[i] for i in missing])
        return out
