"""Live entry points of the strategy engine: the pit call from a race state (``/strategy/live``)
and the undercut/overcut calculator (``/strategy/undercut``), plus the race-state plumbing they
share (a stored race's real state at a lap, else a synthetic one, overridden by the request).

Re-exported by :mod:`f1analyzer.app.strategy`; see there for the request conventions.
"""

from __future__ import annotations

import time

from f1analyzer.app.common import (
    _build,
    _driver_code,
    _meta,
    _model_info,
    _plain_result,
    _r,
    unpack_models,
)
from f1analyzer.app.requests import CarState, LiveRequest, UndercutRequest
from f1analyzer.data.session import Race
from f1analyzer.errors import InvalidRequestError
from f1analyzer.simulation.core.state import RaceState, status_from_name
from f1analyzer.simulation.planning.advisor import advise
from f1analyzer.simulation.planning.undercut import undercut
from f1analyzer.simulation.scenario.build import BuiltRace
from f1analyzer.simulation.scenario.replay import real_state


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
        race = Race(built.season, built.round, store=store)
        if int(race.laps["lap_number"].max()) >= lap:
            return real_state(race, params, lap), "stored"
    return _synthetic_state(built, lap), "synthetic"


def _car_update(state: RaceState, params, i: int, car: CarState, explicit_pos: dict) -> None:
    """Apply one car's fields of a request to the state lists (in place). Field bounds are the
    request's; what depends on the race (compound of this event, position within the field) is
    checked here."""
    if car.compound is not None:
        c = car.compound
        if c not in params.compounds:
            raise InvalidRequestError(f"Unknown compound {c!r}. Valid compounds: "
                                      + ", ".join(params.compounds) + ".",
                                      details={"options": list(params.compounds)})
        if c != str(state.compound[i]).upper():
            state.compounds_used[i] = sorted(set(state.compounds_used[i]) | {c})
        state.compound[i] = c
    if car.tyre_age_laps is not None:
        state.tyre_age_laps[i] = car.tyre_age_laps
    if car.stops is not None:
        state.stops_done[i] = car.stops
    if car.compounds_used is not None:
        state.compounds_used[i] = sorted(set(car.compounds_used) | {state.compound[i]})
    if car.gap_to_leader_s is not None:
        state.gap_to_leader_s[i] = float(car.gap_to_leader_s)
    if car.retired is not None:
        state.retired[i] = car.retired
    if car.position is not None:
        if car.position > params.n_cars:
            raise InvalidRequestError(f"position must be between 1 and {params.n_cars}, got {car.position}.",
                                      details={"valid_range": [1, params.n_cars]})
        explicit_pos[i] = car.position


def positions_from_gaps(state: RaceState, params, explicit_pos: dict) -> None:
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


def _state_from_request(built: BuiltRace, req: LiveRequest | UndercutRequest, cars: list[CarState],
                        store) -> tuple[RaceState, tuple[str, dict]]:
    """The race state at ``req.lap``: stored (or synthetic) with ``cars`` applied on top."""
    params = built.params
    state, source = _base_state(built, req.lap, store)
    state.position = list(state.position)
    state.gap_to_leader_s = list(state.gap_to_leader_s)
    state.compound = list(state.compound)
    state.tyre_age_laps = list(state.tyre_age_laps)
    state.stops_done = list(state.stops_done)
    state.compounds_used = [list(u) for u in (state.compounds_used or [[c] for c in state.compound])]
    state.retired = list(state.retired or [False] * params.n_cars)
    explicit: dict[int, int] = {}
    for car in cars:
        _car_update(state, params, params.car_index(_driver_code(built, car.driver)), car, explicit)
    if cars:
        source = "request" if source == "synthetic" else source + "+request"
    status, red = status_from_name(req.track_status)  # "red": live advice only (LiveRequest)
    if status != state.track_status:  # a neutralisation the stored lap does not have: its length unknown
        state.neutral_laps_remaining, state.neutral_laps_elapsed = None, 0
    state.track_status = status
    state.red_flag = red
    if getattr(req, "neutral_laps_remaining", None) is not None:
        state.neutral_laps_remaining = req.neutral_laps_remaining
    return state, (source, explicit)


