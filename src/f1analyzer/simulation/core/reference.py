"""A plain one-race loop that mirrors the vectorised engine, for checking it.

:func:`simulate_reference` replays one sim of a :class:`~.draws.Draws` with ordinary Python
loops over laps and cars (no arrays of sims, no masks, no index tricks), using float32 scalars in
the same operation order as :mod:`.effects`. Given the same draws it must reproduce
:func:`.engine.run` exactly - tests assert it. It is slow (~1 ms per race) and is not used for
answers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from f1analyzer.simulation.core.draws import Draws
from f1analyzer.simulation.core.effects import pass_logit
from f1analyzer.simulation.core.params import RaceParams, TrackStatus, compound_code
from f1analyzer.simulation.core.pitloss import free_laps, stop_loss_s, stop_status
from f1analyzer.simulation.core.result import SimResult
from f1analyzer.simulation.core.state import RETIRED_KEY_PER_LAP_S, RETIRED_KEY_S, RaceState
from f1analyzer.simulation.core.strategy import Strategy

f32 = np.float32


def _key(race_time_s: float, retired: bool, laps_done: int) -> float:
    """Classification key: runners by time, retired cars behind (later retirements first)."""
    if retired:
        return race_time_s + (RETIRED_KEY_S - laps_done * RETIRED_KEY_PER_LAP_S)
    return race_time_s


def simulate_reference(
    race: RaceParams,
    strategies: Sequence[Strategy],
    draws: Draws,
    sim: int,
    *,
    state: RaceState | None = None,
    free_stop_laps: Sequence[int] = (),
) -> SimResult:
    """Simulate sim number ``sim`` of ``draws`` car by car; returns a one-sim :class:`SimResult`."""
    n, total, first = race.n_cars, race.total_laps, draws.first_lap
    free = free_laps(state, free_stop_laps)  # red-flag suspensions: stops there cost nothing
    status_by_lap = [int(x) for x in draws.track_status[sim]]
    table = race.tyre_delta_table()
    n_age = table.shape[1]
    remaining = 1.0 if state is None else (total - state.lap) / total
    car_base = [f32(race.base_lap_time_s + c.base_pace_s) for c in race.cars]
    sd = [f32(c.lap_noise_sd_s) for c in race.cars]
    offset = [f32(c.pit_stop_offset_s) for c in race.cars]
    prob = [f32(c.retirement_prob * remaining) for c in race.cars]
    start_loss = [f32(race.first_lap_loss_s + race.per_grid_slot_loss_s * (c.grid_position - 1))
                  for c in race.cars]
    loss = {s: f32(stop_loss_s(race, s)) for s in TrackStatus}
    neutral = {TrackStatus.SC: f32(race.base_lap_time_s * race.sc_lap_time_factor),
               TrackStatus.VSC: f32(race.base_lap_time_s * race.vsc_lap_time_factor)}
    g = f32(race.min_gap_s)
    b0 = f32(race.passing.intercept + race.passing.circuit_effect)
    b1, b2 = f32(race.passing.pace_coef_per_s), f32(race.passing.drs_coef)
    q, keep = f32(race.sc_queue_gap_s), f32(race.sc_gap_retain_per_lap)

    plans = [list(s.stops) for s in strategies]
    comp = [compound_code(s.start_compound) for s in strategies]
    plan_idx = [0] * n
    if state is None:
        time = [f32(0.0)] * n
        age = [c.start_tyre_age_laps if s.start_age_laps is None else s.start_age_laps
               for c, s in zip(race.cars, strategies)]
        retired = [False] * n
        stops = [0] * n
        laps_done = [0] * n
        order = sorted(range(n), key=lambda c: race.cars[c].grid_position)
    else:
        time = [f32(float(x)) for x in state.gap_to_leader_s]
        age = [int(a) for a in state.tyre_age_laps]
        retired = [bool(x) for x in (state.retired or [False] * n)]
        stops = [int(x) for x in state.stops_done]
        laps_done = [0 if retired[c] else state.lap for c in range(n)]
        order = sorted(range(n), key=lambda c: int(state.position[c]))
    passes = 0

    def next_pit(c: int) -> int:
        return plans[c][plan_idx[c]][0] if plan_idx[c] < len(plans[c]) else 32000

    for lap in range(first, total + 1):
        status = status_by_lap[lap - 1]
        z = draws.lap_z[lap - first, sim]
        # 1-2. free-air lap time / neutralised lap
        lt = [f32(0.0)] * n
        pace = [f32(0.0)] * n  # lap times without their noise: what the passing odds compare
        for c in range(n):
            if retired[c]:
                continue
            x = car_base[c] + table[comp[c], min(age[c], n_age - 1)]
            x = x + f32(-(lap - 1) * race.fuel_effect_s_per_lap)
            pace[c] = x
            x = x + sd[c] * z[c]
            if status != TrackStatus.GREEN:
                x = neutral[status]
            if lap == 1:
                x = x + (start_loss[c] + f32(race.start_time_sd_s) * draws.start_z[sim, c])
            lt[c] = x
        # 3. pit decisions; under SC the stop's loss goes into the lap, before the queue forms
        boxed = [False] * n
        cost = [f32(0.0)] * n
        for c in range(n):
            if retired[c]:
                continue
            due = next_pit(c) - lap
            window = strategies[c].sc_window_laps
            boxed[c] = lap <= total - 1 and (
                due == 0 or (status != TrackStatus.GREEN and 0 < due <= window))
            if boxed[c]:
                x = loss[stop_status(status, status_by_lap[lap])] + offset[c]
                cost[c] = x + f32(race.pit_loss_sd_s) * draws.pit_z[sim, c, plan_idx[c]]
                if lap in free:
                    cost[c] = f32(0.0)  # changed in the pit lane during the suspension
                if status == TrackStatus.SC:
                    lt[c] = lt[c] + cost[c]
        # 4. interaction, walking the field from the leader
        prev = [time[c] for c in order]
        lts = [lt[c] for c in order]
        pcs = [pace[c] for c in order]
        ret = [retired[c] for c in order]
        u = draws.pass_u[lap - first, sim]
        held = race.passing.held_gap(draws.held_q[lap - first, sim])  # by car; None: min_gap_s
        slots = [[prev[k] + lts[k], order[k], pcs[k]] for k in range(n)]
        if lap > 1 and status == TrackStatus.GREEN:
            drs_open = (race.drs_enabled and lap >= 3
                        and status_by_lap[lap - 2] == TrackStatus.GREEN)
            drs = [False] * n
            for k in range(1, n):
                if drs_open and not ret[k] and (prev[k] - prev[k - 1]) < f32(race.drs_window_s):
                    drs[k] = True
                    lts[k] = lts[k] - f32(race.drs_gain_s)
                    pcs[k] = pcs[k] - f32(race.drs_gain_s)
            t = [prev[k] + lts[k] for k in range(n)]
            pcb = [pcs[k] * b1 for k in range(n)]  # paces scaled by the pace coefficient
            slots = [[t[0], order[0], pcb[0]]]
            for k in range(1, n):
                if ret[k]:
                    slots.append([t[k], order[k], pcb[k]])
                    continue
                last_t, last_car, last_pcb = slots[k - 1]
                lim = last_t + (g if held is None else held[order[k]])
                passed = False
                if t[k] < lim:  # caught: pass with probability P(pass | delta, DRS), i.e.
                    # b0 + b1 * delta + b2 * drs > logit(u), evaluated as the engine does:
                    # b1 * pace_ahead > logit(u) - b0 - b2 * drs + b1 * pace
                    need = pass_logit(np.array([u[order[k]]], dtype=f32))[0] - b0
                    need = need - (b2 if drs[k] else f32(0.0))
                    passed = bool(last_pcb > need + pcb[k])
                if passed:
                    ahead = slots[k - 2][0] if k >= 2 else f32(-math.inf)
                    p_time = max(t[k], ahead + g)
                    slots[k - 1] = [p_time, order[k], pcb[k]]
                    slots.append([max(last_t, p_time + g), last_car, last_pcb])
                    passes += 1
                else:  # free, or held up behind
                    slots.append([max(t[k], lim), order[k], pcb[k]])
        elif lap > 1 and status == TrackStatus.SC:
            # line-time order first (a car that boxed drops back), retired cars stay behind
            srt = sorted(range(n), key=lambda k: math.inf if ret[k] else float(slots[k][0]))
            slots = [slots[k] for k in srt]
            ret = [ret[k] for k in srt]
            t = [s[0] for s in slots]
            for k in range(1, n):
                gap = t[k] - t[k - 1]
                new_gap = (gap - q) * keep + q if gap > q else gap
                slots[k][0] = t[k] if ret[k] else slots[k - 1][0] + new_gap
        new_time = list(time)
        for t_k, c, _ in slots:
            new_time[c] = f32(t_k)
        order = [c for _, c, _ in slots]
        # 5. stops are charged (green/VSC), tyres change, retirements
        for c in range(n):
            if retired[c]:
                continue
            if boxed[c]:
                if status != TrackStatus.SC:
                    new_time[c] = new_time[c] + cost[c]
                comp[c] = compound_code(plans[c][plan_idx[c]][1])
                plan_idx[c] += 1
                stops[c] += 1
                age[c] = 0
            else:
                age[c] += 1
            if draws.retire_lap[sim, c] == lap and draws.retire_u[sim, c] < prob[c]:
                retired[c] = True
                new_time[c] = time[c]
            else:
                laps_done[c] += 1
        time = new_time

        # 6. classification: stable sort by time, retired cars behind by laps completed
        order = sorted(order, key=lambda c, t=time: _key(float(t[c]), retired[c], laps_done[c]))

    finish = np.zeros((1, n), dtype=np.int8)
    for pos, c in enumerate(order):
        finish[0, c] = pos + 1
    times = np.array([[math.nan if retired[c] else float(time[c]) for c in range(n)]])
    ref = (np.array([c.grid_position for c in race.cars]) if state is None
           else np.asarray(state.position, dtype=np.int64))
    return SimResult(
        drivers=race.drivers,
        finish_position=finish,
        race_time_s=times,
        retired=np.array([retired]),
        laps_done=np.array([laps_done], dtype=np.int16),
        stops_done=np.array([stops], dtype=np.int8),
        track_status=draws.track_status[sim:sim + 1],
        reference_position=ref,
        passes=np.array([passes], dtype=np.int16),
        first_lap=first,
    )
