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
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from f1analyzer.errors import InvalidRequestError, NotFoundError
from f1analyzer.log import get_logger
from f1analyzer.simulation.advisor import advise
from f1analyzer.simulation.build import BuiltRace, build_race, params_from_models, regrid
from f1analyzer.simulation.engine import simulate
from f1analyzer.simulation.optimiser import optimise
from f1analyzer.simulation.params import COMPOUNDS, MAX_STOPS, TrackStatus
from f1analyzer.simulation.screen import default_field_strategies
from f1analyzer.simulation.state import RaceState
from f1analyzer.simulation.strategy import Strategy
from f1analyzer.simulation.undercut import undercut

log = get_logger("simulation.service")

#: defaults and bounds of request fields (the API schemas use the same numbers)
DEFAULT_GENERATE_SIMS = 300
DEFAULT_SIMULATE_SIMS = 2000
DEFAULT_LIVE_SIMS = 400
DEFAULT_UNDERCUT_SIMS = 200
DEFAULT_REPLAY_SIMS = 1000
MAX_SIMS = 20_000
MAX_TOP_K = 10
N_FINALISTS = 8
#: shortest stint the optimiser plans (the tyre models alone may favour a 3-lap opener)
MIN_STINT_LAPS = 6
TRACK_STATUS = {"green": TrackStatus.GREEN, "sc": TrackStatus.SC, "vsc": TrackStatus.VSC}


# ------------------------------------------------------------------------------ plumbing
def resolve_models(models=None):
    """RaceModels from a model set / RaceModels / None (the current set, else the bundled one)."""
    from f1analyzer.models.bundled import as_race_models, current_race_models

    return current_race_models() if models is None else as_race_models(models)


def resolve_store(store=None):
    if store is not None:
        return store
    from f1analyzer.config import get_settings
    from f1analyzer.data.store import RaceStore

    return RaceStore(get_settings().store_dir)


def _int(req: dict, name: str, default=None, *, lo=None, hi=None, required=False):
    v = req.get(name, default)
    if v is None:
        if required:
            raise InvalidRequestError(f"{name} is required.")
        return None
    try:
        v = int(v)
    except (TypeError, ValueError):
        raise InvalidRequestError(f"{name} must be an integer, got {req.get(name)!r}.") from None
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise InvalidRequestError(f"{name} must be between {lo} and {hi}, got {v}.",
                                  details={"valid_range": [lo, hi]})
    return v


def _event(req: dict):
    ev = req.get("event")
    if ev is None or str(ev).strip() == "":
        raise InvalidRequestError("event is required: a round number, event name, circuit or location.")
    return ev


def _r(x, nd: int = 3):
    if x is None:
        return None
    x = float(x)
    return round(x, nd) if np.isfinite(x) else None


def plain(obj):
    """``obj`` with numpy scalars/arrays turned into Python numbers/lists, NaN into None (JSON)."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [plain(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def _plain_result(fn):
    """Decorator: the function's dict answer passed through :func:`plain`."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return plain(fn(*args, **kwargs))

    return wrapper


def _build(req: dict, models, store, *, driver=None, grid=None, pre_race=True) -> BuiltRace:
    season = _int(req, "season", required=True, lo=1950, hi=2100)
    return build_race(season, _event(req), models=models, store=store, pre_race=pre_race,
                      driver=driver, grid=grid)


def _driver_code(built: BuiltRace, driver) -> str:
    code = str(driver).strip().upper()
    if code not in built.drivers:
        from f1analyzer.simulation.build import unknown_driver

        raise unknown_driver(code, built.drivers, f"{built.season} {built.event}")
    return code


def _meta(built: BuiltRace) -> dict:
    return {"season": built.season, "round": built.round, "event": built.event,
            "circuit_key": built.circuit_key, "total_laps": built.params.total_laps,
            "n_cars": built.params.n_cars}


