"""Vector indexes: where document embeddings live and are searched.

Two implementations share the :class:`VectorIndex` protocol:

- :class:`LanceDBIndex` (default) — embedded, a directory under ``settings.index_dir``; no server.
- :class:`~f1analyzer.knowledge.pinecone_index.PineconeIndex` — Pinecone serverless, chosen with
  ``F1A_VECTOR_BACKEND=pinecone``.

Both are idempotent by document id: an upsert skips documents whose content hash is unchanged, so
re-running a build adds nothing. Both filter on the metadata in
:data:`~f1analyzer.knowledge.documents.METADATA_KEYS`; ``driver`` matches documents whose
``drivers`` list contains the code.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import uuid
from datetime import timedelta
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from f1analyzer.errors import BackendUnavailableError, InvalidRequestError
from f1analyzer.knowledge.documents import Document
from f1analyzer.log import get_logger
from f1analyzer.config import get_settings

log = get_logger("knowledge.index")

#: filter keys accepted by every index (``driver`` = "drivers list contains")
FILTER_KEYS: tuple[str, ...] = ("kind", "season", "round", "event", "circuit", "driver")
_INT_KEYS = {"season", "round"}
SNIPPET_CHARS = 280


@dataclass
class Hit:
    """One retrieved document.

    ``score`` is the backend's similarity (cosine for dense search, the fused RRF score after
    hybrid retrieval); ``text`` is the whole passage, ``snippet`` a short preview.
    """

    id: str
    score: float
    title: str
    text: str
    metadata: dict = field(default_factory=dict)

    @property
    def snippet(self) -> str:
        if len(self.text) <= SNIPPET_CHARS:
            return self.text
        cut = self.text[:SNIPPET_CHARS].rsplit(" ", 1)[0]
        return cut + " …"

    def to_dict(self) -> dict:
        return {"id": self.id, "score": self.score, "title": self.title,
                "snippet": self.snippet, "metadata": dict(self.metadata)}


def source_dict(hit: Hit) -> dict:
    """One cited source as answers show it (``/query`` sources, a strategy narrative's sources)."""
    meta = hit.metadata or {}
    return {"id": hit.id, "kind": meta.get("kind"), "season": meta.get("season"),
            "round": meta.get("round"), "event": meta.get("event"), "title": hit.title,
            "score": round(float(hit.score), 6), "snippet": hit.snippet}


@runtime_checkable
class VectorIndex(Protocol):
    """Stores ``(document, vector)`` pairs and finds the nearest ones to a query vector."""

    def upsert(self, docs: Sequence[Document], vectors: np.ndarray) -> int:
        """Insert new or changed documents; returns how many were written (0 on a re-run)."""
        ...

    def query(self, vector: np.ndarray, top_k: int = 5, filters: dict | None = None) -> list[Hit]:
        ...

    def count(self) -> int: ...

    def ids(self) -> list[str]: ...

    def documents(self) -> list[Document]:
        """Every stored document (used to rebuild the keyword index)."""
        ...

    def content_hashes(self) -> dict[str, str]: ...

    def delete_all(self) -> None: ...

    def healthy(self) -> bool: ...


def normalise_filters(filters: dict | None) -> dict[str, list]:
    """Validate filter keys and turn every value into a list (``{"season": [2023]}``).

    ``drivers`` is accepted as an alias of ``driver``; codes are upper-cased, seasons and rounds
    cast to int. Unknown keys raise :class:`InvalidRequestError` naming the valid ones.
    """
    out: dict[str, list] = {}
    for key, value in (filters or {}).items():
        if value is None:
            continue
        key = "driver" if key == "drivers" else key
        if key not in FILTER_KEYS:
            raise InvalidRequestError(
                f"Unknown filter {key!r}; valid filters: {', '.join(FILTER_KEYS)}."
            )
        values = list(value) if isinstance(value, (list, tuple, set)) else [value]
        if not values:
            continue
        try:
            if key in _INT_KEYS:
                values = [int(v) for v in values]
            elif key == "driver":
                values = [str(v).upper() for v in values]
            else:
                values = [str(v) for v in values]
        except (TypeError, ValueError) as exc:
            raise InvalidRequestError(f"Filter {key!r} needs integers, got {value!r}.") from exc
        out[key] = values
    return out


def matches_filters(metadata: dict, filters: dict[str, list]) -> bool:
    """True when a document's metadata satisfies normalised filters (used by tests and BM25)."""
    for key, values in filters.items():
        if key == "driver":
            if not set(values) & set(metadata.get("drivers") or []):
                return False
        elif metadata.get(key) not in values:
            return False
    return True


def _sql_literal(value: object) -> str:
    if isinstance(value, int):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def lance_where(filters: dict[str, list]) -> str | None:
    """SQL ``WHERE`` clause for LanceDB from normalised filters (keys are whitelisted)."""
    clauses = []
    for key, values in filters.items():
        if key == "driver":
            ors = [f"array_has(drivers, {_sql_literal(v)})" for v in values]
            clauses.append("(" + " OR ".join(ors) + ")")
        elif len(values) == 1:
            clauses.append(f"{key} = {_sql_literal(values[0])}")
        else:
            clauses.append(f"{key} IN ({', '.join(_sql_literal(v) for v in values)})")
    return " AND ".join(clauses) or None


def _check_vectors(docs: Sequence[Document], vectors: np.ndarray, dim: int) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape != (len(docs), dim):
        raise InvalidRequestError(
            f"Expected vectors of shape ({len(docs)}, {dim}), got {vectors.shape}."
        )
    ids = [d.id for d in docs]
    if len(set(ids)) != len(ids):
        raise InvalidRequestError("Duplicate document ids in one upsert.")
    return vectors


def changed_only(docs: Sequence[Document], vectors: np.ndarray,
                 existing: dict[str, str]) -> tuple[list[Document], np.ndarray]:
    """The documents (and their vectors) whose content hash differs from what is stored."""
    keep = [i for i, d in enumerate(docs) if existing.get(d.id) != d.content_hash]
    return [docs[i] for i in keep], vectors[keep]


class LanceDBIndex:
    """Embedded vector index in a LanceDB directory (default ``settings.index_dir / "lancedb"``).

    Args:
        path: directory of the LanceDB database.
        dim: vector width (384 for MiniLM).
        table: table name inside the database.
        consistency_s: how stale reads may be when another process (``index build`` while the
            API serves) writes the table; 0 checks for a newer version on every read, which
            costs a file stat on local disk.
    """

    def __init__(self, path: str | Path, dim: int = 384, table: str = "documents",
                 consistency_s: float = 0.0):
        self.path = Path(path)
        self.consistency_s = consistency_s
        self.dim = dim
        self.table_name = table
        self._db = None
        self._table = None

    # --- connection ---------------------------------------------------------------------------
    def _unavailable(self, exc: Exception) -> BackendUnavailableError:
        return BackendUnavailableError(
            f"The LanceDB knowledge index at {self.path} cannot be read ({type(exc).__name__}: "
            f"{exc}). It may be corrupted: delete the directory and rebuild it with "
            "`f1analyzer index build`.",
            details={"backend": "lancedb", "path": str(self.path)},
        )

    def _connect(self):
        if self._db is None:
            import lancedb

            try:
                self._db = lancedb.connect(
                    str(self.path),
                    read_consistency_interval=timedelta(seconds=self.consistency_s))
            except Exception as exc:  # noqa: BLE001
                raise self._unavailable(exc) from exc
        return self._db

    def _schema(self):
        import pyarrow as pa

        return pa.schema([
            pa.field("id", pa.string(), nullable=False),
            pa.field("vector", pa.list_(pa.float32(), self.dim)),
            pa.field("kind", pa.string()),
            pa.field("title", pa.string()),
            pa.field("text", pa.string()),
            pa.field("season", pa.int32()),
            pa.field("round", pa.int32()),
            pa.field("event", pa.string()),
            pa.field("circuit", pa.string()),
            pa.field("drivers", pa.list_(pa.string())),
            pa.field("content_hash", pa.string()),
        ])

    def _open(self, *, create: bool):
        """The table, or None when it does not exist yet and ``create`` is False."""
        if self._table is not None:
            return self._table
        if not create and not self.path.exists():
            return None
        db = self._connect()
        try:
            if self.table_name in db.list_tables().tables:
                self._table = db.open_table(self.table_name)
            elif create:
                self.path.mkdir(parents=True, exist_ok=True)
                self._table = db.create_table(self.table_name, schema=self._schema(), mode="create")
            else:
                return None
        except Exception as exc:  # noqa: BLE001
            raise self._unavailable(exc) from exc
        return self._table

    def _require(self):
        table = self._open(create=False)
        if table is None:
            raise BackendUnavailableError(
                f"The knowledge index at {self.path} has not been built yet; run "
                "`f1analyzer index build`.",
                details={"backend": "lancedb", "path": str(self.path)},
            )
        return table

    # --- VectorIndex --------------------------------------------------------------------------
    def upsert(self, docs: Sequence[Document], vectors: np.ndarray) -> int:
        """Write new or changed documents (matched on ``id``); returns the number written."""
        vectors = _check_vectors(docs, vectors, self.dim)
        table = self._open(create=True)
        docs, vectors = changed_only(docs, vectors, self.content_hashes())
        if not docs:
            return 0
        import pyarrow as pa

        data = pa.table({
            "id": [d.id for d in docs],
            "vector": pa.FixedSizeListArray.from_arrays(
                pa.array(vectors.reshape(-1), type=pa.float32()), self.dim),
            "kind": [d.kind for d in docs],
            "title": [d.title for d in docs],
            "text": [d.text for d in docs],
            "season": pa.array([d.season for d in docs], type=pa.int32()),
            "round": pa.array([d.round for d in docs], type=pa.int32()),
            "event": [d.event for d in docs],
            "circuit": [d.circuit for d in docs],
            "drivers": pa.array([list(d.drivers) for d in docs], type=pa.list_(pa.string())),
            "content_hash": [d.content_hash for d in docs],
        }, schema=self._schema())
        try:
            (table.merge_insert("id").when_matched_update_all()
             .when_not_matched_insert_all().execute(data))
        except Exception as exc:  # noqa: BLE001
            raise self._unavailable(exc) from exc
        log.info("upserted %d documents into %s", len(docs), self.path)
        return len(docs)

    def _reading(self, read, *, required: bool, default=None):
        """``read(table)``; once more on a freshly opened table when it fails: the directory may
        have been swapped for a rebuilt one (``/admin/reindex``, see :func:`swap_in`) under this
        handle. A second failure is the index's own (missing, corrupt)."""
        for attempt in (0, 1):
            table = self._require() if required else self._open(create=False)
            if table is None:
                return default
            try:
                return read(table)
            except Exception as exc:  # noqa: BLE001
                if attempt:
                    raise self._unavailable(exc) from exc
                log.info("LanceDB read failed (%s); reopening %s", type(exc).__name__, self.path)
                self._table = self._db = None
        return default

    def query(self, vector: np.ndarray, top_k: int = 5, filters: dict | None = None) -> list[Hit]:
        """Nearest documents by cosine similarity, after metadata filtering."""
        where = lance_where(normalise_filters(filters))
        q = np.asarray(vector, dtype=np.float32).reshape(-1)

        def read(table):
            search = table.search(q).distance_type("cosine").limit(int(top_k))
            if where:
                search = search.where(where, prefilter=True)
            return search.select(["id", "title", "text", "kind", "season", "round", "event",
                                  "circuit", "drivers", "_distance"]).to_list()

        rows = self._reading(read, required=True)
        return [_row_to_hit(r, score=1.0 - float(r["_distance"])) for r in rows]

    def _arrow(self, columns: list[str]):
        return self._reading(lambda t: t.to_arrow().select(columns), required=False)

    def count(self) -> int:
        return int(self._reading(lambda t: t.count_rows(), required=False, default=0))

    def ids(self) -> list[str]:
        data = self._arrow(["id"])
        return sorted(data.column("id").to_pylist()) if data is not None else []

    def content_hashes(self) -> dict[str, str]:
        data = self._arrow(["id", "content_hash"])
        if data is None:
            return {}
        return dict(zip(data.column("id").to_pylist(), data.column("content_hash").to_pylist()))

    def vectors(self) -> tuple[list[str], np.ndarray]:
        """Every stored ``(id, vector)``: ids and a float32 array of shape ``(n, dim)``.

        The knowledge base keeps small tables in memory for exact search (see
        ``retrieval.DenseMirror``); an empty or missing table gives ``([], (0, dim))``.
        """
        data = self._arrow(["id", "vector"])
        if data is None or data.num_rows == 0:
            return [], np.zeros((0, self.dim), dtype=np.float32)
        flat = data.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        matrix = np.ascontiguousarray(flat, dtype=np.float32).reshape(-1, self.dim)
        return data.column("id").to_pylist(), matrix

    def documents(self) -> list[Document]:
        data = self._arrow(["id", "kind", "title", "text", "season", "round", "event", "circuit",
                            "drivers"])
        if data is None:
            return []
        return sorted((_row_to_document(r) for r in data.to_pylist()), key=lambda d: d.id)

    def delete_all(self) -> None:
        """Drop the table and the directory (a corrupted index can be cleared this way too)."""
        self._table = None
        self._db = None
        if self.path.exists():
            shutil.rmtree(self.path)

    def healthy(self) -> bool:
        """True when the index exists and can be read."""
        try:
            table = self._require()
            table.count_rows()
            return True
        except Exception as exc:  # noqa: BLE001
            log.warning("LanceDB index unhealthy: %s", exc)
            return False


def _row_to_hit(row: dict, score: float) -> Hit:
    doc = _row_to_document(row)
    return Hit(id=doc.id, score=score, title=doc.title, text=doc.text, metadata=doc.metadata)


def _row_to_document(row: dict) -> Document:
    def opt_int(v):
        return None if v is None else int(v)

    return Document(
        id=row["id"], kind=row.get("kind") or "race", title=row.get("title") or "",
        text=row.get("text") or "", season=opt_int(row.get("season")),
        round=opt_int(row.get("round")), event=row.get("event"), circuit=row.get("circuit"),
        drivers=tuple(row.get("drivers") or ()),
    )


def get_vector_index(settings=None, *, dim: int = 384) -> VectorIndex:
    """The vector index chosen by ``settings.vector_backend`` (``lancedb`` or ``pinecone``)."""
    if settings is None:
        settings = get_settings()
    if settings.vector_backend == "pinecone":
        # pinecone_index imports this module (cycle); only the Pinecone backend needs it
        from f1analyzer.knowledge.pinecone_index import PineconeIndex

        return PineconeIndex.from_settings(settings, dim=dim)
    return LanceDBIndex(Path(settings.index_dir) / "lancedb", dim=dim)


#: a rebuild in progress (or left by a crash) next to the index directory: ``.<name>.build-<pid>-<hex>.tmp``
ASIDE_PREFIX = ".build-"


def aside_dir(index_dir: Path) -> Path:
    """A fresh directory next to ``index_dir`` to build a new index in (same file system, so the
    swap is a rename)."""
    index_dir = Path(index_dir)
    return index_dir.parent / f".{index_dir.name}{ASIDE_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False when the
    platform cannot."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc != 0:
        err = ctypes.get_errno()
        log.info("renameat2 exchange unavailable (%s); renaming in two steps", os.strerror(err))
        return False
    return True


def swap_in(built: Path, index_dir: Path) -> None:
    """Make the directory ``built`` the index at ``index_dir`` and delete the previous one.

    With an existing index the two directories are exchanged in one atomic step (readers see
    the old or the new index, never none); elsewhere the old one is renamed away first.
    """
    built, index_dir = Path(built), Path(index_dir)
    if not index_dir.exists():
        os.rename(built, index_dir)
        return
    if not _exchange(built, index_dir):
        old = index_dir.parent / f".{index_dir.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
        os.rename(index_dir, old)
        os.rename(built, index_dir)
        built = old
    shutil.rmtree(built, ignore_errors=True)  # now the previous index


def batched(items: Sequence, size: int) -> Iterable[Sequence]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
