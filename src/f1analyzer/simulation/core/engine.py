"""Vectorised Monte Carlo race simulator.

``simulate(race, strategies, n_sims, seed)`` runs ``n_sims`` independent races of the whole field
at once. State is a :class:`~.state.SimState` of ``[n_sims, n_cars]`` arrays; Python loops only
over laps (and, inside the on-track interaction, over the ~20 running positions), never over
sims. Random numbers come pre-drawn (:mod:`.draws`) so that different strategies can be compared
on common random numbers, and so that :mod:`.reference` can replay one sim with a plain loop.

Lap ``n``, in a fixed order (see :mod:`.effects`): free-air lap time (car pace + tyre + fuel +
noise, + start on lap 1) → SC/VSC neutralisation → pit stops at the end of the lap (their loss
from :mod:`.pitloss`; under SC charged before the queue forms) → on-track interaction
(overtaking / SC queue) → retirements → classification order.

Several strategy sets can run in one call (``run(..., group=...)``): each sim belongs to a group
with its own strategies; the optimiser tiles the same draws across groups (CRN).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from f1analyzer.errors import InvalidRequestError
from f1analyzer.log import get_logger
from f1analyzer.simulation.core import effects as fx
from f1analyzer.simulation.core import parallel
from f1analyzer.simulation.core.draws import Draws, check_schedule, chunk_sizes, draw_chunk, fix_retirements
from f1analyzer.simulation.core.params import MAX_STOPS, RaceParams, TrackStatus, compound_code
from f1analyzer.simulation.core.pitloss import free_laps, loss_table, stop_status
from f1analyzer.simulation.core.result import SimResult
from f1analyzer.simulation.core.state import RaceState, SimState, initial_state
from f1analyzer.simulation.core.strategy import Strategy, validate_field

log = get_logger("simulation.engine")

#: ``next_pit_lap`` of a car with no stop left.
NO_STOP = np.int16(32000)


@dataclass
class Plans:
    """Strategies compiled to arrays, for ``n_groups`` alternative strategy sets.

    ``start`` ``[G, C]`` int8 start compound; ``lap`` ``[G, C, MAX_STOPS + 1]`` int16 in-lap of
    stop ``k`` (``NO_STOP`` after the last); ``compound`` same shape, int8 compound fitted at stop
    ``k``; ``sc_window`` ``[G, C]`` int16 opportunistic window (0 = never box early under SC/VSC);
    ``start_age`` ``[G, C]`` int16 laps on the start set (a race from the grid).
    """

    start: np.ndarray
    lap: np.ndarray
    compound: np.ndarray
    sc_window: np.ndarray
    start_age: np.ndarray

    @property
    def n_groups(self) -> int:
        return int(self.start.shape[0])


def compile_plans(race: RaceParams, groups: Sequence[Sequence[Strategy]]) -> Plans:
    """Turn ``groups[g][car]`` strategies into :class:`Plans` arrays (no validation here)."""
    n_g, n_c = len(groups), race.n_cars
    start = np.zeros((n_g, n_c), dtype=np.int8)
    lap = np.full((n_g, n_c, MAX_STOPS + 1), NO_STOP, dtype=np.int16)
    comp = np.zeros((n_g, n_c, MAX_STOPS + 1), dtype=np.int8)
    window = np.zeros((n_g, n_c), dtype=np.int16)
    start_age = np.zeros((n_g, n_c), dtype=np.int16)
    for g, strategies in enumerate(groups):
        if len(strategies) != n_c:
            raise InvalidRequestError(
                f"Got {len(strategies)} strategies for {n_c} cars ({', '.join(race.drivers)})."
            )
        for c, s in enumerate(strategies):
            if s.n_stops > MAX_STOPS:
                raise InvalidRequestError(f"At most {MAX_STOPS} stops; got {s.n_stops}.")
            start[g, c] = compound_code(s.start_compound)
            window[g, c] = s.sc_window_laps
            start_age[g, c] = race.cars[c].start_tyre_age_laps if s.start_age_laps is None else s.start_age_laps
            for k, (pit_lap, name) in enumerate(s.stops):
                lap[g, c, k] = pit_lap
                comp[g, c, k] = compound_code(name)
    return Plans(start, lap, comp, window, start_age)


def _constants(race: RaceParams, state: RaceState | None) -> dict:
    cars = race.cars
    remaining = 1.0 if state is None else (race.total_laps - state.lap) / race.total_laps
    return {
        "table": race.tyre_delta_table(),
        "car_base": np.array([race.base_lap_time_s + c.base_pace_s for c in cars]).astype(np.float32),
        "noise_sd": np.array([c.lap_noise_sd_s for c in cars]).astype(np.float32),
        "pit_offset": np.array([c.pit_stop_offset_s for c in cars]).astype(np.float32),
        "retire_prob": np.array([c.retirement_prob * remaining for c in cars]).astype(np.float32),
        "loss_status": loss_table(race),
        "neutral": fx.neutral_lap_times(race),
        "start_loss": fx.start_loss_s(race),
    }


def drs_enabled(race: RaceParams, track_status: np.ndarray, lap: int) -> np.ndarray:
    """bool ``[n_sims]``: DRS open on ``lap`` (green, from lap 3, the previous lap green too)."""
    n = track_status.shape[0]
    if not race.drs_enabled or lap < 3:
        return np.zeros(n, dtype=bool)
    return (track_status[:, lap - 1] == TrackStatus.GREEN) & (
        track_status[:, lap - 2] == TrackStatus.GREEN
    )


def _interact(race: RaceParams, st: SimState, lap_time: np.ndarray, pace: np.ndarray, status: np.ndarray,
              lap: int, drs_on: np.ndarray, pass_u: np.ndarray,
              held_q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """On-track interaction for every sim; returns (race_time [S, C], order [S, C], passes [S]).
    ``pace``: the lap times without their noise, which the passing odds are fitted on;
    ``pass_u`` / ``held_q``: this lap's draws ``[S, C]`` of the pass and the held-up gap."""
    n_sims, n_cars = lap_time.shape
    # flat index of (sim, car at position k), laid out [n_cars, n_sims] (position-major)
    flat = (st.order.T.astype(np.intp) + np.arange(n_sims, dtype=np.intp) * n_cars)
    prev_t = st.race_time_s.ravel().take(flat)
    lt_t = lap_time.ravel().take(flat)
    cars_t = np.ascontiguousarray(st.order.T)
    new_t = prev_t + lt_t  # lap 1 and VSC: free running, order kept
    new_c = cars_t
    passes = np.zeros(n_sims, dtype=np.int16)
    if lap > 1:
        ret_t = st.retired.ravel().take(flat)
        green = status == TrackStatus.GREEN

        def green_laps(cols):
            """:func:`fx.overtaking` on the sims ``cols``; the draws are put in slot order first
            (for the held-up gap before its look-up, the cheaper way round)."""
            sub = flat[:, cols]
            return fx.overtaking(
                prev_t[:, cols], lt_t[:, cols], pace.ravel().take(sub), ret_t[:, cols], cars_t[:, cols],
                drs_on[cols], fx.pass_logit(pass_u).ravel().take(sub),
                race.passing.held_gap(held_q.ravel().take(sub)), **_ot_kwargs(race))

        if green.all():
            new_t, new_c, passes = green_laps(slice(None))
        elif green.any():
            gi = np.flatnonzero(green)
            new_c = cars_t.copy()
            new_t[:, gi], new_c[:, gi], passes[gi] = green_laps(gi)
        sc = status == TrackStatus.SC
        if sc.any():
            si = np.flatnonzero(sc)
            if new_c is cars_t:
                new_c = cars_t.copy()
            new_t[:, si], new_c[:, si] = fx.safety_car(
                prev_t[:, si], lt_t[:, si], ret_t[:, si], cars_t[:, si],
                queue_gap_s=race.sc_queue_gap_s, gap_retain_per_lap=race.sc_gap_retain_per_lap,
            )
    race_time = np.empty_like(st.race_time_s)
    new_order = np.ascontiguousarray(new_c.T)
    out_flat = (new_c.astype(np.intp) + np.arange(n_sims, dtype=np.intp) * n_cars)
    race_time.ravel()[out_flat] = new_t
    return race_time, new_order, passes


