"""All random numbers of a batch of simulated races, drawn up front.

Common random numbers (CRN): strategy comparisons are only sharp when every candidate sees the
same Safety Cars, the same lap noise and the same retirements. Therefore each random quantity
has its own stream (spawned from one :class:`numpy.random.SeedSequence`) and is drawn as a block
of fixed shape *before* any strategy is looked at:

=================  ==========================  ==============================================
field              shape, dtype                meaning
=================  ==========================  ==============================================
``track_status``   ``[n_sims, total_laps]`` i8  :class:`TrackStatus` of each lap (index lap-1)
``start_z``        ``[n_sims, n_cars]`` f32     standard normal, lap-1 start spread
``lap_z``          ``[n_laps, n_sims, n_cars]``  standard normal lap noise, lap ``first_lap + i``
``pit_z``          ``[n_sims, n_cars, MAX]`` f32 standard normal pit-stop time noise, per stop
``retire_u``       ``[n_sims, n_cars]`` f32     uniform; the car retires when ``u < prob``
``retire_lap``     ``[n_sims, n_cars]`` i16     lap on which it would retire
``pass_u``         ``[n_laps, n_sims, n_cars]``  uniform in (0, 1); the car, if it caught the car
                                               ahead on lap ``first_lap + i``, passes when
                                               ``u < P(pass)`` (see ``effects.overtaking``)
``neutral_u``      ``[n_sims]`` f32             uniform; how long the SC/VSC that is out at a
                                               mid-race start stays, when the state leaves it
                                               open (``engine.apply_state_status``)
``held_q``         ``[n_laps, n_sims, n_cars]``  uniform integer in ``[0, HELD_GAP_GRID)`` (u16),
                                               a probability on a grid: the gap at which the
                                               car is held up behind the car ahead on lap
                                               ``first_lap + i`` (``PassingParams.held_gap``)
=================  ==========================  ==============================================

Noise is indexed by (sim, car, lap) or (sim, car, stop number), never by "the k-th pit stop of
the field", so changing one car's strategy never moves another car's draws. Sims are drawn in
fixed chunks of :data:`CHUNK_SIMS`, each from its own child seed, so the first sims of a run
are the same whatever ``n_sims`` is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

import numpy as np

from f1analyzer.errors import InvalidRequestError
from f1analyzer.simulation.core.params import (
    HELD_GAP_GRID,
    MAX_STOPS,
    NeutralisationParams,
    RaceParams,
    TrackStatus,
)

CHUNK_SIMS = 16384
# new streams go at the end: earlier streams keep their seeds (SeedSequence children by index)
_STREAMS = ("status", "start", "laps", "pits", "retire", "passing", "neutral", "held")
#: draws laid out lap-major, ``[n_laps, n_sims, n_cars]`` (sims on axis 1)
_LAP_MAJOR = ("lap_z", "pass_u", "held_q")



@dataclass
class Draws:
    """Pre-drawn random numbers for ``n_sims`` races (see the module docstring for shapes)."""

    first_lap: int
    track_status: np.ndarray
    start_z: np.ndarray
    lap_z: np.ndarray
    pit_z: np.ndarray
    retire_u: np.ndarray
    retire_lap: np.ndarray
    pass_u: np.ndarray
    neutral_u: np.ndarray
    held_q: np.ndarray

    @property
    def n_sims(self) -> int:
        return int(self.start_z.shape[0])

    def _per_sim(self, op) -> "Draws":
        """Apply ``op(array, sim_axis)`` to every per-sim array (lap-major arrays keep sims on axis 1)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v if f.name == "first_lap" else op(v, 1 if f.name in _LAP_MAJOR else 0)
        return Draws(**out)

    def take(self, sims: np.ndarray | slice) -> "Draws":
        """The draws of a subset of sims (e.g. one sim for the reference loop)."""
        return self._per_sim(lambda v, axis: v[(slice(None),) * axis + (sims,)])

    def tile(self, n_groups: int) -> "Draws":
        """Repeat all sims ``n_groups`` times (group-major) so candidates share the same draws."""
        def rep(v, axis):
            reps = [1] * v.ndim
            reps[axis] = n_groups
            return np.tile(v, reps)

        return self._per_sim(rep)

    def with_track_status(self, track_status: np.ndarray) -> "Draws":
        return replace(self, track_status=track_status)


def _categorical(rng: np.random.Generator, probs: tuple[float, ...], n: int) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    cdf = np.cumsum(p / p.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(n), side="right")


def sample_neutralisations(
    rng: np.random.Generator, params: NeutralisationParams, n_sims: int, total_laps: int
) -> np.ndarray:
    """Boolean ``[n_sims, total_laps]`` mask of laps covered by sampled SC (or VSC) periods."""
    laps = np.arange(1, total_laps + 1)[None, :]
    mask = np.zeros((n_sims, total_laps), dtype=bool)
    has = rng.random(n_sims) < params.p_at_least_one
    count = np.where(has, 1 + _categorical(rng, params.count_probs, n_sims), 0)
    n_bins = len(params.start_fraction_probs)
    for k in range(len(params.count_probs)):
        active = count > k
        start_bin = _categorical(rng, params.start_fraction_probs, n_sims)
        frac = (start_bin + rng.random(n_sims)) / n_bins
        start_lap = np.clip(1 + np.floor(frac * total_laps).astype(np.int64), 1, total_laps)
        dur = 1 + _categorical(rng, params.duration_laps_probs, n_sims)
        end_lap = start_lap + dur - 1
        mask |= active[:, None] & (laps >= start_lap[:, None]) & (laps <= end_lap[:, None])
    return mask


