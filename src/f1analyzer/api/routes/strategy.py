"""``/strategy/*``: thin routes over :mod:`f1analyzer.app.strategy`.

Every answer is cached by normalised request plus the model version (the engine is deterministic
for a seed), counted in ``f1a_simulations_total`` and timed in ``latency_ms``. Rate limits of
``/strategy/generate`` and ``/strategy/batch`` are applied by the rate-limit middleware
(``api/ratelimit.py`` ``ROUTE_RULES``). Unknown races/drivers answer 404 and impossible requests
422, both with the valid options in the message.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import APIRouter

from ...app import strategy as service
from ..caching import ResponseCacheDep
from ..deps import StateDep
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

router = APIRouter(prefix="/strategy", tags=["strategy"])


def _models(state):
    """Race models of the app's model set (``state.services["models"]``, loaded once)."""
    from ...models.bundled import race_models_for_state

    return race_models_for_state(state)


def _model_version(state) -> str | None:
    ms = state.services.get("models")
    return getattr(ms, "version", None) or getattr(ms, "data_hash_", None)


def narrate_result(state, result: dict) -> dict:
    """Narration of ``/strategy/generate`` and ``/batch``: the structured result in, the result
    with ``narrative``, ``sources``, ``provider`` and ``fallback_reason`` out (Claude when a key
    is configured, else the offline writer; numbers checked against the result)."""
    from ...narration.strategy import narrate_strategy

    story = narrate_strategy(result, state.settings)
    usage = story.get("usage") or {}
    if usage.get("input_tokens") or usage.get("output_tokens"):
        record_llm_usage(story.get("provider") or "unknown", story.get("model") or "unknown",
                         int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0)))
    result.update({k: story.get(k) for k in ("narrative", "sources", "provider", "fallback_reason")})
    return result


def _answer(state, cache, namespace: str, body, compute: Callable[[], dict]) -> dict:
    t0 = time.perf_counter()
    _models(state)  # load the model set first: its version is part of the key
    payload = {**body.model_dump(mode="json"), "_models": _model_version(state)}

    def run() -> dict:
        out = compute()
        record_simulations(int(out.get("simulations", 0) or 0))
        return out

    out, hit = cache.get_or_compute(namespace, payload, run)
    out = dict(out)
    out["cached"] = hit
    out["latency_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    return out


@router.post("/generate", response_model=GenerateResponse, summary="Best pit strategies for a driver")
def generate(state: StateDep, cache: ResponseCacheDep, body: GenerateRequest) -> dict:
    """Ranked strategies (stops, compounds, pit laps and windows, finishing distribution, P(gain),
    robustness to Safety Car timing) for ``driver`` from ``grid``. Driver pace uses only races
    before the event (``pre_race``)."""
    return _answer(state, cache, "strategy.generate", body, lambda: service.generate_strategy(
        body.model_dump(exclude_none=True), models=_models(state), store=state.store,
        narrate=lambda r: narrate_result(state, r)))


@router.post("/batch", response_model=BatchResponse, summary="Several generate requests at once")
def batch(state: StateDep, cache: ResponseCacheDep, body: BatchRequest) -> dict:
    """Each race is built once and its field planned once; results in request order."""
    def compute() -> dict:
        out = service.generate_batch([r.model_dump(exclude_none=True) for r in body.requests],
                                     models=_models(state), store=state.store,
                                     narrate=lambda r: narrate_result(state, r))
        out["simulations"] = sum(int(r.get("simulations", 0)) for r in out["results"])
        return out

    return _answer(state, cache, "strategy.batch", body, compute)


@router.post("/simulate", response_model=SimulateResponse, summary="Monte Carlo of given strategies")
def simulate(state: StateDep, cache: ResponseCacheDep, body: SimulateRequest) -> dict:
    """Finishing-position histogram, race-time quantiles and expected position per driver; cars
    without a given strategy run their best screened 1-2 stop plan."""
    return _answer(state, cache, "strategy.simulate", body, lambda: service.simulate_strategies(
        body.model_dump(exclude_none=True), models=_models(state), store=state.store))


@router.post("/live", response_model=LiveResponse, summary="Box now or stay out?")
def live(state: StateDep, cache: ResponseCacheDep, body: LiveRequest) -> dict:
    """BOX_NOW / STAY_OUT / BOX_UNDER_SC with expected places gained, P(gain) and the best next
    compound. The field starts from the stored race's real state at ``lap`` when it is stored."""
    return _answer(state, cache, "strategy.live", body, lambda: service.live_advice(
        body.model_dump(exclude_none=True), models=_models(state), store=state.store))


@router.post("/undercut", response_model=UndercutResponse, summary="Undercut / overcut against a rival")
def undercut(state: StateDep, cache: ResponseCacheDep, body: UndercutRequest) -> dict:
    """Gain per lap of the rival's delay, the lap the undercut works, the gap it overturns."""
    return _answer(state, cache, "strategy.undercut", body, lambda: service.undercut_calc(
        body.model_dump(exclude_none=True), models=_models(state), store=state.store))


@router.post("/replay", response_model=ReplayResponse, summary="Re-simulate a stored race from a lap")
def replay(state: StateDep, cache: ResponseCacheDep, body: ReplayRequest) -> dict:
    """The real state at ``from_lap``, real strategies (optionally changed), the simulated order
    with probabilities next to the real one."""
    return _answer(state, cache, "strategy.replay", body, lambda: service.replay_race(
        body.model_dump(exclude_none=True), models=_models(state), store=state.store))
