"""Building the knowledge base from everything the project knows.

``build_index(settings)`` is what ``f1analyzer train --init-vectordb``, the CLI index command and
the API's re-index job call. It gathers the documents (today the sporting-rule notes; in phase 2
also the race, circuit and season documents written from the race store and the fitted models),
embeds what is new or changed and stores it in the configured vector index. Running it twice
writes nothing the second time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from f1analyzer.knowledge.documents import Document, rule_documents
from f1analyzer.knowledge.retrieval import BuildReport, KnowledgeBase, ProgressCallback
from f1analyzer.log import get_logger

log = get_logger("knowledge.build")

_KB_LOCK = threading.Lock()
_KB_CACHE: dict[tuple, KnowledgeBase] = {}


def collect_documents(settings=None, *, store=None) -> list[Document]:
    """Every document of the knowledge base (rule notes; race/circuit/season docs in phase 2)."""
    docs = rule_documents()
    return docs


def build_index(settings=None, *, progress: ProgressCallback | None = None, store=None,
                docs: Sequence[Document] | None = None, rebuild: bool = False) -> BuildReport:
    """Embed and store the knowledge base in the configured index; idempotent.

    Args:
        settings: :class:`~f1analyzer.config.Settings` (default ``get_settings()``).
        progress: ``progress(done, total)`` after each embedded batch.
        store: the race store the phase-2 document writers read (unused until then).
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
        from f1analyzer.config import get_settings

        settings = get_settings()
    key = (settings.vector_backend, str(settings.index_dir), settings.pinecone_index,
           settings.pinecone_namespace, settings.embedding_threads)
    with _KB_LOCK:
        kb = _KB_CACHE.get(key)
        if kb is None:
            kb = KnowledgeBase(settings=settings)
            _KB_CACHE[key] = kb
        return kb