def sample_track_status(
    rng: np.random.Generator, race: RaceParams, n_sims: int
) -> np.ndarray:
    """``[n_sims, total_laps]`` int8 track status: VSC periods painted first, SC over them."""
    vsc = sample_neutralisations(rng, race.vsc, n_sims, race.total_laps)
    sc = sample_neutralisations(rng, race.sc, n_sims, race.total_laps)
    status = np.full((n_sims, race.total_laps), TrackStatus.GREEN, dtype=np.int8)
    status[vsc] = TrackStatus.VSC
    status[sc] = TrackStatus.SC
    return status


def _draw_chunk(race: RaceParams, n: int, ss: np.random.SeedSequence, first_lap: int) -> Draws:
    gens = {name: np.random.default_rng(s) for name, s in zip(_STREAMS, ss.spawn(len(_STREAMS)))}
    n_cars, total = race.n_cars, race.total_laps
    n_laps = total - first_lap + 1
    status = sample_track_status(gens["status"], race, n)
    start_z = gens["start"].standard_normal((n, n_cars), dtype=np.float32)
    lap_z = gens["laps"].standard_normal((n_laps, n, n_cars), dtype=np.float32)
    pit_z = gens["pits"].standard_normal((n, n_cars, MAX_STOPS + 1), dtype=np.float32)
    retire_u = gens["retire"].random((n, n_cars), dtype=np.float32)
    retire_lap = gens["retire"].integers(first_lap, total + 1, (n, n_cars), dtype=np.int16)
    pass_u = gens["passing"].random((n_laps, n, n_cars), dtype=np.float32)
    neutral_u = gens["neutral"].random(n, dtype=np.float32)
    held_q = gens["held"].integers(0, HELD_GAP_GRID, (n_laps, n, n_cars), dtype=np.uint16)
    return Draws(first_lap, status, start_z, lap_z, pit_z, retire_u, retire_lap, pass_u, neutral_u, held_q)


def fix_retirements(draws: Draws, retire_laps: Sequence[int | None]) -> None:
    """Replace the sampled retirements by known ones (a replay of what happened): car ``c``
    retires on lap ``retire_laps[c]`` in every simulated race (its time frozen at the end of the
    lap before), or never when None. ``retire_u`` −1 is below any retirement probability."""
    for c, lap in enumerate(retire_laps):
        if lap is None:
            draws.retire_u[:, c] = 2.0  # never below a probability
        else:
            draws.retire_u[:, c] = -1.0
            draws.retire_lap[:, c] = int(lap)


def chunk_sizes(n_sims: int) -> list[tuple[int, int]]:
    """``(chunk_index, n)`` pairs covering ``n_sims`` sims in chunks of :data:`CHUNK_SIMS`."""
    return [(i, min(CHUNK_SIMS, n_sims - lo)) for i, lo in enumerate(range(0, n_sims, CHUNK_SIMS))]


def draw_chunk(race: RaceParams, root: np.random.SeedSequence, index: int, n: int,
               first_lap: int = 1) -> Draws:
    """Draws of chunk ``index`` (``n`` sims) of the run seeded by ``root``."""
    child = np.random.SeedSequence(root.entropy, spawn_key=(index,))
    return _draw_chunk(race, n, child, first_lap)


def draw(
    race: RaceParams,
    n_sims: int,
    seed: int | None,
    *,
    first_lap: int = 1,
    sc_schedule: np.ndarray | None = None,
) -> Draws:
    """Draw everything ``n_sims`` races need, from lap ``first_lap`` to the flag.

    Args:
        race: the race (field size, distance, SC/VSC distributions).
        n_sims: number of simulated races.
        seed: integer seed (``None`` = fresh entropy, not reproducible).
        first_lap: first lap to simulate (``state.lap + 1`` for a mid-race start).
        sc_schedule: optional fixed track status instead of sampled SC/VSC, array-like of
            :class:`TrackStatus` codes, shape ``[total_laps]`` (same for all sims) or
            ``[n_sims, total_laps]``.
    """
    if n_sims < 1:
        raise InvalidRequestError(f"n_sims must be at least 1, got {n_sims}.")
    if not 1 <= first_lap <= race.total_laps:
        raise InvalidRequestError(
            f"first_lap {first_lap} is outside the race: valid laps are 1..{race.total_laps}."
        )
    root = np.random.SeedSequence(seed)
    chunks = [draw_chunk(race, root, i, n, first_lap) for i, n in chunk_sizes(n_sims)]
    if len(chunks) == 1:
        out = chunks[0]
    else:
        out = Draws(
            first_lap,
            *(
                np.concatenate([getattr(c, f.name) for c in chunks], axis=1 if f.name in _LAP_MAJOR else 0)
                for f in fields(Draws)
                if f.name != "first_lap"
            ),
        )
    if sc_schedule is not None:
        out.track_status = check_schedule(race, n_sims, sc_schedule)
    return out


def check_schedule(race: RaceParams, n_sims: int, sc_schedule: np.ndarray) -> np.ndarray:
    """Validate a fixed track-status schedule; returns it as ``[n_sims, total_laps]`` int8."""
    sched = np.asarray(sc_schedule)
    valid = {int(s) for s in TrackStatus}
    shape_ok = sched.shape in ((race.total_laps,), (n_sims, race.total_laps))
    if not shape_ok or not set(np.unique(sched).tolist()) <= valid:
        raise InvalidRequestError(
            f"sc_schedule must have shape ({race.total_laps},) or ({n_sims}, {race.total_laps}) "
            f"with codes {', '.join(f'{s.value}={s.name}' for s in TrackStatus)}."
        )
    return np.ascontiguousarray(np.broadcast_to(sched.astype(np.int8), (n_sims, race.total_laps)))
