"""The response cache helper (api/caching.py) over MemoryCache and a real redis-server."""

from __future__ import annotations

from types import SimpleNamespace

import threading
import time
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from pydantic import BaseModel

from f1analyzer.api.caching import ResponseCache, cache_degraded_reason, cached_route
from f1analyzer.api.metrics import record_llm_usage, record_simulations
from f1analyzer.backends.cache import MemoryCache, RedisCache
from tests.helpers import free_port, redis_server


class Req(BaseModel):
    season: int
    event: str
    driver: str | None = None


class Answer(BaseModel):
    value: int
    cached: bool = False
    latency_ms: float = 0.0


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_get_or_compute_hits_on_normalised_request():
    rc = ResponseCache(MemoryCache())
    calls = []

    def compute():
        calls.append(1)
        return Answer(value=len(calls))

    hits0 = sample("f1a_cache_hits_total", namespace="t.norm")
    a, hit_a = rc.get_or_compute("t.norm", Req(season=2024, event="Monza"), compute)
    b, hit_b = rc.get_or_compute("t.norm", {"Event": " monza ", "season": 2024.0}, compute)
    assert (hit_a, hit_b) == (False, True) and a == b == {"value": 1, "cached": False, "latency_ms": 0.0}
    c, hit_c = rc.get_or_compute("t.norm", Req(season=2024, event="Monza", driver="LEC"), compute)
    assert not hit_c and c["value"] == 2
    other_ns, hit = rc.get_or_compute("t.other", Req(season=2024, event="Monza"), compute)
    assert not hit and other_ns["value"] == 3
    assert sample("f1a_cache_hits_total", namespace="t.norm") == hits0 + 1
    assert sample("f1a_cache_misses_total", namespace="t.norm") >= 2