def _model_info(models, built: BuiltRace) -> dict:
    return {"circuit_model": built.model_circuit, "training_seasons": list(getattr(models, "seasons_", [])),
            "data_hash": getattr(models, "data_hash_", None), "grid_source": built.grid_source,
            "pre_race": built.pre_race}


# ------------------------------------------------------------------------------ generate
def _option_dict(rank: int, opt) -> dict:
    s = opt.strategy
    p10, p50, p90 = opt.position_p10_p50_p90
    t10, t50, t90 = opt.race_time_p10_p50_p90_s
    phase = {k: _r(v) for k, v in opt.expected_position_by_sc_phase.items()}
    known = [v for v in phase.values() if v is not None]
    return {
        "rank": rank, "strategy": s.describe(), "stops": s.n_stops, "compounds": list(s.compounds),
        "pit_laps": list(s.pit_laps), "pit_windows": [list(w) for w in opt.pit_windows],
        "expected_position": _r(opt.expected_position), "position_p10": _r(p10), "position_p50": _r(p50),
        "position_p90": _r(p90), "race_time_p10_s": _r(t10), "race_time_p50_s": _r(t50),
        "race_time_p90_s": _r(t90), "p_gain_positions": _r(opt.prob_gain_positions, 4),
        "p_podium": _r(opt.prob_podium, 4),
        "position_histogram": {str(k + 1): round(p, 4) for k, p in enumerate(opt.position_histogram) if p > 0},
        "robustness": {
            "expected_position_green": _r(opt.expected_position_green),
            "expected_position_neutralised": _r(opt.expected_position_neutralised),
            "expected_position_by_sc_start": phase,
            "sc_timing_spread": _r(max(known) - min(known)) if len(known) >= 2 else None,
        },
    }


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
        "model": _model_info(models, built), "notes": list(built.notes),
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
        strategy, stops, compounds, pit_laps, pit_windows, expected_position, position_p10/50/90,
        race_time_p10/50/90_s, p_gain_positions, p_podium, position_histogram, robustness}],
        narrative, sources, provider, cached, latency_ms, ...}``.
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
        })
    rows.sort(key=lambda r: (r["expected_position"], r["grid"]))
    return {**_meta(built), "n_sims": n_sims, "seed": seed, "simulations": n_sims, "drivers": rows,
            "model": _model_info(models, built), "notes": list(built.notes),
            "latency_ms": round((time.perf_counter() - t0) * 1000, 1)}


# ------------------------------------------------------------------------------ race state
def _synthetic_state(built: BuiltRace, lap: int) -> RaceState:
    """A plausible state when the race is not stored: grid order, 1.5 s apart, MEDIUM, no stop."""
    params = built.params
    n = params.n_cars
    pos = [c.grid_position for c in params.cars]
    return RaceState(lap=lap, position=pos, gap_to_leader_s=[1.5 * (p - 1) for p in pos],
                     compound=["MEDIUM"] * n, tyre_age_laps=[lap] * n, stops_done=[0] * n,
                     compounds_used=[["MEDIUM"]] * n, retired=[False] * n)


def _base_state(built: BuiltRace, lap: int, store) -> tuple[RaceState, str]:
    params = built.params
    if not 1 <= lap <= params.total_laps - 1:
        raise InvalidRequestError(
            f"lap {lap} is beyond the race: valid laps are 1..{params.total_laps - 1} "
            f"({built.event} is {params.total_laps} laps).",
            details={"valid_range": [1, params.total_laps - 1]})
    if built.stored:
        from f1analyzer.data.session import Race
        from f1analyzer.simulation.replay import real_state

        race = Race(built.season, built.round, store=store)
        if int(race.laps["lap_number"].max()) >= lap:
            return real_state(race, params, lap), "stored"
    return _synthetic_state(built, lap), "synthetic"


