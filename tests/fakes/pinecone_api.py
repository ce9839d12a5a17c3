"""Fake Pinecone: control plane (indexes) and document data plane, 2026-07 API.

One server answers both planes; every index it creates reports the server itself as its host,
so the fake holds the documents of one data-plane index at a time (the tests need one).
Implements what :class:`f1analyzer.knowledge.pinecone_index.PineconeIndex` uses through the
official SDK: create/describe/list/delete index; documents upsert, search (dense cosine), fetch,
list (paginated), delete; describe_index_stats. Filters follow Pinecone's syntax: ``$eq``,
``$ne``, ``$in``, ``$nin``, ``$gt``, ``$gte``, ``$lt``, ``$lte``, ``$exists``, ``$and``, ``$or``;
on a string-list field ``$eq`` / ``$in`` match when any element matches.
"""

from __future__ import annotations

import math
import re
from collections import deque

from tests.fakes.server import FakeServer, Recorded, Response

API_VERSION = "2026-07"
_NS_RE = re.compile(r"^/namespaces/([^/]+)/documents/(upsert|search|fetch|list|delete)$")


def _err(status: int, code: str, message: str) -> Response:
    return Response(status, {"error": {"code": code, "message": message}, "status": status})


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


def _match_op(value, op: str, arg) -> bool:
    many = value if isinstance(value, list) else [value]
    if op == "$exists":
        return (value is not None) == bool(arg)
    if value is None:
        return op in ("$ne", "$nin")
    if op == "$eq":
        return arg in many
    if op == "$ne":
        return arg not in many
    if op == "$in":
        return any(v in arg for v in many)
    if op == "$nin":
        return not any(v in arg for v in many)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if isinstance(value, list):
            return False
        return {"$gt": value > arg, "$gte": value >= arg, "$lt": value < arg,
                "$lte": value <= arg}[op]
    raise ValueError(f"unsupported filter operator {op}")


def matches(doc: dict, flt: dict | None) -> bool:
    """Evaluate a Pinecone metadata filter against a stored document."""
    if not flt:
        return True
    for key, cond in flt.items():
        if key == "$and":
            if not all(matches(doc, c) for c in cond):
                return False
        elif key == "$or":
            if not any(matches(doc, c) for c in cond):
                return False
        elif isinstance(cond, dict):
            if not all(_match_op(doc.get(key), op, arg) for op, arg in cond.items()):
                return False
        elif not _match_op(doc.get(key), "$eq", cond):
            return False
    return True


