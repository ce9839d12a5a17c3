"""Plain-data entry points of the strategy engine: the API, the CLI and the Lambda all call these.

Every function takes a request ``dict`` (JSON-shaped, the same fields as the HTTP body) plus the
race models and the store, and returns a JSON-ready ``dict``. Bad requests raise
:class:`~f1analyzer.errors.InvalidRequestError` / :class:`~f1analyzer.errors.NotFoundError`
with messages that list the valid options; callers map them (HTTP 4xx, CLI ``error:`` line).

=========================  ==============================================================
function                   answers
=========================  ==============================================================
:func:`generate_strategy`  ranked strategies for one driver (``POST /strategy/generate``)
:func:`generate_batch`     several generate requests sharing the work per race
:func:`simulate_strategies` Monte Carlo of caller-given strategies (``/strategy/simulate``)
:func:`live_advice`        BOX_NOW / STAY_OUT / BOX_UNDER_SC from a race state (``/live``)
:func:`undercut_calc`      undercut/overcut against a rival (``/strategy/undercut``)
:func:`replay_race`        a stored race re-simulated from a lap (``/strategy/replay``)
:func:`run_backtest`       a season's backtest (``f1analyzer backtest``)
:func:`strategy_engine_ok` the ``strategy_generator`` health check
=========================  ==============================================================

``models`` may be a :class:`~f1analyzer.models.race_models.RaceModels` or a model set holding
one; ``None`` loads the current set (registry, else bundled). ``store`` ``None`` is the
configured store.

Driver pace comes from races *before* the event (``pre_race``, default true) everywhere except
:func:`replay_race`, which re-simulates a past race with the pace it really had (the event
included). ``pre_race`` may be given in any request to change that.

Narration seam: :func:`attach_narrative` receives the structured ``generate`` result and returns
it with ``narrative``, ``sources`` and ``provider``. Until the narration layer plugs in there it
leaves ``narrative: None, sources: [], provider: None``.

Layout: :func:`live_advice`, :func:`undercut_calc` and their race-state plumbing live in
:mod:`.service_live`, the shared request plumbing (defaults, field parsing, :func:`plain`) in
:mod:`.service_common`; every name is re-exported here, so ``service.<name>`` keeps working.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from f1analyzer.errors import InvalidRequestError, NotFoundError
from f1analyzer.log import get_logger
from f1analyzer.simulation.scenario.build import BuiltRace, params_from_models, regrid
from f1analyzer.simulation.core.engine import simulate
from f1analyzer.simulation.planning.optimiser import optimise
from f1analyzer.simulation.core.params import COMPOUNDS, MAX_STOPS
from f1analyzer.simulation.planning.screen import default_field_strategies
from f1analyzer.simulation.core.strategy import Strategy

# the shared plumbing and the live entry points live in their own modules; every name stays
# importable from here (``service.live_advice``, ``service.MIN_STINT_LAPS``, ...)
from f1analyzer.app.common import (  # noqa: F401 - re-exported
    DEFAULT_GENERATE_SIMS,
    DEFAULT_LIVE_SIMS,
    DEFAULT_REPLAY_SIMS,
    DEFAULT_SIMULATE_SIMS,
    DEFAULT_UNDERCUT_SIMS,
    MAX_SIMS,
    MAX_TOP_K,
    MIN_STINT_LAPS,
    N_FINALISTS,
    TRACK_STATUS,
    _build,
    _driver_code,
    _event,
    _int,
    _meta,
    _model_info,
    _plain_result,
    _r,
    plain,
    resolve_models,
    resolve_store,
)
from f1analyzer.app.live import (  # noqa: F401 - re-exported
    _base_state,
    _car_update,
    _normalise,
    _state_from_request,
    _synthetic_state,
    live_advice,
    undercut_calc,
)

log = get_logger("simulation.service")


# ------------------------------------------------------------------------------ generate
def _option_dict(rank: int, opt) -> dict:
    s = opt.strategy
    t10, t50, t90 = opt.race_time_p10_p50_p90_s
    phase = {k: _r(v) for k, v in opt.expected_position_by_sc_phase.items()}
    known = [v for v in phase.values() if v is not None]
    o = opt.outcomes
    return {
        "rank": rank, "strategy": s.describe(), "stops": s.n_stops, "compounds": list(s.compounds),
        "pit_laps": list(s.pit_laps), "pit_windows": [list(w) for w in opt.pit_windows],
        # headline: where the car finishes when it finishes; retirements apart in p_dnf
        "expected_position_if_classified": _r(o.get("expected_position_if_classified")),
        "p_win": _r(o.get("p_win"), 4), "p_podium": _r(o.get("p_podium", opt.prob_podium), 4),
        "expected_points": _r(o.get("expected_points"), 2), "p_dnf": _r(o.get("p_dnf"), 4),
        # percentiles of the finishing position when classified: "in 10 % of races P2 or better"
        "position_10th_percentile": _r(o.get("position_10th_percentile")),
        "position_median": _r(o.get("position_median")),
        "position_90th_percentile": _r(o.get("position_90th_percentile")),
        # over all sims, retirements classified behind (the ranking key)
        "expected_position": _r(opt.expected_position),
        "race_time_10th_percentile_s": _r(t10), "race_time_median_s": _r(t50),
        "race_time_90th_percentile_s": _r(t90), "p_gain_positions": _r(opt.prob_gain_positions, 4),
        "position_histogram": {str(k + 1): round(p, 4) for k, p in enumerate(opt.position_histogram) if p > 0},
        "reasons": {k: _r(v, 2) for k, v in (opt.reasons or {}).items()},
        "rules_applied": list(opt.rules_applied),
        "robustness": {
            "expected_position_green": _r(opt.expected_position_green),
            "expected_position_neutralised": _r(opt.expected_position_neutralised),
            "expected_position_by_sc_start": phase,
            "sc_timing_spread": _r(max(known) - min(known)) if len(known) >= 2 else None,
        },
    }


def simulation_inputs(params) -> dict:
    """The numbers the simulation ran with (after any tyre-ordering override), for the answer
    and its narrative: pit losses and, per dry compound, fresh offset against a fresh Medium and
    the time lost to wear after 10 laps."""
    tyres = {}
    ref = params.compounds.get("MEDIUM")
    for name, c in params.compounds.items():
        if not c.is_dry:
            continue
        tyres[name] = {"pace_offset_s": _r(c.pace_offset_s - (ref.pace_offset_s if ref else 0.0), 3),
                       "wear_after_10_laps_s": _r(float(c.delta_s(10)), 3),
                       "cliff_lap": c.cliff_lap}
    return {"pit_loss_s": _r(params.pit_loss_s, 2), "pit_loss_sc_s": _r(params.pit_loss_sc_s, 2),
            "pit_loss_vsc_s": _r(params.pit_loss_vsc_s, 2), "tyres": tyres}


@_plain_result
def _generate_on(built: BuiltRace, models, req: dict, *, field=None) -> dict:
    t0 = time.perf_counter()
    params = built.params
    driver = req.get("driver")
    driver = _driver_code(built, driver) if driver else min(params.cars, key=lambda c: c.grid_position).driver
    grid = _int(req, "grid", lo=1, hi=params.n_cars)
    if grid is not None and grid > params.n_cars:
        raise InvalidRequestError(f"grid must be between 1 and {params.n_cars}.")
    if grid is not None:
        params = regrid(params, driver, grid)
    top_k = _int(req, "top_k", 3, lo=1, hi=MAX_TOP_K)
    n_sims = _int(req, "n_sims", DEFAULT_GENERATE_SIMS, lo=10, hi=MAX_SIMS)
    seed = _int(req, "seed", 0, lo=0, hi=2**31 - 1)
    res = optimise(params, driver, n_sims=n_sims, seed=seed, top_k=top_k, n_finalists=N_FINALISTS,
                   field_strategies=field, min_stint_laps=min(MIN_STINT_LAPS, params.total_laps // 4))
    out = {
        **_meta(built), "driver": driver, "grid": params.cars[params.car_index(driver)].grid_position,
        "strategies": [_option_dict(k, o) for k, o in enumerate(res.options, start=1)],
        "n_sims": n_sims, "seed": seed, "candidates_screened": res.n_screened,
        "simulations": n_sims * min(N_FINALISTS, max(res.n_screened, 1)),
        "model": _model_info(models, built), "notes": list(built.notes), "rules": list(res.rules),
        "data_used": dict(built.data_used), "confidence": built.confidence,
        "confidence_reasons": list(built.confidence_reasons),
        "simulation_inputs": simulation_inputs(params),
        "narrative": None, "sources": [], "provider": None, "cached": False,
        "latency_ms": round((time.perf_counter() - t0) * 1000, 1),
    }
    return out


@_plain_result
def generate_strategy(request: dict, *, models=None, store=None,
                      narrate: Callable[[dict], dict] | None = None) -> dict:
    """Ranked strategies for a driver (``POST /strategy/generate``).

    Args:
        request: ``{"season", "event", "driver"?, "grid"?, "top_k"?=3, "n_sims"?=300,
            "seed"?=0, "pre_race"?=true}``. ``driver`` defaults to P1 of the grid (lap-1 order
            for stored races); ``grid`` (1..n_cars) moves the driver to that slot.
        narrate: replaces :func:`attach_narrative` (the narration layer's hook).

    Returns:
        ``{season, round, event, circuit_key, driver, grid, total_laps, strategies: [{rank,
        strategy, stops, compounds, pit_laps, pit_windows, expected_position_if_classified (the
        headline), p_win, p_podium, expected_points, p_dnf, position_10th_percentile /
        position_median / position_90th_percentile (classified races), expected_position (all
        races), race_time_10th_percentile_s / race_time_median_s / race_time_90th_percentile_s,
        p_gain_positions, position_histogram, reasons, rules_applied, robustness}], data_used,
        confidence, confidence_reasons, simulation_inputs, narrative, sources, provider, cached,
        latency_ms, ...}``.
    """
    t0 = time.perf_counter()
    models = resolve_models(models)
    store = resolve_store(store)
    built = _build(request, models, store, driver=request.get("driver") or None,
                   pre_race=bool(request.get("pre_race", True)))
    out = _generate_on(built, models, request)
    out = (narrate or attach_narrative)(out)
    out["latency_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    return out


@_plain_result
def generate_batch(requests: Sequence[dict], *, models=None, store=None,
                   narrate: Callable[[dict], dict] | None = None) -> dict:
    """Several generate requests; the race is built and the field planned once per event.

    Requests for the same ``(season, event, pre_race)`` share one :class:`BuiltRace` and the
    field's default strategies; with the same seed they also see the same random numbers
    (common random numbers), so their answers are directly comparable.
    """
    if not requests:
        raise InvalidRequestError("requests must hold at least one generate request.")
    t0 = time.perf_counter()
    models = resolve_models(models)
    store = resolve_store(store)
    shared: dict[tuple, tuple[BuiltRace, list[Strategy]]] = {}
    results = []
    for k, req in enumerate(requests):
        if not isinstance(req, dict):
            raise InvalidRequestError(f"requests[{k}] must be an object like a generate request.")
        season = _int(req, "season", required=True, lo=1950, hi=2100)
        key = (season, str(_event(req)).strip().lower(), bool(req.get("pre_race", True)))
        if key not in shared:
            built = _build(req, models, store, pre_race=key[2])
            shared[key] = (built, default_field_strategies(built.params))
        built, field = shared[key]
        try:
            out = _generate_on(built, models, req, field=field)
        except (InvalidRequestError, NotFoundError) as exc:
            raise type(exc)(f"requests[{k}]: {exc.message}", details=exc.details) from None
        results.append((narrate or attach_narrative)(out))
    return {"results": results, "count": len(results), "races_built": len(shared),
            "latency_ms": round((time.perf_counter() - t0) * 1000, 1)}


def attach_narrative(result: dict) -> dict:
    """Narration seam: return ``result`` with ``narrative``, ``sources`` and ``provider`` set.

    The narration layer replaces this (or passes ``narrate=`` to :func:`generate_strategy`) with a
    function that reads the structured result and writes prose; until then the fields stay
    ``None`` / ``[]`` / ``None``.
    """
    result.setdefault("narrative", None)
    result.setdefault("sources", [])
    result.setdefault("provider", None)
    return result


# ------------------------------------------------------------------------------ simulate
def _parse_strategy(built: BuiltRace, item: dict, k: int) -> tuple[int, Strategy]:
    if not isinstance(item, dict) or not item.get("driver"):
        raise InvalidRequestError(f"strategies[{k}] needs a driver and a start_compound.")
    code = _driver_code(built, item["driver"])
    stops = item.get("stops") or []
    if len(stops) > MAX_STOPS:
        raise InvalidRequestError(f"{code}: at most {MAX_STOPS} stops.")
    try:
        pairs = tuple((int(s["lap"]), str(s["compound"])) for s in stops)
    except (KeyError, TypeError, ValueError):
        raise InvalidRequestError(
            f"{code}: each stop is {{\"lap\": int, \"compound\": one of {', '.join(COMPOUNDS)}}}.") from None
    start = item.get("start_compound")
    if not start:
        raise InvalidRequestError(f"{code}: start_compound is required ({', '.join(built.params.dry_compounds)}).")
    strat = Strategy(str(start), pairs)
    try:
        strat.validate(built.params)
    except InvalidRequestError as exc:
        raise InvalidRequestError(f"{code}: {exc.message}", details=exc.details) from None
    return built.params.car_index(code), strat


@_plain_result
def simulate_strategies(request: dict, *, models=None, store=None) -> dict:
    """Monte Carlo of caller-given strategies (``POST /strategy/simulate``).

    Args:
        request: ``{"season", "event", "strategies": [{"driver", "start_compound",
            "stops": [{"lap", "compound"}]}], "n_sims"?=2000, "seed"?=0}``. Cars not listed run
            their best screened 1-2 stop plan.

    Returns:
        per driver (by expected position): ``position_histogram``, ``race_time_quantiles_s``
        (p10/p50/p90), ``expected_position``, ``p_gain_positions``, ``p_retired``, the strategy
        and whether the caller gave it.
    """
    t0 = time.perf_counter()
    models = resolve_models(models)
    store = resolve_store(store)
    built = _build(request, models, store, pre_race=bool(request.get("pre_race", True)))
    params = built.params
    given = request.get("strategies") or []
    if not isinstance(given, list) or not given:
        raise InvalidRequestError("strategies must list at least one {driver, start_compound, stops}.")
    plans = default_field_strategies(params)
    mine: set[int] = set()
    for k, item in enumerate(given):
        i, strat = _parse_strategy(built, item, k)
        if i in mine:
            raise InvalidRequestError(f"{params.drivers[i]} is given two strategies; give one per driver.")
        plans[i], _ = strat, mine.add(i)
    n_sims = _int(request, "n_sims", DEFAULT_SIMULATE_SIMS, lo=10, hi=MAX_SIMS)
    seed = _int(request, "seed", 0, lo=0, hi=2**31 - 1)
    res = simulate(params, plans, n_sims=n_sims, seed=seed)
    rows = []
    for i, car in enumerate(params.cars):
        q = res.time_quantiles(i)
        hist = res.position_histogram(i)
        rows.append({
            "driver": car.driver, "team": car.team, "grid": car.grid_position,
            "strategy": plans[i].describe(), "given": i in mine,
            "expected_position": _r(res.expected_position(i)),
            "position_histogram": {str(k + 1): round(float(p), 4) for k, p in enumerate(hist) if p > 0},
            "race_time_quantiles_s": {"p10": _r(q[0]), "p50": _r(q[1]), "p90": _r(q[2])},
            "p_gain_positions": _r(res.prob_gain_positions(i), 4),
            "p_retired": _r(res.retired[:, i].mean(), 4),
            **{k: _r(v, 4) for k, v in res.outcomes(i).items()},
        })
    rows.sort(key=lambda r: (r["expected_position"], r["grid"]))
    return {**_meta(built), "n_sims": n_sims, "seed": seed, "simulations": n_sims, "drivers": rows,
            "model": _model_info(models, built), "notes": list(built.notes),
            "latency_ms": round((time.perf_counter() - t0) * 1000, 1)}

# ------------------------------------------------------------------------------ replay, backtest
@_plain_result
def replay_race(request: dict, *, models=None, store=None) -> dict:
    """A stored race re-simulated from its real state (``POST /strategy/replay``).

    Args:
        request: ``{"season", "event", "from_lap"?=1 (0 = from the grid), "changes"?:
            ["VER:pit=18:HARD", "LEC:plan=M-20-H", "NOR:nostop"], "track_status"?:
            "real"|"sampled", "n_sims"?=1000, "seed"?=0}``.
    """
    from f1analyzer.data.session import Race
    from f1analyzer.simulation.scenario.replay import replay

    t0 = time.perf_counter()
    models = resolve_models(models)
    store = resolve_store(store)
    built = _build(request, models, store, pre_race=bool(request.get("pre_race", False)))
    if not built.stored:
        raise NotFoundError(f"{built.season} {built.event} is not stored, so it cannot be replayed. "
                            "Stored races: " + ", ".join(
                                f"{r['round']}: {r['event']}" for r in store.races(built.season).to_dict("records")))
    race = Race(built.season, built.round, store=store)
    changes = request.get("changes") or []
    if isinstance(changes, str):
        changes = [c for c in changes.split(",") if c.strip()]
    for c in changes:
        if isinstance(c, str):
            from f1analyzer.simulation.scenario.replay import Change

            ch = Change.parse(c)
            _driver_code(built, ch.driver)
    out = replay(built, race, from_lap=_int(request, "from_lap", 1, lo=0, hi=200), changes=changes,
                 n_sims=_int(request, "n_sims", DEFAULT_REPLAY_SIMS, lo=10, hi=MAX_SIMS),
                 seed=_int(request, "seed", 0, lo=0, hi=2**31 - 1),
                 track_status=str(request.get("track_status") or "real"))
    out["spearman"] = _r(out["spearman"], 4)
    out["simulations"] = out["n_sims"]
    out["latency_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    return out


@_plain_result
def run_backtest(season: int, *, store=None, rounds=None, models_from="train", **kw) -> dict:
    """The backtest of a season (see :mod:`.backtest`); ``models_from`` ``"train"`` (fit on the
    earlier seasons), ``"registry"`` (the current model set) or a RaceModels."""
    from f1analyzer.simulation.backtest import backtest

    store = resolve_store(store)
    if isinstance(models_from, str) and models_from not in ("train",):
        if models_from not in ("registry", "current", "bundled"):
            raise InvalidRequestError(f"models_from must be train or registry, got {models_from!r}.",
                                      details={"options": ["train", "registry"]})
        from f1analyzer.models.bundled import load_bundled_models

        models_from = load_bundled_models() if models_from == "bundled" else resolve_models(None)
    return backtest(store, season, rounds=rounds, models_from=models_from, **kw)


# ------------------------------------------------------------------------------ health
_HEALTH_TTL_S = 30.0


def strategy_engine_ok(state) -> bool:
    """``strategy_generator`` health check: the loaded race models build race parameters and a
    tiny Monte Carlo runs on them (a 4-car field at the first circuit of the models; no store
    needed). The answer is cached for 30 s in ``state.services``."""
    cached = state.services.get("strategy_engine_health")
    now = time.monotonic()
    if cached and now - cached[0] < _HEALTH_TTL_S:
        return cached[1]
    ok = False
    try:
        from f1analyzer.models.bundled import race_models_for_state

        models = race_models_for_state(state)
        key = next(iter(sorted(models.circuits_)), "_all")
        season = max(models.seasons_) if getattr(models, "seasons_", None) else 2024
        cars = [{"driver": f"H{k:02d}", "base_pace_s": 0.1 * k} for k in range(4)]
        params, _, _ = params_from_models(models, key, season, 12, cars)
        res = simulate(params, default_field_strategies(params), n_sims=8, seed=0)
        ok = bool(np.isfinite(res.expected_position(0)))
    except Exception as exc:  # noqa: BLE001 - a failing check means the part does not work
        log.warning("strategy engine health check failed: %s", exc)
        ok = False
    state.services["strategy_engine_health"] = (now, ok)
    return ok


__all__ = ["generate_strategy", "generate_batch", "simulate_strategies", "live_advice", "undercut_calc",
           "replay_race", "run_backtest", "strategy_engine_ok", "attach_narrative", "resolve_models"]
