"""Answering a question: hybrid retrieval + narration, as plain data.

:func:`answer_query` is what ``POST /query``, ``f1analyzer query`` and the Lambda handler (through
the API) call. It validates the filters, retrieves the best passages, has the narrator answer from
them only (offline writer by default; an LLM when configured, checked and with fallback) and
returns a JSON-able dict. Answers are cached by the normalised request (question, ``top_k``,
filters, narrator, index version), so a rebuilt index never serves stale answers.

The API side: :func:`ensure_index_async` builds the index in a background thread when it is missing
(``/health`` keeps answering meanwhile) and warms the embedder; :func:`vector_database_ok` and
:func:`narration_ok` are the ``/health`` checks.
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from f1analyzer.app.requests import QueryRequest
from f1analyzer.backends.cache import make_key
from f1analyzer.config import get_settings
from f1analyzer.data.circuits import CIRCUITS, normalise, resolve_circuit
from f1analyzer.errors import BackendUnavailableError, ConfigError, InvalidRequestError, NotFoundError
from f1analyzer.knowledge.build import (
    build_index,
    collect_documents,
    get_knowledge_base,
    replace_knowledge_base,
)
from f1analyzer.knowledge.index import LanceDBIndex, aside_dir, swap_in
from f1analyzer.knowledge.index import source_dict  # noqa: F401 - re-exported (answers' sources)
from f1analyzer.knowledge.retrieval import KnowledgeBase
from f1analyzer.knowledge.query import DRIVER_CODE_SET, DRIVER_CODES
from f1analyzer.log import get_logger
from f1analyzer.narration import NarrationRequest, get_narrator, narrate_checked

log = get_logger("knowledge.service")

CACHE_NAMESPACE = "query"
#: the filters ``/query`` accepts (``event`` is an event name, circuit or location)
QUERY_FILTERS = ("season", "event", "driver")
_EVENTS = {normalise(e): e for c in CIRCUITS for e in c.events}


# ------------------------------------------------------------------------------- filters
def normalise_query(text: str) -> str:
    """Whitespace collapsed and trailing punctuation dropped (the cache key's question)."""
    return " ".join(str(text).split()).rstrip("?!. ").lower()


def query_filters(filters: dict | None) -> dict:
    """``{"season", "event", "driver"}`` from a request → index filters.

    ``event`` may be an event name ("Hungarian Grand Prix", "Italian GP") — it then filters on the
    event — or a circuit, location or country ("Monza", "Hungary") — it then filters on the circuit,
    which keeps the circuit profile too. ``driver`` is a three-letter code or a surname.

    Raises:
        InvalidRequestError: an unknown filter key.
        NotFoundError: an event or driver nobody knows (with suggestions).
    """
    out: dict = {}
    for key, value in (filters or {}).items():
        if value is None or value == "":
            continue
        if key not in QUERY_FILTERS:
            raise InvalidRequestError(
                f"Unknown filter {key!r}; valid filters: {', '.join(QUERY_FILTERS)}.")
        if key == "season":
            try:
                out["season"] = int(value)
            except (TypeError, ValueError) as exc:
                raise InvalidRequestError(f"Filter 'season' needs a year, got {value!r}.") from exc
        elif key == "event":
            text = str(value).strip()
            norm = normalise(text).replace(" gp", " grand prix")
            event = _EVENTS.get(norm) or _EVENTS.get(f"{norm} grand prix")
            if event is not None:
                out["event"] = event
            else:
                circuit = resolve_circuit(text)
                if circuit is None:
                    raise NotFoundError.with_suggestions("event", text, sorted(set(_EVENTS.values())))
                out["circuit"] = circuit
        elif key == "driver":
            text = str(value).strip()
            code = text.upper() if text.upper() in DRIVER_CODE_SET else DRIVER_CODES.get(
                normalise(text))
            if code is None:
                raise NotFoundError.with_suggestions(
                    "driver", text, sorted(DRIVER_CODE_SET) + sorted(DRIVER_CODES))
            out["driver"] = code
    return out


# ------------------------------------------------------------------------------- answering
def index_version(kb) -> int:
    """Changes whenever the index is rebuilt (the BM25 corpus file is rewritten by every build)."""
    try:
        return kb.corpus_path.stat().st_mtime_ns
    except OSError:
        return 0


def answer_query(request: QueryRequest | dict, *, settings=None, kb=None, narrator=None,
                 cache=None) -> dict:
    """Answer a question from the knowledge base.

    Args:
        request: :class:`~.requests.QueryRequest` (``query``, ``top_k``, ``filters``: season,
            event, driver — all optional and hard: nothing outside them is returned).
        settings: :class:`~f1analyzer.config.Settings` (default ``get_settings()``).
        kb: the :class:`~f1analyzer.knowledge.retrieval.KnowledgeBase` (default
            ``get_knowledge_base(settings)``).
        narrator: default ``narration.get_narrator(settings)`` (the offline writer unless an LLM
            is configured).
        cache: a :class:`~f1analyzer.backends.cache.Cache` or the API's ``ResponseCache``; None
            answers without caching.

    Returns:
        ``{"answer", "sources": [{"id", "kind", "season", "round", "event", "title", "score",
        "snippet"}], "provider", "model", "usage": {"input_tokens", "output_tokens"},
        "fallback_reason", "cached", "latency_ms"}``.

    Raises:
        InvalidRequestError: the request is out of bounds (an empty question, ``top_k``...).
        NotFoundError: unknown event or driver in the filters.
        BackendUnavailableError: the index is missing, empty or unreadable.
    """
    t0 = time.perf_counter()
    req = QueryRequest.of(request)
    text = " ".join(req.query.split())
    index_filters = query_filters(req.filters.model_dump(exclude_none=True) if req.filters else None)
    top_k = req.top_k
    if settings is None:
        settings = get_settings()
    if kb is None:
        kb = get_knowledge_base(settings)
    narrator = narrator if narrator is not None else get_narrator(settings)
    payload = {"query": normalise_query(text), "top_k": int(top_k), "filters": index_filters,
               "narrator": [narrator.name, getattr(narrator, "model", None) or ""],
               "index": index_version(kb)}
    hit = _cache_get(cache, payload)
    if hit is not None:
        return {**hit, "cached": True, "latency_ms": _ms(t0)}

    hits = kb.search(text, top_k=int(top_k), filters=index_filters)
    if not hits and not index_filters and kb.count() == 0:
        raise BackendUnavailableError(
            "The knowledge index is empty; build it with `f1analyzer index` (or wait for the "
            "server's start-up build to finish).", details={"backend": "knowledge"})
    narration = narrate_checked(NarrationRequest(question=text, sources=hits), narrator, settings)
    out = {
        "answer": narration.text,
        "sources": [source_dict(h) for h in hits],
        "provider": narration.provider,
        "model": narration.model,
        "usage": {"input_tokens": narration.usage.input_tokens,
                  "output_tokens": narration.usage.output_tokens},
        "fallback_reason": narration.fallback_reason,
    }
    if narration.fallback_reason is None:  # an LLM outage must not pin the fallback text
        _cache_set(cache, payload, out, settings)
    return {**out, "cached": False, "latency_ms": _ms(t0)}


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


def _cache_get(cache, payload: dict):
    if cache is None:
        return None
    if hasattr(cache, "get_or_compute"):  # api.caching.ResponseCache: records hit/miss metrics
        return cache.get(CACHE_NAMESPACE, payload)
    try:
        return cache.get(make_key(CACHE_NAMESPACE, payload))
    except Exception as exc:  # noqa: BLE001 - a cache never fails a request
        log.warning("query cache get failed: %s", exc)
        return None


def _cache_set(cache, payload: dict, value: dict, settings) -> None:
    if cache is None:
        return
    if hasattr(cache, "get_or_compute"):
        cache.set(CACHE_NAMESPACE, payload, value)
        return
    try:
        cache.set(make_key(CACHE_NAMESPACE, payload), value, settings.cache_ttl_s)
    except Exception as exc:  # noqa: BLE001
        log.warning("query cache set failed: %s", exc)


# ------------------------------------------------------------------------------- evaluation
def retrieval_metrics(kb, questions: list[dict], k: int = 5) -> dict:
    """Recall@k and MRR of ``kb.search`` over ``[{"question", "relevant": [ids]}]``.

    recall@k averages, per question, the share of its relevant ids found in the top k; MRR
    averages 1 / rank of the first relevant id (0 when none is in the top k). ``misses`` lists
    the questions with no relevant id in the top k.
    """
    recalls, rr, misses = [], [], []
    for q in questions:
        ids = [h.id for h in kb.search(q["question"], top_k=k)]
        relevant = set(q["relevant"])
        recalls.append(len(relevant & set(ids)) / len(relevant))
        rank = next((i for i, doc_id in enumerate(ids, start=1) if doc_id in relevant), None)
        rr.append(1.0 / rank if rank else 0.0)
        if rank is None:
            misses.append({"question": q["question"], "relevant": q["relevant"], "got": ids})
    n = max(len(questions), 1)
    return {"questions": len(questions), "k": k, "recall_at_k": round(sum(recalls) / n, 4),
            "mrr": round(sum(rr) / n, 4), "misses": misses}


# ------------------------------------------------------------------------------- server wiring
@dataclass
class IndexStatus:
    """Where the server's knowledge index stands (``Services.index``)."""

    status: str = "unknown"  #: unknown | building | ready | failed
    error: str | None = None
    started_at: float = field(default_factory=time.monotonic)
    report: dict | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {"status": self.status, "error": self.error, "report": self.report}


def index_status(services) -> IndexStatus | None:
    """The start-up build's status held by the application's :class:`~.services.Services`."""
    return services.index


def ensure_index(settings, *, store=None, warm: bool = True) -> dict | None:
    """Build the index when it is missing or empty (idempotent); warm the embedder and the BM25
    corpus. Returns the build report as a dict, or None when nothing had to be built."""
    kb = get_knowledge_base(settings)
    report = None
    if kb.count() == 0:
        log.info("knowledge index missing at %s: building it", settings.index_dir)
        report = asdict(build_index(settings, store=store))
    if warm:
        kb.search("safety car pit stop", top_k=1)  # loads MiniLM, the table and the corpus
    return report


def ensure_index_async(services, *, warm: bool = True) -> threading.Thread:
    """Start :func:`ensure_index` in a daemon thread; ``/health`` answers meanwhile.

    The API lifespan calls it after start-up. Progress is in ``services.index``
    (:class:`IndexStatus`); ``/query`` answers 503 while it
    builds and :func:`vector_database_ok` is False until the index answers a query.
    """
    current = index_status(services)
    if current is not None and current.thread is not None and current.thread.is_alive():
        return current.thread
    status = IndexStatus(status="building")

    def run() -> None:
        try:
            status.report = ensure_index(services.settings, store=services.store, warm=False)
            status.status = "ready"
            log.info("knowledge index ready%s", f" (built: {status.report})" if status.report else "")
            if warm:  # load MiniLM now rather than on the first question
                get_knowledge_base(services.settings).search("safety car pit stop", top_k=1)
        except Exception as exc:  # noqa: BLE001 - reported by /health and /query
            status.status = "failed" if status.status == "building" else status.status
            status.error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            log.warning("knowledge index not available: %s", status.error)

    status.thread = threading.Thread(target=run, name="f1a-knowledge-index", daemon=True)
    services.index = status
    status.thread.start()
    return status.thread


def rebuild_index_aside(settings, *, store=None, check=None) -> dict:
    """``POST /admin/reindex``: build a complete new index next to the served one, then swap it in.

    The served index keeps answering ``/query`` during the build (or, when it was deleted, the
    query answers 503 as before); a deleted or corrupted index is repaired because nothing of it
    is reused except vectors that still read back with an unchanged content hash (saves embedding
    them again). The new directory is checked (its document count) before an atomic exchange
    with the old one; then this process serves it and other workers reopen it on their next read.
    ``check`` (the job's stop check) runs between batches: a stopped build leaves only the old
    index (the aside directory is removed).

    Pinecone (a remote index) is rebuilt in place: its upserts are idempotent per document.
    """
    if settings.vector_backend != "lancedb":
        return asdict(build_index(settings, store=store))
    serving = get_knowledge_base(settings)
    embedder = serving.embedder
    docs = collect_documents(settings, store=store)
    if check is not None:
        check()
    index_dir = settings.index_dir
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    aside = aside_dir(index_dir)
    try:
        fresh = KnowledgeBase(embedder=embedder, index=LanceDBIndex(aside / "lancedb", dim=embedder.dim),
                              corpus_dir=aside)
        reused = _reuse_vectors(index_dir, fresh, docs, embedder.dim)
        report = fresh.build(docs, progress=(lambda _done, _total: check()) if check else None)
        if fresh.count() != len({d.id for d in docs}):
            raise BackendUnavailableError(
                f"the rebuilt index holds {fresh.count()} documents, expected {len(docs)}; the "
                "served index was left as it was", details={"backend": "lancedb"})
        if check is not None:
            check()
        swap_in(aside, index_dir)
    finally:
        if aside.exists():
            shutil.rmtree(aside, ignore_errors=True)
    replace_knowledge_base(settings, KnowledgeBase(embedder=embedder, settings=settings))
    log.info("knowledge index rebuilt aside and swapped in: %s (%d vectors reused)", report, reused)
    return {**asdict(report), "reused_vectors": reused, "rebuilt": True}


def _reuse_vectors(index_dir, fresh: KnowledgeBase, docs, dim: int) -> int:
    """Copy the vectors of unchanged documents from the old index into ``fresh``; 0 when the old
    index is missing or unreadable (then everything is embedded again)."""
    try:
        old = LanceDBIndex(index_dir / "lancedb", dim=dim)
        hashes = old.content_hashes()
        ids, matrix = old.vectors()
    except Exception as exc:  # noqa: BLE001 - a corrupt old index is what a rebuild repairs
        log.warning("old knowledge index unreadable (%s); embedding every document", exc)
        return 0
    row = {doc_id: i for i, doc_id in enumerate(ids)}
    same = [d for d in docs if hashes.get(d.id) == d.content_hash and d.id in row]
    if not same:
        return 0
    return fresh.index.upsert(same, matrix[[row[d.id] for d in same]])


def require_index_ready(services) -> None:
    """Raise a clear 503 while the start-up build runs (or after it failed)."""
    status = index_status(services)
    if status is None:
        return
    if status.status == "building":
        waited = time.monotonic() - status.started_at
        raise BackendUnavailableError(
            f"The knowledge index is being built (started {waited:.0f} s ago); retry shortly.",
            details={"backend": "knowledge", "status": "building"})


_PROBE: dict[int, np.ndarray] = {}


def vector_database_ok(services) -> bool:
    """Health check: the knowledge index answers a query (False while it is being built).

    Queries the index with a fixed unit vector, so the check never waits for the embedding model.
    """
    status = index_status(services)
    if status is not None and status.status == "building":
        return False
    kb = get_knowledge_base(services.settings)
    dim = int(getattr(kb.embedder, "dim", 384))
    probe = _PROBE.get(dim)
    if probe is None:
        probe = np.zeros(dim, dtype=np.float32)
        probe[0] = 1.0
        _PROBE[dim] = probe
    try:
        return bool(kb.index.query(probe, top_k=1))
    except Exception as exc:  # noqa: BLE001
        log.debug("vector database check failed: %s", exc)
        return False


def narration_ok(services) -> bool:
    """Health check: a narrator can be built from the settings (the offline writer always can;
    an LLM provider needs its key or URL). It does not call the LLM: a failing LLM falls back to
    the offline writer, so narration keeps working."""
    try:
        get_narrator(services.settings)
    except ConfigError as exc:
        log.debug("narration check failed: %s", exc.message)
        return False
    return True
