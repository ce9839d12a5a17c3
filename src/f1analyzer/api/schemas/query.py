"""``POST /query``: a question in, an answer with its cited sources out."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class QueryFilters(BaseModel):
    """Hard filters: nothing outside them is retrieved."""

    model_config = ConfigDict(extra="forbid")

    season: int | None = Field(default=None, ge=1950, le=2100, examples=[2021])
    event: str | None = Field(default=None, min_length=1, max_length=80,
                              description="Event name ('Hungarian Grand Prix'), or a circuit, "
                                          "location or country ('Monza', 'Hungary').",
                              examples=["Hungary"])
    driver: str | None = Field(default=None, min_length=2, max_length=40,
                               description="Three-letter code or surname.", examples=["HAM"])


class QueryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=1000, description="The question.",
                       examples=["Who won the 2021 Hungarian Grand Prix?"])
    top_k: int = Field(default=5, ge=1, le=20, description="Passages retrieved and cited.")
    filters: QueryFilters | None = None


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


class QueryBatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queries: list[QueryRequest] = Field(min_length=1, max_length=20,
                                        description="Up to 20 questions; new ones are embedded together.")


class QueryBatchResponse(BaseModel):
    results: list[QueryResponse]
    count: int
    embedded: int = Field(description="Questions that needed a new embedding (one batched model call).")
    latency_ms: float
