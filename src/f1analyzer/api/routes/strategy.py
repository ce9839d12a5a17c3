"""``/strategy/*``: thin routes over :mod:`f1analyzer.app.strategy`.

Every answer is cached by normalised request plus the model version (the engine is deterministic
for a seed), counted in ``f1a_simulations_total`` and timed in ``latency_ms``. Rate limits of
``/strategy/generate`` and ``/strategy/batch`` are applied by the rate-limit middleware
(``api/ratelimit.py`` ``ROUTE_RULES``). The routes are ``async``: a cached answer is served
from the event loop, and a simulation runs on the slow-work pool (:mod:`..slowwork`) after its
cost in simulated races was checked against the per-request cap (422) and charged to the
client's allowance (429), within the request deadline (504). Unknown races/drivers answer 404
and impossible requests 422, both with the valid options in the message.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from ...app import strategy as service
from ...narration.strategy import narrate_strategy
from ..caching import ResponseCacheDep
from ..deps import ServicesDep
from ..errors import scrub_paths
from ..metrics import record_llm_usage, record_simulations
from ..schemas.strategy import (
    BatchRequest,
    BatchResponse,
    GenerateRequest,
    GenerateResponse,
    LiveRequest,
    LiveResponse,
    ReplayRequest,
    ReplayResponse,
    SimulateRequest,
    SimulateResponse,
    UndercutRequest,
    UndercutResponse,
)
from ..slowwork import SlowWorkDep

router = APIRouter(prefix="/strategy", tags=["strategy"])


def narrate_result(services, result: dict) -> dict:
    """Narration of ``/strategy/generate`` and ``/batch``: the structured result in, the result
    with ``narrative``, ``sources``, ``provider`` and ``fallback_reason`` out (Claude when a key
    is configured, else the offline writer; numbers checked against the result)."""
    story = narrate_strategy(result, services.settings)
    usage = story.get("usage") or {}
    if usage.get("input_tokens") or usage.get("output_tokens"):
        record_llm_usage(story.get("provider") or "unknown", story.get("model") or "unknown",
                         int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0)))
    result.update({k: story.get(k) for k in ("narrative", "sources", "provider", "fallback_reason")})
    if result.get("fallback_reason"):  # e.g. "knowledge base unavailable: … at /srv/…": no paths
        result["fallback_reason"] = scrub_paths(result["fallback_reason"])[0]
    return result


def llm_fell_back(out: dict) -> bool:
    """The answer (or one of a batch's) was narrated offline because the LLM failed or was slow."""
    answers = out.get("results") if isinstance(out.get("results"), list) else [out]
    return any("llm_" in str(a.get("fallback_reason") or "") for a in answers if isinstance(a, dict))


async def _answer(services, cache, work, namespace: str, body,
                  compute: Callable[[object], dict]) -> dict:
    """The answer from the cache, else ``compute(model_set)`` on the slow-work pool: the model
    set is resolved once per request and its version is part of the key (a retrained set never
    serves stale answers). A cached answer costs nothing; a computed one costs the simulated
    races the request implies. ``latency_ms`` is the time this HTTP answer took."""
    t0 = time.perf_counter()
    # the registry check may read files: on a thread, unless the set is fresh (the usual case)
    models = services.fresh_model_set() or await run_in_threadpool(services.model_set)
    payload = {**body.model_dump(mode="json"), "_models": models.version}
    hit = await cache.aget(namespace, payload)
    if hit is not None:
        out, cached = hit, True
    else:
        def run() -> tuple[dict, bool]:
            def simulate() -> dict:
                out = compute(models)
                record_simulations(int(out.get("simulations", 0) or 0))
                return out

            # an answer narrated offline because the LLM failed is kept only briefly
            return cache.get_or_compute(namespace, payload, simulate, ttl_s=lambda out: (
                services.settings.llm_fallback_cache_s if llm_fell_back(out) else None))

        out, cached = await work.run(run, cost=body.simulated_races(), what=namespace)
    out = dict(out)
    out["cached"] = cached
    out["latency_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    return out


@router.post("/generate", response_model=GenerateResponse, summary="Best pit strategies for a driver")
async def generate(services: ServicesDep, cache: ResponseCacheDep, work: SlowWorkDep,
                   body: GenerateRequest) -> dict:
    """Ranked strategies (stops, compounds, pit laps and windows, finishing distribution, P(gain),
    robustness to Safety Car timing) for ``driver`` from ``grid``. Driver pace uses only races
    before the event (``pre_race``)."""
    return await _answer(services, cache, work, "strategy.generate", body, lambda models: service.generate_strategy(
        body, models=models, store=services.store, narrate=lambda r: narrate_result(services, r)))


@router.post("/batch", response_model=BatchResponse, summary="Several generate requests at once")
async def batch(services: ServicesDep, cache: ResponseCacheDep, work: SlowWorkDep,
                body: BatchRequest) -> dict:
    """Each race is built once and its field planned once; results in request order."""
    def compute(models) -> dict:
        out = service.generate_batch(body.requests, models=models, store=services.store,
                                     narrate=lambda r: narrate_result(services, r))
        out["simulations"] = sum(int(r.get("simulations", 0)) for r in out["results"])
        return out

    return await _answer(services, cache, work, "strategy.batch", body, compute)


@router.post("/simulate", response_model=SimulateResponse, summary="Monte Carlo of given strategies")
async def simulate(services: ServicesDep, cache: ResponseCacheDep, work: SlowWorkDep,
                   body: SimulateRequest) -> dict:
    """Finishing-position histogram, race-time quantiles and expected position per driver; cars
    without a given strategy run their best screened 1-2 stop plan."""
    return await _answer(services, cache, work, "strategy.simulate", body, lambda models: service.simulate_strategies(
        body, models=models, store=services.store))


@router.post("/live", response_model=LiveResponse, summary="Box now or stay out?")
async def live(services: ServicesDep, cache: ResponseCacheDep, work: SlowWorkDep,
               body: LiveRequest) -> dict:
    """BOX_NOW / STAY_OUT / BOX_UNDER_SC with expected places gained, P(gain) and the best next
    compound. The field starts from the stored race's real state at ``lap`` when it is stored."""
    return await _answer(services, cache, work, "strategy.live", body, lambda models: service.live_advice(
        body, models=models, store=services.store))


@router.post("/undercut", response_model=UndercutResponse, summary="Undercut / overcut against a rival")
async def undercut(services: ServicesDep, cache: ResponseCacheDep, work: SlowWorkDep,
                   body: UndercutRequest) -> dict:
    """Gain per lap of the rival's delay, the lap the undercut works, the gap it overturns."""
    return await _answer(services, cache, work, "strategy.undercut", body, lambda models: service.undercut_calc(
        body, models=models, store=services.store))


@router.post("/replay", response_model=ReplayResponse, summary="Re-simulate a stored race from a lap")
async def replay(services: ServicesDep, cache: ResponseCacheDep, work: SlowWorkDep,
                 body: ReplayRequest) -> dict:
    """The real state at ``from_lap``, real strategies (optionally changed), the simulated order
    with probabilities next to the real one."""
    return await _answer(services, cache, work, "strategy.replay", body, lambda models: service.replay_race(
        body, models=models, store=services.store))
