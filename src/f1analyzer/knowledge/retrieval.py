"""Hybrid retrieval: dense vectors + BM25 keywords, fused by reciprocal rank.

Dense search finds passages that *mean* the same as the question ("cheap stop under caution"
→ the Safety Car note); BM25 finds exact words the embedder blurs (driver names, "Hypersoft",
"VSC"). Reciprocal rank fusion (RRF) adds ``1 / (k + rank)`` over the ranked lists, so a document
near the top of either list rises without the two score scales having to agree.

A third list boosts documents about what the question names: :func:`parse_query` finds the
season, drivers and circuit, and a dense search restricted to them joins the fusion. Filters
passed explicitly (``filters={"season": 2023}``) are hard: nothing outside them is returned.

:class:`KnowledgeBase` ties an :class:`Embedder`, a :class:`VectorIndex` and the BM25 corpus
(persisted as JSON next to the index, rebuilt from the index's stored texts when missing).
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from f1analyzer.knowledge.documents import Document
from f1analyzer.knowledge.embeddings import Embedder, expand_abbreviations, get_embedder
from f1analyzer.knowledge.index import (
    Hit,
    VectorIndex,
    batched,
    get_vector_index,
    matches_filters,
    normalise_filters,
)
from f1analyzer.knowledge.query import ParsedQuery, parse_query
from f1analyzer.log import get_logger
from f1analyzer.config import get_settings

log = get_logger("knowledge.retrieval")

RRF_K = 60
CORPUS_FILE = "bm25_corpus.json"
CORPUS_VERSION = 1
_STOPWORDS = frozenset(
    "a an and are as at be by did do does for from had has have how i in is it its of on or "
    "that the this to was were what when where which who why will with would".split()
)
_WORD_RE = re.compile(r"[a-z0-9]+")
#: words that make a question about a whole season rather than one race
_SEASON_INTENT = re.compile(
    r"\b(season|championship|title|how many (races|wins|victories|times|podiums|safety cars|red "
    r"flags)|most (wins|races|victories|podiums)|wins per|per driver|per team|so far)\b",
    re.IGNORECASE)

ProgressCallback = Callable[[int, int], None]


def tokenize(text: str) -> list[str]:
    """Lower-case ASCII words without stop words or lone letters, plural 's' stripped, F1
    abbreviations expanded: "The SC came out; Pérez's tyres" → safety car came out perez tyre."""
    text = unicodedata.normalize("NFKD", expand_abbreviations(text))
    words = _WORD_RE.findall(text.encode("ascii", "ignore").decode().lower())
    out = []
    for w in words:
        if w in _STOPWORDS or (len(w) == 1 and w.isalpha()):
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = RRF_K,
                           weights: Sequence[float] | None = None) -> dict[str, float]:
    """RRF score per id: ``sum(weight / (k + rank))`` over the lists (rank starts at 1)."""
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (k + rank)
    return scores


class BM25Corpus:
    """Keyword index over every stored document (bm25s), persisted as a JSON corpus."""

    def __init__(self, docs: Sequence[Document]):
        import bm25s

        self.docs = list(docs)
        self._by_id = {d.id: d for d in self.docs}
        self._bm25 = None
        if self.docs:
            self._bm25 = bm25s.BM25()
            tokens = [tokenize(d.embedding_text()) or ["_empty_"] for d in self.docs]
            self._bm25.index(tokens, show_progress=False)
            self._vocab = set(self._bm25.vocab_dict)

    def __len__(self) -> int:
        return len(self.docs)

    def search(self, query: str, top_k: int, filters: dict[str, list]) -> list[str]:
        """Ids of the best keyword matches among documents passing ``filters`` (score > 0)."""
        if self._bm25 is None:
            return []
        q = [t for t in tokenize(query) if t in self._vocab]
        if not q:
            return []
        scores = np.asarray(self._bm25.get_scores(q), dtype=float)
        order = np.argsort(-scores, kind="stable")
        out: list[str] = []
        for i in order:
            if scores[i] <= 0 or len(out) >= top_k:
                break
            doc = self.docs[i]
            if matches_filters(doc.metadata, filters):
                out.append(doc.id)
        return out

    def get(self, doc_id: str) -> Document | None:
        return self._by_id.get(doc_id)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": CORPUS_VERSION, "documents": [asdict(d) for d in self.docs]}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "BM25Corpus | None":
        """The saved corpus, or None when missing, unreadable or of another version."""
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            if payload.get("version") != CORPUS_VERSION:
                return None
            return cls([Document(**d) for d in payload["documents"]])
        except (OSError, ValueError, TypeError, KeyError):
            return None


class DenseMirror:
    """Exact in-memory cosine search over a small index (vectors are unit rows: dot = cosine).

    LanceDB answers a query in a few milliseconds, and a hybrid search asks it up to three
    times; for the few hundred passages of the knowledge base a matrix product answers in
    microseconds with the same scores. The knowledge base loads a mirror with the BM25 corpus
    (so both are refreshed together when a build rewrites the index) when the index offers
    ``vectors()`` and holds at most :data:`MIRROR_MAX_DOCS` rows; otherwise it queries the index.
    """

    def __init__(self, ids: Sequence[str], matrix: np.ndarray, corpus: "BM25Corpus"):
        keep = [i for i, doc_id in enumerate(ids) if corpus.get(doc_id) is not None]
        self.docs = [corpus.get(ids[i]) for i in keep]
        self.matrix = np.ascontiguousarray(matrix[keep], dtype=np.float32)
        self._metadata = [d.metadata for d in self.docs]
        self._masks: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.docs)

    def _mask(self, filters: dict[str, list]) -> np.ndarray | None:
        if not filters:
            return None
        key = json.dumps(filters, sort_keys=True, default=str)
        mask = self._masks.get(key)
        if mask is None:
            mask = np.fromiter((matches_filters(m, filters) for m in self._metadata), dtype=bool,
                               count=len(self._metadata))
            if len(self._masks) > 4096:
                self._masks.clear()
            self._masks[key] = mask
        return mask

    def query(self, vector: np.ndarray, top_k: int, filters: dict[str, list]) -> list[Hit]:
        if not self.docs:
            return []
        scores = self.matrix @ np.asarray(vector, dtype=np.float32).reshape(-1)
        mask = self._mask(filters)
        idx = np.flatnonzero(mask) if mask is not None else np.arange(len(scores))
        if not len(idx):
            return []
        k = min(int(top_k), len(idx))
        sub = scores[idx]
        top = np.argpartition(-sub, k - 1)[:k]
        top = top[np.lexsort((top, -sub[top]))]
        out = []
        for j in top:
            doc = self.docs[idx[j]]
            out.append(Hit(id=doc.id, score=float(sub[j]), title=doc.title, text=doc.text,
                           metadata=self._metadata[idx[j]]))
        return out


MIRROR_MAX_DOCS = 50_000


@dataclass(frozen=True)
class BuildReport:
    """Outcome of :meth:`KnowledgeBase.build`: ``written`` new or changed, ``unchanged`` skipped."""

    written: int
    unchanged: int
    total: int


class KnowledgeBase:
    """Embedder + vector index + BM25 corpus, with hybrid search.

    Args:
        embedder: turns texts into unit vectors (default: MiniLM from settings).
        index: where vectors live (default: ``get_vector_index(settings)``).
        corpus_dir: directory of the persisted BM25 corpus (default ``settings.index_dir``).
        settings: the :class:`~f1analyzer.config.Settings` used for the defaults.

    Example:
        >>> kb = KnowledgeBase()
        >>> kb.build(rule_documents())
        >>> kb.search("why is a stop cheaper under the safety car?", top_k=3)
    """

    def __init__(self, embedder: Embedder | None = None, index: VectorIndex | None = None,
                 corpus_dir: str | Path | None = None, settings=None):
        if settings is None and (embedder is None or index is None or corpus_dir is None):
            settings = get_settings()
        self.embedder = embedder if embedder is not None else get_embedder(settings)
        self.index = index if index is not None else get_vector_index(
            settings, dim=self.embedder.dim)
        self.corpus_path = Path(corpus_dir if corpus_dir is not None
                                else settings.index_dir) / CORPUS_FILE
        self._corpus: BM25Corpus | None = None
        self._corpus_mtime_ns: int | None = None
        self._mirror: DenseMirror | None = None
        self._lock = threading.Lock()

    # --- building -----------------------------------------------------------------------------
    def build(self, docs: Sequence[Document], *, batch_size: int = 64,
              progress: ProgressCallback | None = None) -> BuildReport:
        """Embed and store documents that are new or changed; idempotent.

        Args:
            docs: documents to make searchable (ids must be unique).
            batch_size: documents embedded and upserted per batch.
            progress: called as ``progress(done, total)`` after each batch (e.g. a rich bar).
        """
        existing = self.index.content_hashes()
        todo = [d for d in docs if existing.get(d.id) != d.content_hash]
        written = 0
        for batch in batched(todo, batch_size):
            vectors = self.embedder.encode([d.embedding_text() for d in batch])
            written += self.index.upsert(list(batch), vectors)
            if progress is not None:
                progress(written, len(todo))
        if progress is not None and not todo:
            progress(0, 0)
        corpus = BM25Corpus(self.index.documents())
        corpus.save(self.corpus_path)
        mirror = self._load_mirror(corpus)
        with self._lock:
            self._corpus = corpus
            self._mirror = mirror
            self._corpus_mtime_ns = self._corpus_file_mtime()
        log.info("knowledge base: %d written, %d unchanged, %d stored", written,
                 len(docs) - len(todo), len(corpus))
        return BuildReport(written=written, unchanged=len(docs) - len(todo), total=len(corpus))

    def corpus(self) -> BM25Corpus:
        """The BM25 corpus: loaded from disk, reloaded when another process rewrote the file
        (an ``index build`` while the API runs), or rebuilt from the index's stored texts."""
        with self._lock:
            mtime = self._corpus_file_mtime()
            if self._corpus is None or mtime != self._corpus_mtime_ns:
                corpus = BM25Corpus.load(self.corpus_path)
                if corpus is None:
                    log.info("BM25 corpus missing at %s; rebuilding from the index",
                             self.corpus_path)
                    corpus = BM25Corpus(self.index.documents())
                    if len(corpus):
                        corpus.save(self.corpus_path)
                self._mirror = self._load_mirror(corpus)
                self._corpus = corpus
                self._corpus_mtime_ns = self._corpus_file_mtime()
            return self._corpus

    def _load_mirror(self, corpus: BM25Corpus) -> DenseMirror | None:
        """An in-memory copy of a small index's vectors (None: query the index itself)."""
        vectors = getattr(self.index, "vectors", None)
        if vectors is None or not len(corpus) or len(corpus) > MIRROR_MAX_DOCS:
            return None
        ids, matrix = vectors()
        return DenseMirror(ids, matrix, corpus) if len(ids) else None

    def _dense(self, vector: np.ndarray, top_k: int, filters: dict[str, list]) -> list[Hit]:
        mirror = self._mirror
        if mirror is not None:
            return mirror.query(vector, top_k, filters)
        return self.index.query(vector, top_k=top_k, filters=filters)

    def _corpus_file_mtime(self) -> int | None:
        try:
            return self.corpus_path.stat().st_mtime_ns
        except OSError:
            return None

    # --- searching ----------------------------------------------------------------------------
    def search(self, query: str, top_k: int = 5, filters: dict | None = None) -> list[Hit]:
        """Hybrid search: dense + BM25 + entity boost, fused with RRF.

        Args:
            query: free-text question.
            top_k: number of hits returned.
            filters: hard metadata filters (``season``, ``round``, ``event``, ``circuit``,
                ``kind``, ``driver``); a value may be a list (any of).

        Returns:
            Hits best first; ``score`` is the fused RRF score.
        """
        hard = normalise_filters(filters)
        parsed = parse_query(query)
        n_candidates = max(4 * top_k, 20)
        vector = self.embedder.encode([query])[0]
        corpus = self.corpus()  # (re)loads the in-memory mirror with the corpus

        dense = self._dense(vector, n_candidates, hard)
        by_id: dict[str, Hit] = {h.id: h for h in dense}
        rankings = [[h.id for h in dense]]
        weights = [1.0]

        rankings.append(corpus.search(query, n_candidates, hard))
        weights.append(1.0)

        boost = self._entity_hits(vector, parsed, hard, n_candidates)
        if boost:
            for h in boost:
                by_id.setdefault(h.id, h)
            rankings.append([h.id for h in boost])
            weights.append(1.0)

        if (parsed.seasons and not parsed.circuit and "kind" not in hard
                and _SEASON_INTENT.search(query)):
            # "how many races did X win in 2023?" is about the season, not one of its races
            season_hits = self._dense(vector, n_candidates,
                                      {**hard, "kind": ["season"], "season": list(parsed.seasons)})
            for h in season_hits:
                by_id.setdefault(h.id, h)
            rankings.append([h.id for h in season_hits])
            weights.append(1.0)

        fused = reciprocal_rank_fusion(rankings, weights=weights)
        ordered = sorted(fused, key=lambda i: (-fused[i], i))[:top_k]
        hits = []
        for doc_id in ordered:
            hit = by_id.get(doc_id)
            if hit is None:
                doc = corpus.get(doc_id)
                if doc is None:
                    continue
                hit = Hit(id=doc.id, score=0.0, title=doc.title, text=doc.text,
                          metadata=doc.metadata)
            hits.append(Hit(id=hit.id, score=fused[doc_id], title=hit.title, text=hit.text,
                            metadata=hit.metadata))
        return hits

    def _entity_hits(self, vector: np.ndarray, parsed: ParsedQuery, hard: dict[str, list],
                     n: int) -> list[Hit]:
        """Dense hits restricted to what the question names (all entities, else each one)."""
        entities = {k: v for k, v in parsed.as_filters().items() if k not in hard}
        if not entities:
            return []
        hits = self._dense(vector, n, {**hard, **entities})
        if hits or len(entities) == 1:
            return hits
        merged: dict[str, Hit] = {}
        for key, values in entities.items():
            for h in self._dense(vector, n, {**hard, key: values}):
                if h.id not in merged or h.score > merged[h.id].score:
                    merged[h.id] = h
        return sorted(merged.values(), key=lambda h: -h.score)

    # --- status -------------------------------------------------------------------------------
    def count(self) -> int:
        return self.index.count()

    def healthy(self) -> bool:
        return self.index.healthy()