def _ot_kwargs(race: RaceParams) -> dict:
    return {"min_gap_s": race.min_gap_s, "passing": race.passing,
            "drs_gain_s": race.drs_gain_s, "drs_window_s": race.drs_window_s}


def _reorder(st: SimState, rows: np.ndarray) -> None:
    """Stable re-sort of ``rows`` by the classification key, starting from the current order."""
    if rows.size == 0:
        return
    sub_order = st.order[rows].astype(np.intp)
    base = (np.arange(rows.size, dtype=np.intp) * sub_order.shape[1])[:, None]
    key = st.sort_key(rows).ravel().take(sub_order + base)
    idx = np.argsort(key, axis=1, kind="stable")
    st.order[rows] = sub_order.ravel().take(idx + base)


def run(
    race: RaceParams,
    plans: Plans,
    draws: Draws,
    *,
    group: np.ndarray | None = None,
    state: RaceState | None = None,
    record_positions: bool = False,
    threads: int | None = None,
    free_stop_laps: Collection[int] = (),
) -> SimResult:
    """Simulate with pre-drawn random numbers (no validation: see :func:`simulate`).

    Args:
        race: validated race parameters.
        plans: compiled strategies, one set per group.
        draws: random numbers for ``n_sims`` sims from ``draws.first_lap``.
        group: ``[n_sims]`` int group of each sim (default all 0).
        state: mid-race start (``draws.first_lap`` must be ``state.lap + 1``).
        record_positions: keep ``positions_by_lap``.
        threads: split the sims over this many threads (:mod:`.parallel`; None:
            :func:`~.parallel.sim_threads`). The result is identical for any thread count.
        free_stop_laps: laps on which a stop costs nothing (a red-flag suspension, :func:`~.pitloss.free_laps`).
    """
    free = free_laps(state, free_stop_laps)

    def part(rows: slice) -> SimResult:
        return _run_rows(race, plans, draws.take(rows), None if group is None else group[rows],
                         state, record_positions, free)

    return SimResult.concat(parallel.map_slices(part, parallel.row_slices(draws.n_sims, threads)))