def _car_update(state: RaceState, params, i: int, car: dict, explicit_pos: dict) -> None:
    """Apply one car's fields of a request to the state lists (in place)."""
    if car.get("compound") is not None:
        c = str(car["compound"]).strip().upper()
        if c not in params.compounds:
            raise InvalidRequestError(f"Unknown compound {car['compound']!r}. Valid compounds: "
                                      + ", ".join(params.compounds) + ".",
                                      details={"options": list(params.compounds)})
        if c != str(state.compound[i]).upper():
            state.compounds_used[i] = sorted(set(state.compounds_used[i]) | {c})
        state.compound[i] = c
    if car.get("tyre_age_laps") is not None:
        a = int(car["tyre_age_laps"])
        if not 0 <= a <= 100:
            raise InvalidRequestError(f"tyre_age_laps must be in 0..100, got {a}.")
        state.tyre_age_laps[i] = a
    if car.get("stops") is not None:
        state.stops_done[i] = int(car["stops"])
    if car.get("compounds_used") is not None:
        state.compounds_used[i] = sorted({str(c).upper() for c in car["compounds_used"]} | {state.compound[i]})
    if car.get("gap_to_leader_s") is not None:
        g = float(car["gap_to_leader_s"])
        if not 0 <= g <= 1000:
            raise InvalidRequestError(f"gap_to_leader_s must be in 0..1000, got {g}.")
        state.gap_to_leader_s[i] = g
    if car.get("retired") is not None:
        state.retired[i] = bool(car["retired"])
    if car.get("position") is not None:
        p = int(car["position"])
        if not 1 <= p <= params.n_cars:
            raise InvalidRequestError(f"position must be between 1 and {params.n_cars}, got {p}.",
                                      details={"valid_range": [1, params.n_cars]})
        explicit_pos[i] = p


def _normalise(state: RaceState, params, explicit_pos: dict) -> None:
    """Positions 1..n consistent with the gaps (explicit positions win); gaps non-decreasing."""
    n = params.n_cars
    run = [i for i in range(n) if not state.retired[i]]
    out = [i for i in range(n) if state.retired[i]]
    by_gap = sorted((i for i in run if i not in explicit_pos),
                    key=lambda i: (state.gap_to_leader_s[i], state.position[i]))
    order: list[int] = list(by_gap)
    for i, p in sorted(explicit_pos.items(), key=lambda kv: kv[1]):
        if i in run:
            order.insert(min(p - 1, len(order)), i)
    out.sort(key=lambda i: state.position[i])
    pos = [0] * n
    for k, i in enumerate(order + out, start=1):
        pos[i] = k
    gaps = list(map(float, state.gap_to_leader_s))
    prev = None
    for i in order:
        if prev is not None and gaps[i] < gaps[prev] + params.min_gap_s:
            gaps[i] = gaps[prev] + params.min_gap_s
        prev = i
    if order:
        lead = gaps[order[0]]
        gaps = [g - lead if not state.retired[k] else 0.0 for k, g in enumerate(gaps)]
    state.position, state.gap_to_leader_s = pos, gaps


def _state_from_request(built: BuiltRace, req: dict, store) -> tuple[RaceState, str]:
    params = built.params
    lap = _int(req, "lap", required=True, lo=1, hi=200)
    state, source = _base_state(built, lap, store)
    state.position = list(state.position)
    state.gap_to_leader_s = list(state.gap_to_leader_s)
    state.compound = list(state.compound)
    state.tyre_age_laps = list(state.tyre_age_laps)
    state.stops_done = list(state.stops_done)
    state.compounds_used = [list(u) for u in (state.compounds_used or [[c] for c in state.compound])]
    state.retired = list(state.retired or [False] * params.n_cars)
    explicit: dict[int, int] = {}
    for k, car in enumerate(req.get("cars") or []):
        if not isinstance(car, dict) or not car.get("driver"):
            raise InvalidRequestError(f"cars[{k}] needs a driver.")
        _car_update(state, params, params.car_index(_driver_code(built, car["driver"])), car, explicit)
    if req.get("cars"):
        source = "request" if source == "synthetic" else source + "+request"
    status = str(req.get("track_status") or "green").strip().lower()
    if status not in TRACK_STATUS:
        raise InvalidRequestError(f"track_status must be one of {', '.join(TRACK_STATUS)}, got {status!r}.",
                                  details={"options": list(TRACK_STATUS)})
    state.track_status = TRACK_STATUS[status]
    if req.get("neutral_laps_remaining") is not None:
        state.neutral_laps_remaining = _int(req, "neutral_laps_remaining", lo=1, hi=20)
    return state, (source, explicit)