@_plain_result
def live_advice(request: LiveRequest | dict, *, models, store) -> dict:
    """BOX_NOW / STAY_OUT / BOX_UNDER_SC / BOX_UNDER_RED for a driver (``POST /strategy/live``).

    Args:
        request: :class:`~.requests.LiveRequest`. The field starts from the stored race's real
            state at ``lap`` (when stored), else a synthetic one (grid order 1.5 s apart, MEDIUM,
            no stop); ``cars`` and the driver's own fields override it. Positions follow the gaps
            (given positions win) and gaps are made non-decreasing down the order.

    Returns:
        ``{"call", "expected_positions_gained", "p_gain", "best_compound", "expected_position",
        "current_position", "gain_vs_alternative", "options": [...], "state_source", ...}``.
    """
    t0 = time.perf_counter()
    req = LiveRequest.of(request)
    race_models, version = unpack_models(models)
    built = _build(req, race_models, store)
    code = _driver_code(built, req.driver)
    own = req.model_dump(include={"compound", "tyre_age_laps", "position", "gap_to_leader_s", "stops"},
                         exclude_none=True)
    cars = [*req.cars, CarState(driver=code, **own)] if own else list(req.cars)
    state, (source, explicit) = _state_from_request(built, req, cars, store)
    positions_from_gaps(state, built.params, explicit)
    a = advise(built.params, state, code, n_sims=req.n_sims, seed=req.seed, stop_rates=built.stop_rates,
               season=built.season)
    i = built.params.car_index(code)
    return {
        **_meta(built), "driver": code, "lap": state.lap, "track_status": a.track_status.lower(),
        "call": a.action, "expected_positions_gained": _r(a.expected_positions_gained),
        "p_gain": _r(a.prob_gain, 4), "best_compound": a.best_compound,
        "current_position": a.current_position, "expected_position": _r(a.expected_position),
        "gain_vs_alternative": _r(a.gain_vs_alternative), "gain_vs_alternative_se": _r(a.gain_vs_alternative_se),
        **a.close_call(),
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
        "state_source": source, "n_sims": req.n_sims, "seed": req.seed,
        "simulations": req.n_sims * len(a.options), "model": _model_info(race_models, version, built),
        "latency_ms": round((time.perf_counter() - t0) * 1000, 1),
    }


@_plain_result
def undercut_calc(request: UndercutRequest | dict, *, models, store) -> dict:
    """Undercut / overcut of ``driver`` on ``rival`` (``POST /strategy/undercut``).

    Args:
        request: :class:`~.requests.UndercutRequest`: ``gap_s`` is the rival's lead over the
            driver (s; negative = the driver is ahead), ``compound``/``rival_compound`` the new
            sets, ``n_sims`` 0 = no Monte Carlo check.

    Returns:
        ``gain_per_lap_s`` (gain on each lap of the rival's delay), ``margin_s``,
        ``works_after_laps``, ``undercut_lap``, ``gap_needed_s``, ``overcut_margin_s`` and the
        Monte Carlo probabilities of finishing ahead when boxing now / staying out.
    """
    t0 = time.perf_counter()
    req = UndercutRequest.of(request)
    race_models, version = unpack_models(models)
    built = _build(req, race_models, store)
    code, rival = _driver_code(built, req.driver), _driver_code(built, req.rival)
    if code == rival:
        raise InvalidRequestError(f"{code} cannot undercut itself; pick another rival: "
                                  + ", ".join(d for d in built.drivers if d != code))
    mine = CarState(driver=code, tyre_age_laps=req.tyre_age_laps, compound=req.current_compound)
    theirs = CarState(driver=rival, tyre_age_laps=req.rival_tyre_age_laps, compound=req.rival_current_compound)
    state, (source, explicit) = _state_from_request(built, req, [*req.cars, mine, theirs], store)
    params = built.params
    i, j = params.car_index(code), params.car_index(rival)
    if req.gap_s is not None:
        state.gap_to_leader_s[i] = max(float(state.gap_to_leader_s[j]) + req.gap_s, 0.0)
        if state.gap_to_leader_s[i] == 0.0:
            state.gap_to_leader_s[j] = -req.gap_s
    positions_from_gaps(state, params, explicit)
    res = undercut(params, state, code, rival, compound=req.compound, rival_compound=req.rival_compound,
                   pit_lap=req.pit_lap, max_delay_laps=req.max_delay_laps, n_sims=req.n_sims, seed=req.seed)
    d = res.to_dict()
    d["gain_per_lap_s"] = [_r(x) for x in d["gain_per_lap_s"]]
    d["margin_s"] = [_r(x) for x in d["margin_s"]]
    d["overcut_margin_s"] = [_r(x) for x in d["overcut_margin_s"]]
    d["gap_s"], d["gap_needed_s"] = _r(d["gap_s"]), _r(d["gap_needed_s"])
    d["works"] = res.works_after_laps is not None
    for k in ("mc_prob_ahead_box", "mc_prob_ahead_stay"):
        d[k] = _r(d[k], 4)
    return {**_meta(built), **d, "lap": state.lap, "state_source": source, "n_sims": req.n_sims,
            "seed": req.seed, "simulations": 2 * req.n_sims, "model": _model_info(race_models, version, built),
            "latency_ms": round((time.perf_counter() - t0) * 1000, 1)}
