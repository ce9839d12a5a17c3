"""Pinecone serverless vector index, through the official ``pinecone`` SDK (v10, 2026-07 API).

The index is a schema-based *document* index with one dense field, ``embedding`` (cosine), and
every other document key stored as metadata: ``title``, ``text``, ``kind``, ``season``,
``round``, ``event``, ``circuit``, ``drivers`` (string list) and ``content_hash``. It is created
on first use when missing (managed deployment on ``settings.pinecone_cloud`` /
``settings.pinecone_region``) and every call works in ``settings.pinecone_namespace``.

Writes go in batches of 100 documents. Connection errors and timeouts are retried with
exponential backoff (tenacity) on top of the SDK's own retries of 429/5xx answers; when they run
out the caller gets :class:`~f1analyzer.errors.BackendUnavailableError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from f1analyzer.errors import BackendUnavailableError
from f1analyzer.knowledge.documents import Document
from f1analyzer.knowledge.index import (
    Hit,
    _check_vectors,
    batched,
    changed_only,
    normalise_filters,
)
from f1analyzer.log import get_logger

log = get_logger("knowledge.pinecone")

T = TypeVar("T")
UPSERT_BATCH = 100
FETCH_BATCH = 100
VECTOR_FIELD = "embedding"
STORED_FIELDS = ["title", "text", "kind", "season", "round", "event", "circuit", "drivers"]


def pinecone_filter(filters: dict | None) -> dict | None:
    """Pinecone filter syntax for normalised filters.

    ``{"season": [2023], "driver": ["VER", "HAM"]}`` →
    ``{"$and": [{"season": {"$eq": 2023}}, {"drivers": {"$in": ["VER", "HAM"]}}]}``.
    A ``$in`` on the ``drivers`` string list matches documents that list any of the codes.
    """
    clauses = []
    for key, values in normalise_filters(filters).items():
        field = "drivers" if key == "driver" else key
        if len(values) == 1 and key != "driver":
            clauses.append({field: {"$eq": values[0]}})
        else:
            clauses.append({field: {"$in": list(values)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _is_transient(exc: BaseException) -> bool:
    from pinecone.errors.exceptions import (
        PineconeConnectionError,
        PineconeTimeoutError,
        RateLimitError,
        ServiceError,
    )

    return isinstance(exc, (PineconeConnectionError, PineconeTimeoutError, ServiceError,
                            RateLimitError, ConnectionError, TimeoutError))


class PineconeIndex:
    """Vector index on Pinecone serverless.

    Args:
        api_key: Pinecone API key (``PINECONE_API_KEY``).
        index_name: index to use, created when missing.
        namespace: namespace every read and write uses.
        dim: vector width.
        cloud, region: where a missing index is created.
        host: the index's data-plane host; when None it is looked up by name.
        controller_host: control-plane URL; None uses the SDK default (or
            ``PINECONE_CONTROLLER_HOST``).
        timeout_s: per-request timeout.
        retries: attempts (tenacity) for connection errors, on top of the SDK's own retries.
        backoff_s: first backoff delay; it doubles per attempt.
        sdk_retries: the SDK's own retries of 408/429/5xx answers per attempt on the control
            plane (pinecone 10.2 gives the data-plane client a fixed 3 retries).
    """

    def __init__(self, *, api_key: str, index_name: str, namespace: str = "default",
                 dim: int = 384, cloud: str = "aws", region: str = "us-east-1",
                 host: str | None = None, controller_host: str | None = None,
                 timeout_s: float = 10.0, retries: int = 4, backoff_s: float = 0.5,
                 sdk_retries: int = 3):
        if not api_key:
            raise BackendUnavailableError(
                "The Pinecone backend needs PINECONE_API_KEY (or set F1A_VECTOR_BACKEND=lancedb)."
            )
        self.api_key = api_key
        self.index_name = index_name
        self.namespace = namespace
        self.dim = dim
        self.cloud = cloud
        self.region = region
        self.host = host
        self.controller_host = controller_host
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.sdk_retries = sdk_retries
        self._pc = None
        self._index = None

    @classmethod
    def from_settings(cls, settings, *, dim: int = 384) -> "PineconeIndex":
        return cls(
            api_key=settings.secret("pinecone_api_key") or "",
            index_name=settings.pinecone_index,
            namespace=settings.pinecone_namespace,
            dim=dim,
            cloud=settings.pinecone_cloud,
            region=settings.pinecone_region,
            host=settings.pinecone_host,
            controller_host=os.environ.get("PINECONE_CONTROLLER_HOST") or None,
        )

    # --- plumbing -----------------------------------------------------------------------------
    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` with exponential-backoff retries on transient errors."""
        wrapped = retry(
            retry=retry_if_exception(_is_transient),
            stop=stop_after_attempt(max(1, self.retries)),
            wait=wait_exponential(multiplier=self.backoff_s, max=8.0),
            reraise=True,
        )(fn)
        try:
            return wrapped()
        except BackendUnavailableError:
            raise
        except Exception as exc:  # noqa: BLE001 - every SDK failure becomes one error type
            raise BackendUnavailableError(
                f"Pinecone {what} failed for index {self.index_name!r}: "
                f"{type(exc).__name__}: {exc}",
                details={"backend": "pinecone", "index": self.index_name},
            ) from exc

    def _client(self):
        if self._pc is None:
            from pinecone import Pinecone, RetryConfig

            self._pc = Pinecone(api_key=self.api_key, host=self.controller_host,
                                timeout=self.timeout_s,
                                retry_config=RetryConfig(max_retries=self.sdk_retries,
                                                         backoff_factor=min(0.25, self.backoff_s)))
        return self._pc

    def ensure_index(self) -> str:
        """Create the serverless index when it does not exist; returns its data-plane host."""
        from pinecone.errors.exceptions import NotFoundError

        pc = self._client()

        def describe_or_create():
            try:
                return pc.indexes.describe(self.index_name)
            except NotFoundError:
                log.info("creating Pinecone index %r (%s/%s, dim %d)", self.index_name,
                         self.cloud, self.region, self.dim)
                return pc.indexes.create(
                    name=self.index_name,
                    schema={"fields": {VECTOR_FIELD: {"type": "dense_vector",
                                                      "dimension": self.dim,
                                                      "metric": "cosine"}}},
                    deployment={"deployment_type": "managed", "cloud": self.cloud,
                                "region": self.region},
                    timeout=int(max(self.timeout_s * 6, 60)),
                )

        model = self._call("describe/create index", describe_or_create)
        return self.host or model.host

    def _data(self):
        if self._index is None:
            host = self.ensure_index()
            self._index = self._client().index(host=host)
        return self._index

    # --- VectorIndex --------------------------------------------------------------------------
    def upsert(self, docs: Sequence[Document], vectors: np.ndarray) -> int:
        """Write new or changed documents in batches of 100; returns the number written."""
        vectors = _check_vectors(docs, vectors, self.dim)
        docs, vectors = changed_only(docs, vectors, self.content_hashes())
        if not docs:
            return 0
        idx = self._data()
        records = [_record(d, v) for d, v in zip(docs, vectors)]
        for batch in batched(records, UPSERT_BATCH):
            self._call("upsert", lambda b=batch: idx.documents.upsert(
                namespace=self.namespace, documents=list(b)))
        log.info("upserted %d documents into Pinecone %s/%s", len(records), self.index_name,
                 self.namespace)
        return len(records)

    def query(self, vector: np.ndarray, top_k: int = 5, filters: dict | None = None) -> list[Hit]:
        """Nearest documents by cosine similarity, after the metadata filter."""
        from pinecone import DenseVectorQuery

        idx = self._data()
        values = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
        response = self._call("search", lambda: idx.documents.search(
            namespace=self.namespace,
            top_k=int(top_k),
            score_by=[DenseVectorQuery(field=VECTOR_FIELD, values=values)],
            include_fields=STORED_FIELDS,
            filter=pinecone_filter(filters),
        ))
        hits = []
        for match in response.matches:
            doc = _document_from_fields(match.id, _fields(match))
            hits.append(Hit(id=doc.id, score=float(match.score), title=doc.title, text=doc.text,
                            metadata=doc.metadata))
        return hits

    def ids(self) -> list[str]:
        idx = self._data()

        def list_ids():
            return sorted(r.id for r in idx.documents.list(namespace=self.namespace))

        return self._call("list", list_ids)

    def count(self) -> int:
        """Documents in the namespace (from the index stats, which Pinecone updates lazily)."""
        idx = self._data()
        stats = self._call("describe_index_stats", lambda: idx.describe_index_stats())
        summary = (stats.namespaces or {}).get(self.namespace)
        return int(summary.vector_count) if summary is not None else 0

    def _fetch(self, ids: list[str], fields: list[str]) -> dict[str, dict]:
        idx = self._data()
        out: dict[str, dict] = {}
        for batch in batched(ids, FETCH_BATCH):
            response = self._call("fetch", lambda b=batch: idx.documents.fetch(
                namespace=self.namespace, ids=list(b), include_fields=fields))
            for doc_id, doc in response.documents.items():
                out[doc_id] = _fields(doc)
        return out

    def content_hashes(self) -> dict[str, str]:
        ids = self.ids()
        fetched = self._fetch(ids, ["content_hash"]) if ids else {}
        return {i: f.get("content_hash", "") for i, f in fetched.items()}

    def documents(self) -> list[Document]:
        ids = self.ids()
        fetched = self._fetch(ids, STORED_FIELDS) if ids else {}
        return [_document_from_fields(i, fetched[i]) for i in sorted(fetched)]

    def delete_all(self) -> None:
        from pinecone.errors.exceptions import NotFoundError

        idx = self._data()

        def delete():
            try:
                idx.documents.delete(namespace=self.namespace, delete_all=True)
            except NotFoundError:  # the namespace does not exist yet: nothing to delete
                pass

        self._call("delete", delete)

    def healthy(self) -> bool:
        try:
            self._data().describe_index_stats(timeout=min(self.timeout_s, 3.0))
            return True
        except Exception as exc:  # noqa: BLE001
            log.warning("Pinecone index %r unhealthy: %s", self.index_name, exc)
            return False

    def close(self) -> None:
        """Close the SDK's HTTP connections."""
        for obj in (self._index, self._pc):
            close = getattr(obj, "close", None)
            if close is not None:
                close()
        self._index = None
        self._pc = None


def _record(doc: Document, vector: np.ndarray) -> dict[str, Any]:
    record: dict[str, Any] = {"_id": doc.id, VECTOR_FIELD: vector.astype(float).tolist(),
                              "title": doc.title, "text": doc.text,
                              "content_hash": doc.content_hash}
    record.update(doc.metadata)
    return record


def _fields(doc: Any) -> dict:
    """Field values of an SDK ``Document`` (search match or fetch result) as a plain dict."""
    if hasattr(doc, "to_dict"):
        return dict(doc.to_dict())
    return {k: getattr(doc, k) for k in STORED_FIELDS + ["content_hash"] if hasattr(doc, k)}


def _document_from_fields(doc_id: str, fields: dict) -> Document:
    def opt_int(v):
        return None if v is None else int(v)

    return Document(
        id=doc_id, kind=fields.get("kind") or "race", title=fields.get("title") or "",
        text=fields.get("text") or "", season=opt_int(fields.get("season")),
        round=opt_int(fields.get("round")), event=fields.get("event"),
        circuit=fields.get("circuit"), drivers=tuple(fields.get("drivers") or ()),
    )