def test_concurrent_identical_requests_compute_once():
    rc = ResponseCache(MemoryCache())
    calls = []
    gate = threading.Event()

    def compute():
        calls.append(1)
        gate.wait(5)
        return {"v": 1}

    results = []
    threads = [threading.Thread(target=lambda: results.append(
        rc.get_or_compute("t.flight", {"q": "x"}, compute))) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    gate.set()
    for t in threads:
        t.join(10)
    assert len(calls) == 1
    assert sorted(hit for _, hit in results) == [False] + [True] * 7


def test_exceptions_are_not_cached():
    rc = ResponseCache(MemoryCache())
    with pytest.raises(ValueError):
        rc.get_or_compute("t.err", {"a": 1}, lambda: (_ for _ in ()).throw(ValueError("x")))
    value, hit = rc.get_or_compute("t.err", {"a": 1}, lambda: {"ok": True})
    assert value == {"ok": True} and not hit


def test_redis_backed_cache_is_shared_and_survives_an_outage():
    with redis_server() as (url, proc):
        a = ResponseCache(RedisCache(url, retry_interval_s=0.2))
        b = ResponseCache(RedisCache(url, retry_interval_s=0.2))
        assert a.get_or_compute("t.redis", {"k": 1}, lambda: {"n": 1}) == ({"n": 1}, False)
        assert b.get_or_compute("t.redis", {"k": 1}, lambda: {"n": 2}) == ({"n": 1}, True)
        state = SimpleNamespace(services=SimpleNamespace(cache=a.cache))
        assert cache_degraded_reason(state) is None
        proc.terminate()
        proc.wait(10)
        # Redis gone: answers are computed, nothing raises, health says why
        assert a.get_or_compute("t.redis", {"k": 1}, lambda: {"n": 3}) == ({"n": 3}, False)
        assert not a.healthy()
        reason = cache_degraded_reason(state)
        assert reason and reason.startswith("cache: RedisCache") and "unreachable" in reason


def test_unreachable_redis_from_the_start_is_only_a_miss():
    rc = ResponseCache(RedisCache(f"redis://127.0.0.1:{free_port()}/0"))
    assert rc.get_or_compute("t.down", {"k": 1}, lambda: {"n": 1}) == ({"n": 1}, False)
    assert rc.get_or_compute("t.down", {"k": 1}, lambda: {"n": 2}) == ({"n": 2}, False)


def service() -> object:
    return object()  # an injected service: not part of a cache key


def _app_with(router: APIRouter) -> FastAPI:
    app = FastAPI()
    app.state.f1a = SimpleNamespace(response_cache=ResponseCache(MemoryCache()))
    app.include_router(router)
    return app


def test_cached_route_decorator_keys_on_body_and_params_and_sets_flags():
    router = APIRouter()
    calls = []

    @router.post("/gen/{season}", response_model=Answer)
    @cached_route("t.route")
    def gen(season: int, body: Req, svc: Annotated[object, Depends(service)]) -> Answer:
        calls.append(season)
        return Answer(value=season + len(calls))

    @router.post("/agen", response_model=Answer)
    @cached_route("t.aroute")
    async def agen(body: Req) -> dict:
        calls.append(0)
        return {"value": 7, "cached": False, "latency_ms": 0.0}

    with TestClient(_app_with(router)) as c:
        r1 = c.post("/gen/2024", json={"season": 2024, "event": "Monza"}).json()
        r2 = c.post("/gen/2024", json={"season": 2024, "event": "MONZA "}).json()
        r3 = c.post("/gen/2023", json={"season": 2024, "event": "Monza"}).json()
        assert (r1["cached"], r2["cached"], r3["cached"]) == (False, True, False)
        assert r1["value"] == r2["value"] == 2025 and len(calls) == 2
        a1 = c.post("/agen", json={"season": 1, "event": "x"}).json()
        a2 = c.post("/agen", json={"season": 1, "event": "x"}).json()
        assert (a1["cached"], a2["cached"]) == (False, True) and calls.count(0) == 1
        # the OpenAPI schema shows the route's own parameters only
        params = c.get("/openapi.json").json()["paths"]["/gen/{season}"]["post"]["parameters"]
        assert [p["name"] for p in params] == ["season"]


def test_usage_counters():
    before = sample("f1a_llm_tokens_total", provider="anthropic", model="claude-sonnet-4-5-20250929",
                    direction="input")
    cost0 = sample("f1a_llm_cost_usd_total", provider="anthropic", model="claude-sonnet-4-5-20250929")
    record_llm_usage("anthropic", "claude-sonnet-4-5-20250929", 1000, 200)
    assert sample("f1a_llm_tokens_total", provider="anthropic", model="claude-sonnet-4-5-20250929",
                  direction="input") == before + 1000
    cost = sample("f1a_llm_cost_usd_total", provider="anthropic", model="claude-sonnet-4-5-20250929")
    assert cost - cost0 == pytest.approx((1000 * 3 + 200 * 15) / 1e6)
    record_llm_usage("openai", "llama3.1", 10, 10)  # local model: tokens, no cost
    assert sample("f1a_llm_cost_usd_total", provider="openai", model="llama3.1") == 0
    sims0 = sample("f1a_simulations_total")
    record_simulations(2000)
    assert sample("f1a_simulations_total") == sims0 + 2000


def test_async_flavour_runs_sync_compute_off_the_loop_and_single_flights():
    import asyncio

    rc = ResponseCache(MemoryCache())
    calls = []
    loop_thread = threading.get_ident()

    def compute():
        calls.append(threading.get_ident())
        time.sleep(0.05)
        return {"n": len(calls)}

    async def run():
        return await asyncio.gather(*(rc.aget_or_compute("t.async", {"k": 1}, compute)
                                      for _ in range(5)))

    results = asyncio.run(run())
    assert len(calls) == 1 and calls[0] != loop_thread
    assert sorted(hit for _, hit in results) == [False, True, True, True, True]

    async def acompute():
        return Answer(value=3)

    async def run_async_compute():
        first = await rc.aget_or_compute("t.async2", {"k": 1}, acompute)
        second = await rc.aget_or_compute("t.async2", {"k": 1}, acompute)
        return first, second

    (v1, h1), (v2, h2) = asyncio.run(run_async_compute())
    assert v1 == v2 == {"value": 3, "cached": False, "latency_ms": 0.0} and (h1, h2) == (False, True)
    with pytest.raises(TypeError):
        rc.get_or_compute("t.async3", {"k": 1}, acompute)