class FakePinecone(FakeServer):
    """Pinecone control and data plane on one loopback port.

    Attributes:
        indexes: name → index description as the API returns it.
        namespaces: namespace → {id → document} for the data-plane index.
        fail_next: statuses to answer data-plane requests with before serving them normally
            (e.g. ``[503, 503]`` to exercise retries).
    """

    def __init__(self, api_key: str = "pc-test-key", port: int = 0, list_page_size: int = 100):
        super().__init__(port)
        self.api_key = api_key
        self.list_page_size = list_page_size
        self.indexes: dict[str, dict] = {}
        self.namespaces: dict[str, dict[str, dict]] = {}
        self.fail_next: deque[int] = deque()

    # --- dispatch -----------------------------------------------------------------------------
    def handle(self, req: Recorded) -> Response:
        if req.headers.get("api-key") != self.api_key:
            return _err(401, "UNAUTHENTICATED", "Invalid API Key")
        if req.headers.get("x-pinecone-api-version") != API_VERSION:
            return _err(400, "INVALID_ARGUMENT", "unsupported API version")
        path = req.path
        if path == "/indexes" and req.method == "GET":
            return Response(200, {"indexes": list(self.indexes.values())})
        if path == "/indexes" and req.method == "POST":
            return self._create_index(req.body or {})
        if path.startswith("/indexes/"):
            name = path.split("/", 2)[2]
            if name not in self.indexes:
                return _err(404, "NOT_FOUND", f"Resource {name} not found")
            if req.method == "GET":
                return Response(200, self.indexes[name])
            if req.method == "DELETE":
                del self.indexes[name]
                return Response(202, None)
        with self.lock:
            if self.fail_next:
                status = self.fail_next.popleft()
                return _err(status, "UNAVAILABLE", "fake outage")
        if path == "/describe_index_stats" and req.method == "POST":
            return self._stats()
        m = _NS_RE.match(path)
        if m and req.method == "POST":
            ns, op = m.group(1), m.group(2)
            return getattr(self, f"_{op}")(ns, req.body or {})
        return _err(404, "NOT_FOUND", f"no route {req.method} {path}")

    # --- control plane ------------------------------------------------------------------------
    def _create_index(self, body: dict) -> Response:
        name = body.get("name")
        if not name:
            return _err(400, "INVALID_ARGUMENT", "name required")
        if name in self.indexes:
            return _err(409, "ALREADY_EXISTS", f"Resource {name} already exists")
        fields = (body.get("schema") or {}).get("fields") or {}
        if not fields:
            return _err(400, "INVALID_ARGUMENT", "schema.fields required")
        deployment = body.get("deployment") or {"deployment_type": "managed", "cloud": "aws",
                                                 "region": "us-east-1"}
        self.indexes[name] = {
            "name": name,
            "host": self.url,
            "status": {"ready": True, "state": "Ready"},
            "schema": {"fields": fields},
            "deployment": deployment,
            "deletion_protection": body.get("deletion_protection") or "disabled",
            "tags": body.get("tags"),
        }
        return Response(201, self.indexes[name])

    def _dense_field(self) -> tuple[str, int] | None:
        for idx in self.indexes.values():
            for fname, spec in idx["schema"]["fields"].items():
                if spec.get("type") == "dense_vector":
                    return fname, int(spec["dimension"])
        return None

    # --- data plane ---------------------------------------------------------------------------
    def _upsert(self, ns: str, body: dict) -> Response:
        docs = body.get("documents") or []
        dense = self._dense_field()
        for d in docs:
            if "_id" not in d:
                return _err(400, "INVALID_ARGUMENT", "document without _id")
            if dense and len(d.get(dense[0]) or []) != dense[1]:
                return _err(400, "INVALID_ARGUMENT",
                            f"document {d['_id']}: field {dense[0]} needs {dense[1]} values")
        with self.lock:
            store = self.namespaces.setdefault(ns, {})
            for d in docs:
                store[d["_id"]] = dict(d)
        return Response(200, {"upserted_count": len(docs)})

    def _project(self, doc: dict, include: list[str] | None) -> dict:
        out = {"_id": doc["_id"]}
        if not include:
            return out
        if "*" in include:
            include = [k for k in doc if k != "_id"]
        for k in include:
            if k in doc:
                out[k] = doc[k]
        return out

    def _search(self, ns: str, body: dict) -> Response:
        clauses = body.get("score_by") or []
        if len(clauses) != 1 or clauses[0].get("type") != "dense_vector":
            return _err(400, "INVALID_ARGUMENT", "the fake supports one dense_vector clause")
        clause = clauses[0]
        fname = clause.get("field") or (clause.get("fields") or [None])[0]
        values = clause.get("values") or []
        with self.lock:
            docs = list(self.namespaces.get(ns, {}).values())
        scored = [(_cosine(values, d.get(fname) or []), d) for d in docs
                  if matches(d, body.get("filter"))]
        scored.sort(key=lambda t: (-t[0], t[1]["_id"]))
        top = scored[: int(body.get("top_k") or 10)]
        out = []
        for score, d in top:
            m = self._project(d, body.get("include_fields"))
            m["_score"] = score
            out.append(m)
        return Response(200, {"matches": out, "namespace": ns, "usage": {"read_units": 1}})

    def _fetch(self, ns: str, body: dict) -> Response:
        with self.lock:
            store = dict(self.namespaces.get(ns, {}))
        include = body.get("include_fields")
        if include is None:
            include = ["*"]
        if body.get("ids") is not None:
            found = {i: self._project(store[i], include) for i in body["ids"] if i in store}
        else:
            found = {i: self._project(d, include) for i, d in store.items()
                     if matches(d, body.get("filter"))}
        return Response(200, {"documents": found, "namespace": ns, "usage": {"read_units": 1}})

    def _list(self, ns: str, body: dict) -> Response:
        with self.lock:
            ids = sorted(self.namespaces.get(ns, {}))
        prefix = body.get("prefix")
        if prefix:
            ids = [i for i in ids if i.startswith(prefix)]
        start = int(body.get("pagination_token") or 0)
        size = int(body.get("limit") or self.list_page_size)
        page = ids[start:start + size]
        nxt = start + size
        return Response(200, {
            "documents": [{"_id": i} for i in page], "namespace": ns,
            "usage": {"read_units": 1},
            "pagination": {"next": str(nxt)} if nxt < len(ids) else None,
        })

    def _delete(self, ns: str, body: dict) -> Response:
        with self.lock:
            if ns not in self.namespaces:
                return _err(404, "NOT_FOUND", f"Namespace {ns} not found")
            store = self.namespaces[ns]
            if body.get("delete_all"):
                store.clear()
            elif body.get("ids") is not None:
                for i in body["ids"]:
                    store.pop(i, None)
            elif body.get("filter"):
                for i in [i for i, d in store.items() if matches(d, body["filter"])]:
                    del store[i]
        return Response(200, {})

    def _stats(self) -> Response:
        dense = self._dense_field()
        with self.lock:
            namespaces = {ns: {"vectorCount": len(docs)} for ns, docs in self.namespaces.items()}
        # this endpoint answers in camelCase, unlike the document endpoints
        return Response(200, {
            "namespaces": namespaces, "dimension": dense[1] if dense else None,
            "indexFullness": 0.0, "totalVectorCount": sum(
                v["vectorCount"] for v in namespaces.values()), "metric": "cosine",
        })

    # --- inspection helpers -------------------------------------------------------------------
    def upsert_batch_sizes(self) -> list[int]:
        return [len((r.body or {}).get("documents") or []) for r in self.calls("/documents/upsert")]