def _run_rows(race: RaceParams, plans: Plans, draws: Draws, group: np.ndarray | None,
              state: RaceState | None, record_positions: bool, free: frozenset[int] = frozenset()) -> SimResult:
    """:func:`run` on the calling thread, for one share of the sims."""
    n_sims, n_cars, total = draws.n_sims, race.n_cars, race.total_laps
    first = draws.first_lap
    g = np.zeros(n_sims, dtype=np.intp) if group is None else np.asarray(group, dtype=np.intp)
    plan_lap, plan_comp = plans.lap[g], plans.compound[g]  # [S, C, K]
    window = plans.sc_window[g].astype(np.int32)
    st = initial_state(race, n_sims, plans.start[g], state, start_age=plans.start_age[g])
    st.next_pit_lap = plan_lap[:, :, 0].copy()
    k = _constants(race, state)
    shape = (n_sims, n_cars)
    # flat gathers by (sim, car, stop number): np.take_along_axis builds index grids every call
    cell = np.arange(n_sims * n_cars, dtype=np.intp).reshape(shape)
    pit_z = np.ascontiguousarray(draws.pit_z)
    pit_base, plan_base = cell * pit_z.shape[2], cell * plan_lap.shape[2]
    positions = (np.zeros((n_sims, total - first + 1, n_cars), dtype=np.int8)
                 if record_positions else None)
    passes_total = np.zeros(n_sims, dtype=np.int16)
    rank = np.broadcast_to(np.arange(1, n_cars + 1, dtype=np.int8), shape)

    for lap in range(first, total + 1):
        status = draws.track_status[:, lap - 1]
        running = ~st.retired
        # 1-2. free-air lap time, then neutralisation
        pace = k["car_base"] + fx.tyre_wear(st.compound, st.tyre_age_laps, k["table"])
        pace = pace + fx.fuel_burn(lap, race.fuel_effect_s_per_lap, shape)
        lap_time = pace + fx.lap_noise(draws.lap_z[lap - first], k["noise_sd"])
        lap_time = fx.neutralised_lap_time(lap_time, status, k["neutral"])
        if lap == 1:
            lap_time = lap_time + fx.race_start(draws.start_z, k["start_loss"], race.start_time_sd_s)
        lap_time = np.where(running, lap_time, np.float32(0.0))
        # 3. pit stops at the end of the lap: under SC the loss is charged against the gaps at the
        # start of the lap, before the queue forms (a field that is itself slow); on green and
        # VSC laps after the interaction (the in-lap is raced, the lane is run alone)
        pit_now = np.zeros(shape, dtype=bool)
        if lap <= total - 1:
            due = st.next_pit_lap.astype(np.int32) - lap
            neutral = (status != TrackStatus.GREEN)[:, None]
            pit_now = running & ((due == 0) | (neutral & (due > 0) & (due <= window)))
        stop_cost = None
        if pit_now.any():
            stop_z = pit_z.ravel().take(pit_base + st.plan_idx)
            stop_cost = fx.pit_stop(
                pit_now, stop_status(status, draws.track_status[:, lap]), stop_z, k["pit_offset"],
                k["loss_status"], race.pit_loss_sd_s
            )
            if lap in free:
                # the change is made in the pit lane while the race is suspended: free
                stop_cost = np.zeros_like(stop_cost)
            sc_rows = (status == TrackStatus.SC)[:, None]
            if sc_rows.any():
                lap_time = lap_time + np.where(sc_rows, stop_cost, np.float32(0.0))
                stop_cost = np.where(sc_rows, np.float32(0.0), stop_cost)
        # 4. on-track interaction
        drs_on = drs_enabled(race, draws.track_status, lap)
        prev_time = st.race_time_s
        race_time, st.order, passes = _interact(race, st, lap_time, pace, status, lap, drs_on,
                                                draws.pass_u[lap - first], draws.held_q[lap - first])
        passes_total += passes
        if stop_cost is not None:
            race_time = race_time + stop_cost
            new_comp = plan_comp.ravel().take(plan_base + st.plan_idx)
            st.compound = np.where(pit_now, new_comp, st.compound)
            st.compounds_used |= np.where(pit_now, np.left_shift(1, new_comp.astype(np.int16)),
                                          0).astype(np.int8)
            st.plan_idx += pit_now
            st.stops_done += pit_now
            nxt = plan_lap.ravel().take(plan_base + st.plan_idx)
            st.next_pit_lap = np.where(pit_now, nxt, st.next_pit_lap)
        st.tyre_age_laps = np.where(pit_now, 0, st.tyre_age_laps + 1).astype(np.int16)
        # 5. retirements: time frozen at the end of the previous lap
        out = fx.retirements(running, draws.retire_u, draws.retire_lap, k["retire_prob"], lap)
        if out.any():
            race_time = np.where(out, prev_time, race_time)
            st.retired |= out
        st.laps_done += running & ~out
        st.race_time_s = race_time
        # 6. classification order
        if lap == 1:
            rows = np.arange(n_sims)
        else:
            rows = np.flatnonzero(pit_now.any(axis=1) | out.any(axis=1))
        _reorder(st, rows)
        if positions is not None:
            np.put_along_axis(positions[:, lap - first], st.order.astype(np.intp), rank, axis=1)

    return _result(race, st, draws, passes_total, positions, state)


