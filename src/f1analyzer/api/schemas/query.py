"""``POST /query``: a question in, an answer with its cited sources out."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ...app.requests import QueryBatchRequest, QueryFilters, QueryRequest  # noqa: F401 - re-exported


class QuerySource(BaseModel):
    id: str = Field(description="Stable document id: race:2021:11, circuit:monza, season:2021, "
                                "rule:two-compound.")
    kind: str | None = Field(description="race, circuit, season or rule.")
    season: int | None = None
    round: int | None = None
    event: str | None = None
    title: str
    score: float = Field(description="Fused retrieval score (reciprocal rank fusion).")
    snippet: str


class QueryResponse(BaseModel):
    answer: str = Field(description="Answer written from the sources only; [n] cites sources[n-1].")
    sources: list[QuerySource]
    provider: str = Field(description="Narrator that wrote the answer: offline, anthropic, openai.")
    cached: bool
    latency_ms: float
    fallback_reason: str | None = Field(
        default=None, description="Why the offline writer replaced the configured LLM, if it did.")


class QueryBatchResponse(BaseModel):
    results: list[QueryResponse]
    count: int
    embedded: int = Field(description="Questions that needed a new embedding (one batched model call).")
    latency_ms: float
