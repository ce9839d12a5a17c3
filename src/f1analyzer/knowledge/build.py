"""Building the knowledge base from everything the project knows.

``build_index(settings)`` is what ``f1analyzer train --init-vectordb``, the CLI index command and
the API's re-index job call. It gathers the documents (the sporting-rule notes and the race, circuit
and season documents written from the race store and the fitted models, see ``writers``),
embeds what is new or changed and stores it in the configured vector index. Running it twice
writes nothing the second time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from f1analyzer.knowledge.documents import Document, rule_documents
from f1analyzer.knowledge.retrieval import BuildReport, KnowledgeBase, ProgressCallback
from f1analyzer.log import get_logger
from f1analyzer.knowledge import writers, writers_bundled
from f1analyzer.config import get_settings
from f1analyzer.data.store import RaceStore
from f1analyzer.knowledge.writers_bundled import PrecomputedEmbedder

log = get_logger("knowledge.build")

_KB_LOCK = threading.Lock()
_KB_CACHE: dict[tuple, KnowledgeBase] = {}


def collect_documents(settings=None, *, store=None) -> list[Document]:
    """Every document of the knowledge base: rule notes plus race, circuit and season passages.

    With an empty race store the passages shipped in the package are used as they are (a fresh
    install answers questions about 2018–2024). Otherwise the races of the store are reduced to
    facts, laid over the bundled facts (a stored race replaces the bundled one with the same
    season and round) and every passage is written again with the active race models.
    """

    if settings is None:
        settings = get_settings()
    if store is None:
        store = RaceStore(settings.store_dir)
    rules = rule_documents()
    if store.is_empty():
        bundled = writers_bundled.bundled_documents()
        log.info("race store empty: %d bundled knowledge documents", len(bundled))
        return rules + bundled
    stored = writers.race_facts(store)
    facts = {(f["season"], f["round"]): f for f in writers_bundled.bundled_facts()}
    facts.update({(f["season"], f["round"]): f for f in stored})
    docs = writers.write_documents([facts[k] for k in sorted(facts)],
                                   writers.current_race_models_or_none(settings))
    log.info("knowledge documents: %d races from the store, %d in all", len(stored),
             len(docs) + len(rules))
    return rules + docs


def build_index(settings=None, *, progress: ProgressCallback | None = None, store=None,
                docs: Sequence[Document] | None = None, rebuild: bool = False) -> BuildReport:
    """Embed and store the knowledge base in the configured index; idempotent.

    Args:
        settings: :class:`~f1analyzer.config.Settings` (default ``get_settings()``).
        progress: ``progress(done, total)`` after each embedded batch.
        store: the race store the document writers read (default ``settings.store_dir``).
        docs: build exactly these documents instead of :func:`collect_documents`.
        rebuild: clear the index first (e.g. after changing the embedding model).
    """
    kb = get_knowledge_base(settings)
    if rebuild:
        kb.index.delete_all()
    documents = list(docs) if docs is not None else collect_documents(settings, store=store)
    report = kb.build(documents, progress=progress)
    log.info("knowledge index: %s", report)
    return report


def get_knowledge_base(settings=None) -> KnowledgeBase:
    """The process-wide :class:`KnowledgeBase` for these settings (one per index location)."""
    if settings is None:
        settings = get_settings()
    key = (settings.vector_backend, str(settings.index_dir), settings.pinecone_index,
           settings.pinecone_namespace, settings.embedding_threads)
    with _KB_LOCK:
        kb = _KB_CACHE.get(key)
        if kb is None:
            kb = KnowledgeBase(embedder=_default_embedder(settings), settings=settings)
            _KB_CACHE[key] = kb
        return kb


def _default_embedder(settings):
    """MiniLM, answering the passages shipped with the package from their bundled vectors."""
    # loads torch and the MiniLM model only when embedding
    from f1analyzer.knowledge.embeddings import MiniLMEmbedder, get_embedder

    base = get_embedder(settings)
    if isinstance(base, MiniLMEmbedder) and base.expand:
        return PrecomputedEmbedder(base)
    return base


def replace_knowledge_base(settings, kb: KnowledgeBase) -> None:
    """Serve ``kb`` from now on for these settings (after an index was rebuilt aside and swapped
    in: the next ``get_knowledge_base`` opens the new files)."""
    key = (settings.vector_backend, str(settings.index_dir), settings.pinecone_index,
           settings.pinecone_namespace, settings.embedding_threads)
    with _KB_LOCK:
        _KB_CACHE[key] = kb
