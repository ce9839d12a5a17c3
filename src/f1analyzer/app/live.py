"""Live entry points of the strategy engine: the pit call from a race state (``/strategy/live``)
and the undercut/overcut calculator (``/strategy/undercut``), plus the race-state plumbing they
share (a stored race's real state at a lap, else a synthetic one, overridden by the request).

Re-exported by :mod:`f1analyzer.app.strategy`; see there for the request conventions.
"""

from __future__ import annotations

import time

from f1analyzer.errors import InvalidRequestError
from f1analyzer.simulation.planning.advisor import advise
from f1analyzer.simulation.scenario.build import BuiltRace
from f1analyzer.app.common import (
    DEFAULT_LIVE_SIMS,
    DEFAULT_UNDERCUT_SIMS,
    MAX_SIMS,
    TRACK_STATUS,
    _build,
    _driver_code,
    _int,
    _meta,
    _plain_result,
    _r,
    resolve_models,
    resolve_store,
)
from f1analyzer.simulation.core.state import RaceState
from f1analyzer.simulation.planning.undercut import undercut


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
        from f1analyzer.simulation.scenario.replay import real_state

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
        "options": [{**{k: _r(v, 4) for k, v in o.to_dict().items() if isinstance(v, float)},
                     **{k: v for k, v in o.to_dict().items() if not isinstance(v, float)},
                     "expected_position": _r(o.expected_position),
                     "prob_gain": _r(o.prob_gain, 4), "race_time_p50_s": _r(o.race_time_p50_s)}
                    for o in a.options],
        # the recommended option's outcomes; E[pos] if classified is the headline, DNF risk apart
        **{k: _r(v, 4) for k, v in (a.options[0].outcomes if a.options else {}).items()},
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
