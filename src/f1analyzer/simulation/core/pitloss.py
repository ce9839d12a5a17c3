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
"""

from __future__ import annotations

import numpy as np

from f1analyzer.simulation.core.params import RaceParams, TrackStatus

F32 = np.float32


def loss_table(params: RaceParams) -> np.ndarray:
    """float32 ``[3]``: stop loss (out-lap penalty included) indexed by :class:`TrackStatus`."""
    out = np.zeros(len(TrackStatus), dtype=F32)
    extra = params.out_lap_penalty_s
    out[TrackStatus.GREEN] = F32(params.pit_loss_s + extra)
    out[TrackStatus.SC] = F32(params.pit_loss_sc_s + extra)
    out[TrackStatus.VSC] = F32(params.pit_loss_vsc_s + extra)
    return out


def stop_loss_s(params: RaceParams, status: TrackStatus | int | np.ndarray) -> float | np.ndarray:
    """Time (s) a stop made under ``status`` costs against staying out.

    Args:
        params: the race (``pit_loss_s``, ``pit_loss_sc_s``, ``pit_loss_vsc_s``,
            ``out_lap_penalty_s``).
        status: one :class:`TrackStatus` (or its int code): returns a float; an int array of
            codes (any shape): returns a float32 array of the same shape.
    """
    table = loss_table(params)
    if isinstance(status, np.ndarray):
        return table[status.astype(np.intp)]
    return float(table[int(status)])


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
