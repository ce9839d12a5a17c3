"""The one pit-loss table: what a stop costs under each track status.

Every part of the simulator that prices a stop (the engine and its reference loop, the
screen's closed form, the replay's real state, the advisor and the undercut) calls
:func:`stop_loss_s`; nothing else chooses between the green, Safety Car and Virtual Safety Car
losses. The loss includes the out-lap penalty (cold tyres), which every stop pays.

Under a Safety Car the loss is charged *before* the field bunches (see
``engine.run``): ``pit_loss_sc_s`` is the time lost against the gaps at the start of the in-lap,
which is how :mod:`f1analyzer.models.pitloss` measures it from real stops.
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
