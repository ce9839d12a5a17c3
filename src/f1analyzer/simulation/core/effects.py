"""One pure function per physical effect on a lap.

The engine applies them in this fixed order on every lap ``n`` (see ``engine.run``):

1. :func:`tyre_wear` + :func:`fuel_burn` + :func:`lap_noise` (+ :func:`race_start` on lap 1):
   additive deltas on the car's free-air lap time.
2. :func:`neutralised_lap_time`: under SC/VSC everybody runs the same slow lap instead.
3. :func:`pit_stop`: time lost by the cars that box at the end of lap ``n`` (the loss from
   :mod:`.pitloss`, cheaper under SC/VSC). Under SC it is charged *before* the queue forms.
4. Interaction on track - :func:`overtaking` on green laps (DRS, passing with a probability or
   being held up), :func:`safety_car` on SC laps (the field queues up, gaps shrink). VSC keeps
   the gaps. On green and VSC laps the stop's loss is added after the interaction.
5. :func:`retirements`: cars whose failure lap has come.

Unless stated otherwise inputs and outputs are ``[n_sims, n_cars]`` and float32; every float
operation is done in float32 in a fixed order so that :mod:`.reference` (a scalar loop over one
race) reproduces the engine bit for bit. The interaction effects work on arrays *sorted by
position and transposed*, ``[n_cars, n_sims]`` (row ``k`` = the car running ``k + 1``-th), because
they sweep the field from the leader backwards.
"""

from __future__ import annotations

import numpy as np

from f1analyzer.simulation.core.params import PassingParams, RaceParams, TrackStatus

F32 = np.float32