@_plain_result
def live_advice(request: dict, *, models=None, store=None) -> dict:
    """BOX_NOW / STAY_OUT / BOX_UNDER_SC for a driver (``POST /strategy/live``).

    Args:
        request: ``{"season", "event", "lap", "driver", "track_status"?: "green"|"sc"|"vsc",
            "compound"?, "tyre_age_laps"?, "position"?, "gap_to_leader_s"?, "stops"?,
            "cars"?: [{"driver", "position", "gap_to_leader_s", "compound", "tyre_age_laps",
            "stops", "compounds_used", "retired"}], "n_sims"?=400, "seed"?=0}``.
            The field starts from the stored race's real state at ``lap`` (when stored), else a
            synthetic one (grid order 1.5 s apart, MEDIUM, no stop); ``cars`` and the driver's
            own fields override it. Positions follow the gaps (given positions win) and gaps
            are made non-decreasing down the order.

    Returns:
        ``{"call", "expected_positions_gained", "p_gain", "best_compound", "expected_position",
        "current_position", "gain_vs_alternative", "options": [...], "state_source", ...}``.
    """
    t0 = time.perf_counter()
    models = resolve_models(models)
    store = resolve_store(store)
    if not request.get("driver"):
        raise InvalidRequestError("driver is required.")
    built = _build(request, models, store, pre_race=bool(request.get("pre_race", True)))
    code = _driver_code(built, request["driver"])
    req = dict(request)
    own = {k: req.get(k) for k in ("compound", "tyre_age_laps", "position", "gap_to_leader_s", "stops",
                                   "compounds_used") if req.get(k) is not None}
    if own:
        req["cars"] = [*(req.get("cars") or []), {"driver": code, **own}]
    state, (source, explicit) = _state_from_request(built, req, store)
    _normalise(state, built.params, explicit)
    n_sims = _int(request, "n_sims", DEFAULT_LIVE_SIMS, lo=10, hi=MAX_SIMS)
    seed = _int(request, "seed", 0, lo=0, hi=2**31 - 1)
    a = advise(built.params, state, code, n_sims=n_sims, seed=seed)
    i = built.params.car_index(code)
    return {
        **_meta(built), "driver": code, "lap": state.lap, "track_status": a.track_status.lower(),
        "call": a.action, "expected_positions_gained": _r(a.expected_positions_gained),
        "p_gain": _r(a.prob_gain, 4), "best_compound": a.best_compound,
        "current_position": a.current_position, "expected_position": _r(a.expected_position),
        "gain_vs_alternative": _r(a.gain_vs_alternative),
        "options": [{**o.to_dict(), "expected_position": _r(o.expected_position),
                     "prob_gain": _r(o.prob_gain, 4), "race_time_p50_s": _r(o.race_time_p50_s)}
                    for o in a.options],
        "state": {"compound": state.compound[i], "tyre_age_laps": int(state.tyre_age_laps[i]),
                  "position": int(state.position[i]), "gap_to_leader_s": _r(state.gap_to_leader_s[i]),
                  "stops": int(state.stops_done[i]), "compounds_used": list(state.compounds_used[i])},
        "state_source": source, "n_sims": n_sims, "seed": seed,
        "simulations": n_sims * len(a.options),
        "latency_ms": round((time.perf_counter() - t0) * 1000, 1),
    }


