"""The strategy operations: the API, the CLI and the Lambda (through the API) all call these.

Every function takes its typed request (:mod:`.requests`; a dict of the same fields is accepted
and checked once by :meth:`~.requests.OperationRequest.of`) plus the application's model set and
race store (:class:`~f1analyzer.app.services.Services` hands them out), and returns a JSON-ready
``dict``. What depends on the race raises :class:`~f1analyzer.errors.InvalidRequestError` /
:class:`~f1analyzer.errors.NotFoundError` with messages that list the valid options; callers map
them (HTTP 4xx, CLI ``error:`` line).

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

``models`` is a :class:`~f1analyzer.models.loading.ModelSet` (its ``version`` goes into the
answer's ``model`` block) or bare :class:`~f1analyzer.models.race_models.RaceModels`.

Driver pace comes from races *before* the event (``pre_race``, default true) everywhere except
:func:`replay_race`, which re-simulates a past race with the pace it really had.

Narration seam: ``narrate`` receives the structured ``generate`` result and returns it with
``narrative``, ``sources`` and ``provider`` (the application passes the narrator; without one
:func:`attach_narrative` leaves them empty).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from f1analyzer.app.common import (  # noqa: F401 - MIN_STINT_LAPS re-exported for callers
    MIN_STINT_LAPS,
    N_FINALISTS,
    _build,
    _driver_code,
    _meta,
    _model_info,
    _plain_result,
    _r,
    plain,
    unpack_models,
)
from f1analyzer.app.history import history_check
from f1analyzer.app.live import live_advice, undercut_calc  # noqa: F401 - re-exported
from f1analyzer.app.requests import (
    BacktestRequest,
    GenerateRequest,
    ReplayRequest,
    SimulateRequest,
    StrategyIn,
)
from f1analyzer.data.session import Race
from f1analyzer.deadlines import check_deadline
from f1analyzer.errors import InvalidRequestError, NotFoundError
from f1analyzer.log import get_logger
from f1analyzer.models.bundled import load_bundled_models
from f1analyzer.models.features import era_label
from f1analyzer.simulation.backtest import backtest
from f1analyzer.simulation.core.engine import simulate
from f1analyzer.simulation.core.strategy import Strategy
from f1analyzer.simulation.planning.optimiser import optimise
from f1analyzer.simulation.planning.screen import default_field_strategies
from f1analyzer.simulation.scenario.build import BuiltRace, params_from_models, regrid
from f1analyzer.simulation.scenario.field_plans import venue_history
from f1analyzer.simulation.scenario.replay import Change, replay

log = get_logger("app.strategy")


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


def field_history_of(built: BuiltRace, store) -> list[dict]:
    """What the top ten did at the race's circuit in its earlier races (newest first; only races
    before ``(season, round)``, so an answer about a past race never sees its own result)."""
    return venue_history(store, built.circuit_key, built.season, built.round)


@_plain_result
def _generate_on(built: BuiltRace, models, version, req: GenerateRequest, *, field=None,
                 field_history: list[dict] | None = None) -> dict:
    """One generate answer on an already built race (shared by :func:`generate_batch`).

    ``field_history`` (:func:`field_history_of`, looked up once per race by the caller, which
    holds the store) adds ``field_history`` and ``history_check`` to the answer; None leaves
    both out (callers that read only the plan: season preview, sweep)."""
    params = built.params
    driver = (_driver_code(built, req.driver) if req.driver
              else min(params.cars, key=lambda c: c.grid_position).driver)
    if req.grid is not None:
        params = regrid(params, driver, req.grid)  # the one grid check: 1..cars of this race
    res = optimise(params, driver, n_sims=req.n_sims, seed=req.seed, top_k=req.top_k,
                   n_finalists=N_FINALISTS, field_strategies=field,
                   min_stint_laps=min(MIN_STINT_LAPS, params.total_laps // 4))
    strategies = [_option_dict(k, o) for k, o in enumerate(res.options, start=1)]
    history = {} if field_history is None else {
        "field_history": list(field_history),
        "history_check": history_check(strategies[0] if strategies else None, field_history,
                                       era_label(built.season))}
    return {
        **_meta(built), "driver": driver, "grid": params.cars[params.car_index(driver)].grid_position,
        "strategies": strategies, **history,
        "n_sims": req.n_sims, "seed": req.seed, "candidates_screened": res.n_screened,
        "simulations": req.n_sims * res.n_raced,
        "model": _model_info(models, version, built), "notes": list(built.notes), "rules": list(res.rules),
        "data_used": dict(built.data_used), "confidence": built.confidence,
        "confidence_reasons": list(built.confidence_reasons),
        "simulation_inputs": simulation_inputs(params),
        "narrative": None, "sources": [], "provider": None, "cached": False,
    }


@_plain_result
def generate_strategy(request: GenerateRequest | dict, *, models, store,
                      narrate: Callable[[dict], dict] | None = None) -> dict:
    """Ranked strategies for a driver (``POST /strategy/generate``).

    Args:
        request: :class:`~.requests.GenerateRequest`. ``driver`` defaults to P1 of the grid
            (lap-1 order for stored races); ``grid`` (1..n_cars) moves the driver to that slot.
        narrate: writes ``narrative``/``sources``/``provider`` (default :func:`attach_narrative`).

    Returns:
        ``{season, round, event, circuit_key, driver, grid, total_laps, strategies: [{rank,
        strategy, stops, compounds, pit_laps, pit_windows, expected_position_if_classified (the
        headline), p_win, p_podium, expected_points, p_dnf, position_10th_percentile /
        position_median / position_90th_percentile (classified races), expected_position (all
        races), race_time_10th_percentile_s / race_time_median_s / race_time_90th_percentile_s,
        p_gain_positions, position_histogram, reasons, rules_applied, robustness}], data_used,
        confidence, confidence_reasons, simulation_inputs, field_history: [{season, round, event,
        era, wet, total_laps, stops, green_stops, compounds, median_first_stop_lap, n_cars}] (the
        top ten's modal plan at the circuit's earlier races, newest first), history_check (the
        rank-1 plan against the newest dry race of the same car era, or None: see
        :func:`~f1analyzer.app.history.history_check`), narrative, sources, provider, cached,
        model: {version, ...}, latency_ms, ...}``.
    """
    t0 = time.perf_counter()
    req = GenerateRequest.of(request)
    race_models, version = unpack_models(models)
    built = _build(req, race_models, store)
    out = (narrate or attach_narrative)(_generate_on(built, race_models, version, req,
                                                     field_history=field_history_of(built, store)))
    out["latency_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    return out


@_plain_result
def generate_batch(requests: Sequence[GenerateRequest | dict], *, models, store,
                   narrate: Callable[[dict], dict] | None = None) -> dict:
    """Several generate requests; the race is built and the field planned once per event.

    Requests for the same ``(season, event, pre_race)`` share one :class:`BuiltRace`, the
    field's default strategies and the circuit's ``field_history``; with the same seed they also
    see the same random numbers (common random numbers), so their answers are directly comparable.
    """
    if not requests:
        raise InvalidRequestError("requests must hold at least one generate request.")
    t0 = time.perf_counter()
    race_models, version = unpack_models(models)
    shared: dict[tuple, tuple[BuiltRace, list[Strategy], list[dict]]] = {}
    results = []
    for k, item in enumerate(requests):
        check_deadline("batch")  # nobody waits for the rest once the request's deadline passed
        try:
            req = GenerateRequest.of(item)
            key = (req.season, req.event.lower(), req.pre_race)
            if key not in shared:
                built = _build(req, race_models, store)
                shared[key] = (built, default_field_strategies(built.params), field_history_of(built, store))
            built, field, history = shared[key]
            t1 = time.perf_counter()
            out = _generate_on(built, race_models, version, req, field=field, field_history=history)
        except (InvalidRequestError, NotFoundError) as exc:
            raise type(exc)(f"requests[{k}]: {exc.message}", details=exc.details) from None
        out = (narrate or attach_narrative)(out)
        out["latency_ms"] = round((time.perf_counter() - t1) * 1000, 1)
        results.append(out)
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
def _parse_strategy(built: BuiltRace, item: StrategyIn) -> tuple[int, Strategy]:
    code = _driver_code(built, item.driver)
    strat = Strategy(item.start_compound, tuple((s.lap, s.compound) for s in item.stops))
    try:
        strat.validate(built.params)
    except InvalidRequestError as exc:
        raise InvalidRequestError(f"{code}: {exc.message}", details=exc.details) from None
    return built.params.car_index(code), strat


@_plain_result
def simulate_strategies(request: SimulateRequest | dict, *, models, store) -> dict:
    """Monte Carlo of caller-given strategies (``POST /strategy/simulate``).

    Args:
        request: :class:`~.requests.SimulateRequest`. Cars not listed run their best screened
            1-2 stop plan.

    Returns:
        per driver (by expected position): ``position_histogram``, ``race_time_quantiles_s``
        (p10/p50/p90), ``expected_position``, ``p_gain_positions``, ``p_retired``, the strategy
        and whether the caller gave it.
    """
    t0 = time.perf_counter()
    req = SimulateRequest.of(request)
    race_models, version = unpack_models(models)
    built = _build(req, race_models, store)
    params = built.params
    plans = default_field_strategies(params)
    mine: set[int] = set()
    for item in req.strategies:
        i, strat = _parse_strategy(built, item)
        if i in mine:
            raise InvalidRequestError(f"{params.drivers[i]} is given two strategies; give one per driver.")
        plans[i], _ = strat, mine.add(i)
    res = simulate(params, plans, n_sims=req.n_sims, seed=req.seed)
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
    return {**_meta(built), "n_sims": req.n_sims, "seed": req.seed, "simulations": req.n_sims, "drivers": rows,
            "model": _model_info(race_models, version, built), "notes": list(built.notes),
            "latency_ms": round((time.perf_counter() - t0) * 1000, 1)}


# ------------------------------------------------------------------------------ replay, backtest
@_plain_result
def replay_race(request: ReplayRequest | dict, *, models, store) -> dict:
    """A stored race re-simulated from its real state (``POST /strategy/replay``).

    Args:
        request: :class:`~.requests.ReplayRequest`: ``from_lap`` (0 = from the grid),
            ``changes`` (``"VER:pit=18:HARD"``, ``"LEC:plan=M-20-H"``, ``"NOR:nostop"``),
            ``track_status`` and ``retirements`` ``"real"|"sampled"``.
    """
    t0 = time.perf_counter()
    req = ReplayRequest.of(request)
    race_models, version = unpack_models(models)
    built = _build(req, race_models, store)
    if not built.stored:
        raise NotFoundError(f"{built.season} {built.event} is not stored, so it cannot be replayed. "
                            "Stored races: " + ", ".join(
                                f"{r['round']}: {r['event']}" for r in store.races(built.season).to_dict("records")))
    race = Race(built.season, built.round, store=store)
    for c in req.changes:
        _driver_code(built, Change.parse(c).driver)
    out = replay(built, race, from_lap=req.from_lap, changes=list(req.changes), n_sims=req.n_sims,
                 seed=req.seed, track_status=req.track_status, retirements=req.retirements)
    out["spearman"] = _r(out["spearman"], 4)
    out["spearman_classified"] = _r(out["spearman_classified"], 4)
    out["simulations"] = out["n_sims"]
    out["model"] = _model_info(race_models, version, built)
    out["latency_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    return out


@_plain_result
def run_backtest(request: BacktestRequest | dict, *, store, models=None) -> dict:
    """The backtest of a season (see :mod:`f1analyzer.simulation.backtest`).

    ``models_from`` ``"train"`` fits on the earlier seasons; ``"asof"`` runs each race on the
    models its pre-race answer uses (every earlier race); ``"registry"`` uses ``models`` (the
    application's current set); ``"bundled"`` the shipped set.
    """
    req = BacktestRequest.of(request)
    models_from = req.models_from
    if models_from == "registry":
        models_from, _ = unpack_models(models)
    elif models_from == "bundled":
        models_from = load_bundled_models()
    return backtest(store, req.season, rounds=req.rounds, models_from=models_from, opt_sims=req.opt_sims,
                    replay_sims=req.replay_sims, advisor_sims=req.advisor_sims, seed=req.seed,
                    advisor=req.advisor)


# ------------------------------------------------------------------------------ health
def strategy_engine_ok(models) -> bool:
    """``strategy_generator`` health check: the race models build race parameters and a tiny
    Monte Carlo runs on them (a 4-car field at the first circuit of the models; no store needed).
    The application caches the answer (:meth:`Services.strategy_engine_ok`)."""
    try:
        race_models, _ = unpack_models(models)
        key = next(iter(sorted(race_models.circuits_)), "_all")
        season = max(race_models.seasons_) if getattr(race_models, "seasons_", None) else 2024
        cars = [{"driver": f"H{k:02d}", "base_pace_s": 0.1 * k} for k in range(4)]
        params, _, _ = params_from_models(race_models, key, season, 12, cars)
        res = simulate(params, default_field_strategies(params), n_sims=8, seed=0)
        return bool(np.isfinite(res.expected_position(0)))
    except Exception as exc:  # noqa: BLE001 - a failing check means the part does not work
        log.warning("strategy engine health check failed: %s", exc)
        return False


__all__ = ["generate_strategy", "generate_batch", "simulate_strategies", "live_advice", "undercut_calc",
           "replay_race", "run_backtest", "strategy_engine_ok", "attach_narrative", "plain"]