def tyre_wear(compound: np.ndarray, tyre_age_laps: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Compound pace offset plus wear for each car's set, looked up in ``table``.

    ``table`` is ``RaceParams.tyre_delta_table()`` (``[n_compounds, max_age + 1]``); ages beyond
    the table are clipped to its last column.
    """
    n_age = table.shape[1]
    age = np.minimum(tyre_age_laps, n_age - 1).astype(np.intp)
    return table.ravel().take(compound.astype(np.intp) * n_age + age)


def fuel_burn(lap: int, fuel_effect_s_per_lap: float, shape: tuple[int, int]) -> np.ndarray:
    """Lap time gained from the fuel burnt before lap ``lap`` (negative delta, same for all)."""
    return np.broadcast_to(F32(-(lap - 1) * fuel_effect_s_per_lap), shape)


def lap_noise(lap_z: np.ndarray, lap_noise_sd_s: np.ndarray) -> np.ndarray:
    """Lap-to-lap variation: standard normal draws ``[n_sims, n_cars]`` times the car's sd ``[n_cars]``."""
    return lap_z * lap_noise_sd_s


def start_loss_s(race: RaceParams) -> np.ndarray:
    """``[n_cars]`` float32 deterministic lap-1 loss: standing start plus distance to the line."""
    grid = np.array([c.grid_position for c in race.cars], dtype=np.float64)
    return (race.first_lap_loss_s + race.per_grid_slot_loss_s * (grid - 1)).astype(F32)


def race_start(start_z: np.ndarray, start_loss: np.ndarray, start_time_sd_s: float) -> np.ndarray:
    """Lap-1 delta: grid-slot loss ``[n_cars]`` plus a start spread that shuffles the order."""
    return start_loss + F32(start_time_sd_s) * start_z


def neutral_lap_times(race: RaceParams) -> np.ndarray:
    """float32 ``[3]`` lap time under each :class:`TrackStatus` (GREEN entry unused)."""
    out = np.zeros(3, dtype=F32)
    out[TrackStatus.SC] = F32(race.base_lap_time_s * race.sc_lap_time_factor)
    out[TrackStatus.VSC] = F32(race.base_lap_time_s * race.vsc_lap_time_factor)
    return out


def neutralised_lap_time(lap_time: np.ndarray, status: np.ndarray, neutral: np.ndarray) -> np.ndarray:
    """Under SC/VSC (``status`` ``[n_sims]``) every car runs the neutralised lap instead."""
    is_neutral = (status != TrackStatus.GREEN)[:, None]
    return np.where(is_neutral, neutral[status][:, None], lap_time)


#: smallest uniform used: ``logit(u)`` stays finite (a float32 uniform can be exactly 0)
U_MIN = F32(2.0 ** -24)


def pass_logit(u: np.ndarray) -> np.ndarray:
    """``log(u / (1 - u))`` of uniforms (float32, 1-D): a pass happens when its log-odds exceed it.

    Comparing log-odds with ``logit(u)`` is the same as ``u < P(pass)``; the reference loop
    calls this same function so both evaluate it identically.
    """
    u = np.maximum(u, U_MIN)
    return np.log(u / (F32(1.0) - u))


def overtaking(
    prev_t: np.ndarray,
    lap_time_t: np.ndarray,
    pace_t: np.ndarray,
    retired_t: np.ndarray,
    cars_t: np.ndarray,
    drs_on: np.ndarray,
    pass_logit_t: np.ndarray,
    held_gap_t: np.ndarray | None = None,
    *,
    min_gap_s: float,
    passing: PassingParams,
    drs_gain_s: float,
    drs_window_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Green-lap interaction: DRS, overtakes and cars held up in traffic.

    Sweeping from the leader back, each car's line time is ``prev + lap_time``. A car that would
    arrive less than its held-up gap (``held_gap_t``; ``min_gap_s`` when None) behind the car
    ahead has *caught* it. It passes with
    probability ``passing.p_pass(delta, drs)`` (``delta``: how much quicker its *pace* is than the
    car now ahead's - lap times without this lap's noise, the DRS gain included, as the odds are
    fitted: the fitted odds already average over the noise of real laps, so a noisy delta would
    count it twice; it passes when the log-odds exceed ``pass_logit_t``, the logit of its uniform
    draw), the passed car is then pushed
    ``min_gap_s`` behind it; otherwise it is held up: ``time = car_ahead + held-up gap`` (dirty
    air keeps a real follower some way back; drawn per car and lap). At most
    one pass per car and lap. DRS (rows where ``drs_on``) takes ``drs_gain_s`` off the lap of a
    car that started the lap within ``drs_window_s`` of the car ahead.

    Args:
        prev_t: ``[n_cars, n_sims]`` race time at the start of the lap, sorted by position.
        lap_time_t: ``[n_cars, n_sims]`` free-air lap times in the same order (0 for retired).
        pace_t: ``[n_cars, n_sims]`` the same lap times without their noise.
        retired_t: ``[n_cars, n_sims]`` bool, retired cars (all at the back).
        cars_t: ``[n_cars, n_sims]`` car indices in that order.
        drs_on: ``[n_sims]`` bool, DRS enabled this lap.
        pass_logit_t: ``[n_cars, n_sims]`` :func:`pass_logit` of the uniform draw of the car in
            each slot.
        held_gap_t: ``[n_cars, n_sims]`` held-up gap of the car in each slot
            (``PassingParams.held_gap``), or None: ``min_gap_s`` for all.

    Returns:
        ``(time_t, new_cars_t, passes)``: line times ``[n_cars, n_sims]`` in the *new* order, the
        car indices in the new order, and the number of passes per sim ``[n_sims]``.
    """
    g = F32(min_gap_s)
    b0 = F32(passing.intercept + passing.circuit_effect)
    b1, b2 = F32(passing.pace_coef_per_s), F32(passing.drs_coef)
    n_cars, n_sims = prev_t.shape
    running = ~retired_t
    lt = lap_time_t.copy()
    pc = pace_t.copy()
    # a caught car passes when b0 + b1 * delta + b2 * drs > logit(u), delta = pace ahead - its
    # pace: with paces scaled by b1, when b1 * pace_ahead > bar = logit(u) - b0 - b2 * drs +
    # b1 * pace (bar once for all slots: one comparison per slot in the sweep, not three)
    need = pass_logit_t - b0
    if n_cars > 1:
        gap = prev_t[1:] - prev_t[:-1]
        drs = drs_on & running[1:] & (gap < F32(drs_window_s))
        gain = np.where(drs, F32(drs_gain_s), F32(0.0))
        lt[1:] -= gain
        pc[1:] -= gain
        need[1:] = need[1:] - np.where(drs, b2, F32(0.0))
    pcb = pc * b1
    bar = np.where(running, need + pcb, F32(np.inf))  # a retired car never passes
    t = prev_t + lt
    out_t = t.copy()  # slot k holds the line time of the car now k-th
    out_c = cars_t.copy()
    out_pcb = pcb.copy()  # ... and its scaled pace
    passes = np.zeros(n_sims, dtype=np.int16)
    for k in range(1, n_cars):
        lim = out_t[k - 1] + (g if held_gap_t is None else held_gap_t[k])
        passing = t[k] < lim  # caught the car ahead ...
        np.maximum(t[k], lim, out=out_t[k])  # ... and held up unless it passes
        # full rows: cheaper than gathering the caught sims first
        passing &= out_pcb[k - 1] > bar[k]
        if not passing.any():
            continue
        i = np.flatnonzero(passing)
        ahead = out_t[k - 2, i] if k >= 2 else np.full(i.size, -np.inf, dtype=F32)
        p_time = np.maximum(t[k, i], ahead + g)
        pushed = np.maximum(out_t[k - 1, i], p_time + g)
        out_t[k, i], out_c[k, i], out_pcb[k, i] = pushed, out_c[k - 1, i], out_pcb[k - 1, i]
        out_t[k - 1, i], out_c[k - 1, i], out_pcb[k - 1, i] = p_time, cars_t[k, i], pcb[k, i]
        passes[i] += 1
    out_t = np.where(retired_t, t, out_t)  # retired cars sit at the back and keep their time
    return out_t, out_c, passes


def safety_car(
    prev_t: np.ndarray,
    lap_time_t: np.ndarray,
    retired_t: np.ndarray,
    cars_t: np.ndarray,
    *,
    queue_gap_s: float,
    gap_retain_per_lap: float,
) -> tuple[np.ndarray, np.ndarray]:
    """SC lap: the field bunches up behind the Safety Car.

    Everyone runs the neutralised lap (``lap_time_t``, 0 for retired cars; a car boxing this lap
    has its stop loss in it already, so the stop is charged against the gaps at the start of the
    lap). The field is put in line-time order (retired cars stay at the back), then, leader
    backwards, each gap to the car ahead above ``queue_gap_s`` shrinks to
    ``queue_gap_s + (gap - queue_gap_s) * gap_retain_per_lap``. Works on ``[n_cars, n_sims]``
    sorted arrays like :func:`overtaking`; returns ``(time_t, new_cars_t)`` in the new order
    (retired cars keep their time).
    """
    q, r = F32(queue_gap_s), F32(gap_retain_per_lap)
    t = prev_t + lap_time_t
    idx = np.argsort(np.where(retired_t, np.inf, t), axis=0, kind="stable")
    flat = idx * t.shape[1] + np.arange(t.shape[1], dtype=np.intp)  # [n_cars, n_sims] in the new order
    t, ret, cars = t.ravel().take(flat), retired_t.ravel().take(flat), cars_t.ravel().take(flat)
    out = np.empty_like(t)
    out[0] = t[0]
    for k in range(1, t.shape[0]):
        gap = t[k] - t[k - 1]
        new_gap = np.where(gap > q, (gap - q) * r + q, gap)
        out[k] = np.where(ret[k], t[k], out[k - 1] + new_gap)
    return out, cars


def pit_stop(
    pit_now: np.ndarray,
    status: np.ndarray,
    stop_z: np.ndarray,
    pit_stop_offset_s: np.ndarray,
    loss_by_status: np.ndarray,
    pit_loss_sd_s: float,
) -> np.ndarray:
    """Time lost by cars boxing at the end of this lap (0 elsewhere).

    ``loss_by_status[status]`` (``[n_sims]``, :func:`.pitloss.loss_table`: a stop under SC/VSC
    is cheaper because the field is slow) + the team's offset ``[n_cars]`` +
    ``pit_loss_sd_s * stop_z`` (per-stop noise).
    """
    loss = loss_by_status[status][:, None] + pit_stop_offset_s
    loss = loss + F32(pit_loss_sd_s) * stop_z
    return np.where(pit_now, loss, F32(0.0))


def retirements(
    running: np.ndarray, retire_u: np.ndarray, retire_lap: np.ndarray,
    retirement_prob: np.ndarray, lap: int,
) -> np.ndarray:
    """bool mask of running cars that retire on ``lap`` (``u < prob`` and their drawn lap)."""
    return running & (retire_lap == lap) & (retire_u < retirement_prob)