@_plain_result
def undercut_calc(request: dict, *, models=None, store=None) -> dict:
    """Undercut / overcut of ``driver`` on ``rival`` (``POST /strategy/undercut``).

    Args:
        request: ``{"season", "event", "driver", "rival", "lap", "gap_s"? (rival's lead over the
            driver, s; negative = the driver is ahead), "compound"?, "rival_compound"? (new sets),
            "tyre_age_laps"?, "rival_tyre_age_laps"?, "current_compound"?,
            "rival_current_compound"?, "pit_lap"?, "max_delay_laps"?=8, "track_status"?,
            "cars"?, "n_sims"?=200 (0 = no Monte Carlo check), "seed"?}``.

    Returns:
        ``gain_per_lap_s`` (gain on each lap of the rival's delay), ``margin_s``,
        ``works_after_laps``, ``undercut_lap``, ``gap_needed_s``, ``overcut_margin_s`` and the
        Monte Carlo probabilities of finishing ahead when boxing now / staying out.
    """
    t0 = time.perf_counter()
    models = resolve_models(models)
    store = resolve_store(store)
    for k in ("driver", "rival"):
        if not request.get(k):
            raise InvalidRequestError(f"{k} is required.")
    built = _build(request, models, store, pre_race=bool(request.get("pre_race", True)))
    code, rival = _driver_code(built, request["driver"]), _driver_code(built, request["rival"])
    if code == rival:
        raise InvalidRequestError(f"{code} cannot undercut itself; pick another rival: "
                                  + ", ".join(d for d in built.drivers if d != code))
    req = dict(request)
    cars = list(req.get("cars") or [])
    mine = {"driver": code}
    theirs = {"driver": rival}
    if req.get("tyre_age_laps") is not None:
        mine["tyre_age_laps"] = req["tyre_age_laps"]
    if req.get("rival_tyre_age_laps") is not None:
        theirs["tyre_age_laps"] = req["rival_tyre_age_laps"]
    if req.get("current_compound") is not None:
        mine["compound"] = req["current_compound"]
    if req.get("rival_current_compound") is not None:
        theirs["compound"] = req["rival_current_compound"]
    req["cars"] = cars + [mine, theirs]
    state, (source, explicit) = _state_from_request(built, req, store)
    params = built.params
    i, j = params.car_index(code), params.car_index(rival)
    if req.get("gap_s") is not None:
        gap = float(req["gap_s"])
        if abs(gap) > 200:
            raise InvalidRequestError(f"gap_s must be within ±200 s, got {gap}.")
        state.gap_to_leader_s[i] = max(float(state.gap_to_leader_s[j]) + gap, 0.0)
        if state.gap_to_leader_s[i] == 0.0:
            state.gap_to_leader_s[j] = -gap
    _normalise(state, params, explicit)
    n_sims = _int(request, "n_sims", DEFAULT_UNDERCUT_SIMS, lo=0, hi=MAX_SIMS)
    seed = _int(request, "seed", 0, lo=0, hi=2**31 - 1)
    pit_lap = _int(request, "pit_lap", lo=1, hi=200)
    max_delay = _int(request, "max_delay_laps", 8, lo=1, hi=30)
    res = undercut(params, state, code, rival, compound=request.get("compound"),
                   rival_compound=request.get("rival_compound"), pit_lap=pit_lap,
                   max_delay_laps=max_delay, n_sims=n_sims, seed=seed)
    d = res.to_dict()
    d["gain_per_lap_s"] = [_r(x) for x in d["gain_per_lap_s"]]
    d["margin_s"] = [_r(x) for x in d["margin_s"]]
    d["overcut_margin_s"] = [_r(x) for x in d["overcut_margin_s"]]
    d["gap_s"], d["gap_needed_s"] = _r(d["gap_s"]), _r(d["gap_needed_s"])
    d["works"] = res.works_after_laps is not None
    for k in ("mc_prob_ahead_box", "mc_prob_ahead_stay"):
        d[k] = _r(d[k], 4)
    return {**_meta(built), **d, "lap": state.lap, "state_source": source, "n_sims": n_sims, "seed": seed,
            "simulations": 2 * n_sims, "latency_ms": round((time.perf_counter() - t0) * 1000, 1)}


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
    from f1analyzer.simulation.replay import replay

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
            from f1analyzer.simulation.replay import Change

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
