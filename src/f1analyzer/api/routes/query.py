"""``POST /query``: hybrid retrieval over the knowledge base + a narrated, cited answer.

A thin route over :func:`f1analyzer.app.knowledge.answer_query`: answers are cached by the
normalised request in the app's response cache, LLM token use is counted in the ``f1a_llm_*``
metrics, and a missing, corrupted or still-building index answers 503 with what to do. Retrieval
and narration run on the slow-work pool within the request deadline (:mod:`..slowwork`), never
on the thread pool ``/health`` and the cheap routes use; a slow LLM is cut off by the narration
deadline and answered by the offline writer (``fallback_reason``).
"""

from __future__ import annotations

import time

from fastapi import APIRouter

from ...app.knowledge import answer_query, require_index_ready
from ...knowledge.build import get_knowledge_base
from ..caching import ResponseCacheDep
from ..deps import ServicesDep
from ..errors import scrub_paths
from ..metrics import record_llm_usage
from ..slowwork import SlowWorkDep
from ..schemas.query import QueryBatchRequest, QueryBatchResponse, QueryRequest, QueryResponse

router = APIRouter(tags=["query"])


@router.post("/query", response_model=QueryResponse,
             summary="Ask about races, circuits, seasons and the rules",
             responses={503: {"description": "The knowledge index is missing, corrupted or "
                                             "still being built."}})
async def query(services: ServicesDep, cache: ResponseCacheDep, work: SlowWorkDep,
                body: QueryRequest) -> dict:
    """Retrieve the ``top_k`` best passages (dense MiniLM + BM25 keywords + the season, driver
    and circuit the question names) and answer from them only, citing them as [n]."""
    require_index_ready(services)
    return await work.run(lambda: _answer(services, cache, body), what="question")


@router.post("/query/batch", response_model=QueryBatchResponse,
             summary="Several questions at once (embedded in one batch)",
             responses={503: {"description": "The knowledge index is missing, corrupted or "
                                             "still being built."}})
async def query_batch(services: ServicesDep, cache: ResponseCacheDep, work: SlowWorkDep,
                      body: QueryBatchRequest) -> dict:
    """Answers in request order. The questions not seen before are embedded together in one
    model call (the costly part of a question), then each is answered as ``POST /query``."""
    require_index_ready(services)
    return await work.run(lambda: _answer_batch(services, cache, body), what="batch of questions")


def _answer_batch(services, cache, body: QueryBatchRequest) -> dict:
    t0 = time.perf_counter()
    embedder = get_knowledge_base(services.settings).embedder
    prime = getattr(embedder, "prime", None)
    embedded = prime([q.query for q in body.queries]) if prime else 0
    results = [_answer(services, cache, q) for q in body.queries]
    return {"results": results, "count": len(results), "embedded": embedded,
            "latency_ms": round((time.perf_counter() - t0) * 1000, 1)}


def _answer(services, cache, body: QueryRequest) -> dict:
    out = answer_query(body, settings=services.settings, cache=cache)
    if out.get("fallback_reason"):
        out = {**out, "fallback_reason": scrub_paths(out["fallback_reason"])[0]}
    usage = out.get("usage") or {}
    if not out["cached"] and out["provider"] != "offline" and any(usage.values()):
        record_llm_usage(out["provider"], out.get("model") or "", usage.get("input_tokens", 0),
                         usage.get("output_tokens", 0))
    return out
