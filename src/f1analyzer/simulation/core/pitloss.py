"""The one pit-loss table: what a stop costs under each track status.

Every part of the simulator that prices a stop (the engine and its reference loop, the
screen's closed form, the replay's real state, the advisor and the undercut) calls
:func:`stop_loss_s`; nothing else chooses between the green, Safety Car and Virtual Safety Car
losses. The loss includes the out-lap penalty (cold tyres), which every stop pays.

Under a Safety Car the loss is charged *before* the field bunches (see
``engine.run``): ``pit_loss_sc_s`` is the time lost against the gaps at the start of the in-lap,
which is how :mod:`f1analyzer.models.pitloss` measures it from real stops.

Which loss a stop pays is :func:`stop_status`: the in-lap's status, except that a stop on the
last lap of a VSC (its out-lap green) pays the green loss. Why: a VSC ends for everyone at once
and the stopper runs the rest of the lane and its out-lap against a field at full speed — such
stops cost 23.8 s against 22.8 s for green ones (13 stops, 2018–2024) —, while a Safety Car's
last lap still has the field queued behind it (stops with the out-lap green cost 7.4 s, 4 stops).

A tyre change during a red flag costs nothing: the cars wait in the pit lane (the lap runs as a
SC lap). :func:`free_laps` names those laps for the engine and its reference loop, and
``stop_loss_s(..., red_flag=True)`` is 0 for the callers that price one stop.
"""

from __future__ import annotations

import numpy as np

from collections.abc import Collection

from f1analyzer.simulation.core.params import RaceParams, TrackStatus
from f1analyzer.simulation.core.state import RaceState

F32 = np.float32


def loss_table(params: RaceParams) -> np.ndarray:
    """float32 ``[3]``: stop loss (out-lap penalty included) indexed by :class:`TrackStatus`."""
    out = np.zeros(len(TrackStatus), dtype=F32)
    extra = params.out_lap_penalty_s
    out[TrackStatus.GREEN] = F32(params.pit_loss_s + extra)
    out[TrackStatus.SC] = F32(params.pit_loss_sc_s + extra)
    out[TrackStatus.VSC] = F32(params.pit_loss_vsc_s + extra)
    return out


def stop_loss_s(params: RaceParams, status: TrackStatus | int | np.ndarray, *,
                red_flag: bool = False) -> float | np.ndarray:
    """Time (s) a stop made under ``status`` costs against staying out.

    Args:
        params: the race (``pit_loss_s``, ``pit_loss_sc_s``, ``pit_loss_vsc_s``,
            ``out_lap_penalty_s``).
        status: one :class:`TrackStatus` (or its int code): returns a float; an int array of
            codes (any shape): returns a float32 array of the same shape.
        red_flag: the race is suspended: the change costs nothing.
    """
    if red_flag:
        return np.zeros(np.shape(status), dtype=F32) if isinstance(status, np.ndarray) else 0.0
    table = loss_table(params)
    if isinstance(status, np.ndarray):
        return table[status.astype(np.intp)]
    return float(table[int(status)])


def free_laps(state: RaceState | None, free_stop_laps: Collection[int] = ()) -> frozenset[int]:
    """The laps on which a stop costs nothing: ``free_stop_laps`` (a replay's red-flag laps) and,
    from a suspended race (``state.red_flag``), the lap being run."""
    out = {int(lap) for lap in free_stop_laps}
    if state is not None and state.red_flag:
        out.add(int(state.lap) + 1)
    return frozenset(out)


def stop_status(in_lap: TrackStatus | int | np.ndarray, out_lap: TrackStatus | int | np.ndarray):
    """The status whose loss a stop pays (see the module docstring): ``in_lap``'s, GREEN when a
    VSC ends with the in-lap. Scalars or int arrays of the same shape (then an int8 array)."""
    if isinstance(in_lap, np.ndarray) or isinstance(out_lap, np.ndarray):
        in_lap = np.asarray(in_lap)
        ended = (in_lap == TrackStatus.VSC) & (np.asarray(out_lap) == TrackStatus.GREEN)
        return np.where(ended, np.int8(TrackStatus.GREEN), in_lap).astype(np.int8)
    if int(in_lap) == TrackStatus.VSC and int(out_lap) == TrackStatus.GREEN:
        return TrackStatus.GREEN
    return TrackStatus(int(in_lap))