def _result(race, st: SimState, draws: Draws, passes, positions, state) -> SimResult:
    n_sims, n_cars = st.race_time_s.shape
    finish = np.empty((n_sims, n_cars), dtype=np.int8)
    rank = np.broadcast_to(np.arange(1, n_cars + 1, dtype=np.int8), finish.shape)
    np.put_along_axis(finish, st.order.astype(np.intp), rank, axis=1)
    times = np.where(st.retired, np.nan, st.race_time_s.astype(np.float64))
    ref = (np.array([c.grid_position for c in race.cars]) if state is None
           else np.asarray(state.position, dtype=np.int64))
    return SimResult(
        drivers=race.drivers,
        finish_position=finish,
        race_time_s=times,
        retired=st.retired.copy(),
        laps_done=st.laps_done,
        stops_done=st.stops_done,
        track_status=draws.track_status,
        reference_position=ref,
        passes=passes,
        first_lap=draws.first_lap,
        positions_by_lap=positions,
    )


def apply_state_status(draws: Draws, state: RaceState, race: RaceParams) -> None:
    """Paint the SC/VSC that is out now over the laps it stays: ``state.neutral_laps_remaining``
    when known, else a length per simulated race drawn (``draws.neutral_u``) from the fitted
    durations of periods that have lasted ``state.neutral_laps_elapsed`` laps. Why a draw: a
    pit wall does not know whether a VSC ends next lap; a stop priced on the mean length is
    priced as if it surely stayed neutralised (most VSCs last one or two laps)."""
    if state.track_status == TrackStatus.GREEN:
        return
    status = int(state.track_status)
    if state.neutral_laps_remaining is not None:
        remaining = np.full(draws.n_sims, max(1, int(state.neutral_laps_remaining)))
    else:
        period = race.sc if status == TrackStatus.SC else race.vsc
        cdf = np.cumsum(period.remaining_laps_probs(state.neutral_laps_elapsed))
        cdf[-1] = 1.0
        remaining = 1 + np.searchsorted(cdf, draws.neutral_u, side="right")
    laps = np.arange(race.total_laps)[None, :]
    paint = (laps >= state.lap) & (laps < state.lap + remaining[:, None])
    draws.track_status[paint] = status


