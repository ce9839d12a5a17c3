"""``POST /query``: hybrid retrieval over the knowledge base + a narrated, cited answer.

A thin route over :func:`f1analyzer.knowledge.service.answer_query`: answers are cached by the
normalised request in the app's response cache, LLM token use is counted in the ``f1a_llm_*``
metrics, and a missing, corrupted or still-building index answers 503 with what to do.
"""

from __future__ import annotations

from fastapi import APIRouter

from ...knowledge.service import answer_query, require_index_ready
from ..caching import ResponseCacheDep
from ..deps import StateDep
from ..metrics import record_llm_usage
from ..schemas.query import QueryRequest, QueryResponse

router = APIRouter(tags=["query"])


@router.post("/query", response_model=QueryResponse,
             summary="Ask about races, circuits, seasons and the rules",
             responses={503: {"description": "The knowledge index is missing, corrupted or "
                                             "still being built."}})
def query(state: StateDep, cache: ResponseCacheDep, body: QueryRequest) -> dict:
    """Retrieve the ``top_k`` best passages (dense MiniLM + BM25 keywords + the season, driver
    and circuit the question names) and answer from them only, citing them as [n]."""
    require_index_ready(state)
    filters = body.filters.model_dump(exclude_none=True) if body.filters else None
    out = answer_query(body.query, top_k=body.top_k, filters=filters, settings=state.settings,
                       cache=cache)
    usage = out.get("usage") or {}
    if not out["cached"] and out["provider"] != "offline" and any(usage.values()):
        record_llm_usage(out["provider"], out.get("model") or "", usage.get("input_tokens", 0),
                         usage.get("output_tokens", 0))
    return out
