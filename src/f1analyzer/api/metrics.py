"""Prometheus metrics (``GET /metrics``), all named ``f1a_*``.

Other code increments them through three small functions, importable from anywhere (they never
raise and cost a dictionary lookup):

- :func:`record_llm_usage` (narrators, after each LLM call),
- :func:`record_simulations` (the simulator, with the number of Monte Carlo races run),
- :func:`record_cache` (done for you by :mod:`f1analyzer.api.caching`).

The HTTP metrics (requests by route template, method and status; latency histograms per route)
and the rate-limit rejections are recorded by the middleware.

Several worker processes (``WORKERS > 1``): ``f1analyzer serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at an empty directory before the workers start, each worker then
writes its samples to memory-mapped files there and ``/metrics`` (answered by any worker) sums
them with ``prometheus_client.multiprocess.MultiProcessCollector``. The variable must be set
before ``prometheus_client`` is first imported, which is why the server sets it, not this module.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from ..log import get_logger

log = get_logger("api.metrics")

#: request latency buckets (seconds): cached answers take milliseconds, simulations seconds
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                     10.0, 30.0, 60.0)

#: USD per million tokens (input, output); unknown models count tokens but no cost
LLM_PRICES_USD_PER_MTOK: dict[str, tuple[float, float]] = {
    "claude-opus-4": (15.0, 75.0),
    "claude-opus-4-1": (15.0, 75.0),
    "claude-sonnet-4": (3.0, 15.0),
    "claude-sonnet-4-5": (3.0, 15.0),
    "claude-3-5-sonnet": (3.0, 15.0),
    "claude-3-7-sonnet": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
    "claude-3-5-haiku": (0.8, 4.0),
    "gpt-4o": (2.5, 10.0),
    "gpt-4o-mini": (0.15, 0.6),
}

HTTP_REQUESTS = Counter(
    "f1a_http_requests_total", "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "f1a_http_request_duration_seconds", "Time from request start to the last response byte.",
    ["route", "method"], buckets=LATENCY_BUCKETS_S,
)
CACHE_HITS = Counter("f1a_cache_hits_total", "Result cache hits, by namespace.", ["namespace"])
CACHE_MISSES = Counter("f1a_cache_misses_total", "Result cache misses, by namespace.", ["namespace"])
LLM_REQUESTS = Counter("f1a_llm_requests_total", "LLM calls, by provider and model.",
                       ["provider", "model"])
LLM_TOKENS = Counter("f1a_llm_tokens_total", "LLM tokens, by provider, model and direction.",
                     ["provider", "model", "direction"])
LLM_COST = Counter("f1a_llm_cost_usd_total", "Estimated LLM spend in US dollars (list prices).",
                   ["provider", "model"])
SIMULATIONS = Counter("f1a_simulations_total", "Monte Carlo races simulated.")
RATE_LIMITED = Counter("f1a_rate_limited_total", "Requests refused with 429, by route template.",
                       ["route"])
JOBS = Counter("f1a_jobs_total", "Admin background jobs finished, by kind and outcome.",
               ["kind", "status"])


def _price(model: str) -> tuple[float, float]:
    m = model.lower()
    if m in LLM_PRICES_USD_PER_MTOK:
        return LLM_PRICES_USD_PER_MTOK[m]
    # dated or suffixed names: "claude-sonnet-4-5-20250929" → longest known prefix
    best = max((k for k in LLM_PRICES_USD_PER_MTOK if m.startswith(k)), key=len, default=None)
    return LLM_PRICES_USD_PER_MTOK[best] if best else (0.0, 0.0)


def llm_cost_usd(model: str, input_tokens: int, output_tokens: int) -> float:
    """List-price estimate of one call; 0 for local / unknown models."""
    p_in, p_out = _price(model)
    return (input_tokens * p_in + output_tokens * p_out) / 1_000_000


def record_llm_usage(provider: str, model: str, input_tokens: int, output_tokens: int) -> None:
    """Count one LLM call: tokens in and out and the estimated cost.

    Args:
        provider: ``"anthropic"``, ``"openai"``, ``"offline"``...
        model: the model name sent to the provider (prices are looked up by prefix).
        input_tokens / output_tokens: as reported by the provider's usage block.
    """
    try:
        provider, model = str(provider), str(model)
        i, o = max(0, int(input_tokens or 0)), max(0, int(output_tokens or 0))
        LLM_REQUESTS.labels(provider, model).inc()
        LLM_TOKENS.labels(provider, model, "input").inc(i)
        LLM_TOKENS.labels(provider, model, "output").inc(o)
        cost = llm_cost_usd(model, i, o)
        if cost:
            LLM_COST.labels(provider, model).inc(cost)
    except Exception as exc:  # noqa: BLE001 - metrics never break a request
        log.debug("record_llm_usage failed: %s", exc)


def record_simulations(n: int) -> None:
    """Count ``n`` simulated races (``n_sims`` of one strategy evaluation)."""
    try:
        if n > 0:
            SIMULATIONS.inc(int(n))
    except Exception as exc:  # noqa: BLE001
        log.debug("record_simulations failed: %s", exc)


def record_cache(hit: bool, namespace: str) -> None:
    """Count one result-cache lookup in ``namespace`` (``"strategy.generate"``, ``"query"``...)."""
    (CACHE_HITS if hit else CACHE_MISSES).labels(str(namespace)).inc()


def record_request(route: str, method: str, status: int, duration_s: float) -> None:
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_LATENCY.labels(route, method).observe(duration_s)


def record_rate_limited(route: str) -> None:
    RATE_LIMITED.labels(route).inc()


def record_job(kind: str, status: str) -> None:
    JOBS.labels(kind, status).inc()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def render_latest() -> tuple[bytes, str]:
    """The exposition text of this process, or of all workers in multiprocess mode."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


# --- GET /metrics ------------------------------------------------------------------------------
from fastapi import APIRouter, Depends, Response  # noqa: E402

from .security import require_metrics_token  # noqa: E402

router = APIRouter(tags=["ops"])


@router.get("/metrics", summary="Prometheus metrics (text exposition format)",
            response_class=Response, dependencies=[Depends(require_metrics_token)],
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
def metrics() -> Response:
    body, content_type = render_latest()
    return Response(content=body, media_type=content_type)