def check_request(race: RaceParams, strategies: Sequence[Strategy],
                  state: RaceState | None = None) -> None:
    """Validate race, strategies and state together (raises InvalidRequestError)."""
    race.validate()
    if state is None:
        validate_field(race, strategies)
        return
    state.validate(race)
    validate_field(race, strategies, from_lap=state.lap,
                   compounds_used=[state.used_names(i) for i in range(race.n_cars)])
    for car, s, comp in zip(race.cars, strategies, state.compound):
        if s.start_compound != str(comp).upper():
            raise InvalidRequestError(
                f"{car.driver}: a mid-race strategy starts on the fitted compound {comp}, "
                f"not {s.start_compound}."
            )


def simulate(
    race: RaceParams,
    strategies: Sequence[Strategy],
    n_sims: int = 1000,
    seed: int | None = 0,
    *,
    sc_schedule: np.ndarray | None = None,
    state: RaceState | None = None,
    record_positions: bool = False,
    retire_laps: Sequence[int | None] | None = None,
    free_stop_laps: Collection[int] = (),
) -> SimResult:
    """Simulate ``n_sims`` races of the whole field.

    Args:
        race: race parameters; ``strategies[i]`` is the plan of ``race.cars[i]``.
        strategies: one :class:`Strategy` per car (mid-race: the remaining plan, starting on the
            fitted compound, stops after ``state.lap``).
        n_sims: number of races.
        seed: integer seed; the same seed gives the same SC/VSC, noise and retirements whatever
            the strategies (common random numbers).
        sc_schedule: fixed track status instead of sampled SC/VSC (``[total_laps]`` or
            ``[n_sims, total_laps]`` :class:`TrackStatus` codes).
        state: start from a race in progress instead of the grid.
        record_positions: keep ``positions_by_lap`` in the result.
        retire_laps: per car, the lap it retires on (None: it finishes) instead of sampled
            retirements — a replay of a race whose retirements are known.
        free_stop_laps: laps on which a stop costs nothing: a replay's red-flag suspensions,
            where the cars change tyres in the pit lane (with the real schedule, which reads them
            as SC laps).

    Example:
        >>> from f1analyzer.simulation.scenario.demo import demo_race, default_strategies
        >>> race = demo_race(n_cars=4, total_laps=20)
        >>> res = simulate(race, default_strategies(race), n_sims=100, seed=1)
        >>> res.finish_position.shape
        (100, 4)
    """
    check_request(race, strategies, state)
    first = 1 if state is None else state.lap + 1
    if n_sims < 1:
        raise InvalidRequestError(f"n_sims must be at least 1, got {n_sims}.")
    sched = None if sc_schedule is None else check_schedule(race, n_sims, sc_schedule)
    if retire_laps is not None and len(retire_laps) != race.n_cars:
        raise InvalidRequestError(f"retire_laps has {len(retire_laps)} entries; the race has {race.n_cars} cars.")
    plans = compile_plans(race, [list(strategies)])
    root = np.random.SeedSequence(seed)
    log.debug("simulate %s: %d sims, %d cars, laps %d..%d", race.circuit_key, n_sims,
              race.n_cars, first, race.total_laps)
    parts, lo = [], 0
    for index, n in chunk_sizes(n_sims):  # bounded memory; chunk i always gets the same draws
        draws = draw_chunk(race, root, index, n, first)
        if sched is not None:
            draws.track_status = sched[lo:lo + n].copy()
        if state is not None:
            apply_state_status(draws, state, race)
        if retire_laps is not None:
            fix_retirements(draws, retire_laps)
        parts.append(run(race, plans, draws, state=state, record_positions=record_positions,
                         free_stop_laps=free_stop_laps))
        lo += n
    return SimResult.concat(parts)


def simulate_groups(
    race: RaceParams,
    groups: Sequence[Sequence[Strategy]],
    draws: Draws,
    *,
    state: RaceState | None = None,
) -> list[SimResult]:
    """Run several strategy sets on the *same* draws in one vectorised pass (CRN).

    ``groups[g]`` is a full set of strategies (validated by the caller). Returns one
    :class:`SimResult` per group, each over ``draws.n_sims`` sims.
    """
    n = draws.n_sims
    tiled = draws.tile(len(groups))
    group = np.repeat(np.arange(len(groups)), n)
    res = run(race, compile_plans(race, groups), tiled, group=group, state=state)
    return [res.take(slice(i * n, (i + 1) * n)) for i in range(len(groups))]
