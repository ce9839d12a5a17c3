"""Simulator state: flat ``[n_sims, n_cars]`` arrays, one per attribute (Covasim style).

Dtypes are chosen here only: float32 for times, small ints for counters and codes. Results
(:mod:`f1analyzer.simulation.core.result`) are float64.

:class:`RaceState` is the outside view of a race in progress (what a timing screen shows): it
lets the engine start from lap ``N`` instead of the grid - the advisor simulates from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from f1analyzer.errors import InvalidRequestError
from f1analyzer.simulation.core.params import COMPOUNDS, RaceParams, TrackStatus, compound_code

TIME_DTYPE = np.float32
RESULT_DTYPE = np.float64
#: Sort-key offset that puts retired cars behind every runner (later retirements ahead).
RETIRED_KEY_S = 1.0e8
RETIRED_KEY_PER_LAP_S = 1.0e5


@dataclass
class SimState:
    """The field in ``n_sims`` parallel races at the end of a lap.

    All arrays are ``[n_sims, n_cars]`` and indexed by car (``race.cars`` order) except
    ``order``, whose row lists car indices from the leader backwards.
    """

    race_time_s: np.ndarray  # float32, elapsed time (frozen at retirement)
    compound: np.ndarray  # int8 compound code of the fitted set
    tyre_age_laps: np.ndarray  # int16 laps done on the fitted set
    retired: np.ndarray  # bool
    stops_done: np.ndarray  # int8 stops made in the race so far
    plan_idx: np.ndarray  # int8 index of the next planned stop in the car's plan
    next_pit_lap: np.ndarray  # int16 in-lap of the next planned stop (large = none)
    laps_done: np.ndarray  # int16 laps completed
    compounds_used: np.ndarray  # int8 bit mask (1 << compound code)
    order: np.ndarray  # int16 car index by position

    def sort_key(self, rows: np.ndarray | None = None) -> np.ndarray:
        """float64 ``[n_sims, n_cars]`` classification key: runners by time, then retirees
        (only the sims ``rows``, in that order, when given)."""
        time, laps, retired = self.race_time_s, self.laps_done, self.retired
        if rows is not None:
            time, laps, retired = time[rows], laps[rows], retired[rows]
        key = time.astype(np.float64)
        pen = RETIRED_KEY_S - laps.astype(np.float64) * RETIRED_KEY_PER_LAP_S
        return np.where(retired, key + pen, key)


@dataclass
class RaceState:
    """A race in progress, one entry per car in ``race.cars`` order.

    Attributes:
        lap: laps completed by the leader (the engine simulates ``lap + 1`` to the flag).
        track_status: status of the lap being run now (GREEN, SC or VSC).
        position: current 1-based positions.
        gap_to_leader_s: time behind the leader (leader 0.0); retired cars are ignored.
        compound: compound names fitted now.
        tyre_age_laps: laps on the fitted set.
        stops_done: stops already made.
        compounds_used: compound names used so far (two-compound rule); defaults to the current.
        retired: cars out of the race.
        neutral_laps_remaining: laps the current SC/VSC stays out (this one included), when
            known (a replay); None = unknown, as on a pit wall: each simulated race draws it
            from the fitted durations of periods that have already lasted
            ``neutral_laps_elapsed`` laps. Later neutralisations are sampled from the race's
            distributions.
        neutral_laps_elapsed: laps the current SC/VSC has already been out before the laps
            simulated (0 = it came out on the lap being run now).
        red_flag: the race is suspended. The cars wait in the pit lane, where a tyre change
            costs nothing and loses no place, and the race resumes behind the Safety Car in the
            order it stopped: ``track_status`` is SC, and a stop on the lap being run now is free
            (the engine charges it nothing).
    """

    lap: int
    position: Sequence[int]
    gap_to_leader_s: Sequence[float]
    compound: Sequence[str]
    tyre_age_laps: Sequence[int]
    stops_done: Sequence[int]
    track_status: TrackStatus = TrackStatus.GREEN
    compounds_used: Sequence[Sequence[str]] | None = None
    retired: Sequence[bool] | None = None
    neutral_laps_remaining: int | None = 2
    neutral_laps_elapsed: int = 0
    red_flag: bool = False

    def validate(self, race: RaceParams) -> None:
        n = race.n_cars
        if self.red_flag and TrackStatus(self.track_status) != TrackStatus.SC:
            raise InvalidRequestError("RaceState.red_flag needs track_status SC: a suspended race resumes "
                                      "behind the Safety Car.")
        if not 1 <= self.lap <= race.total_laps - 1:
            raise InvalidRequestError(
                f"lap {self.lap} cannot start a simulation: valid laps are 1..{race.total_laps - 1}."
            )
        for name in ("position", "gap_to_leader_s", "compound", "tyre_age_laps", "stops_done"):
            if len(getattr(self, name)) != n:
                raise InvalidRequestError(
                    f"RaceState.{name} has {len(getattr(self, name))} entries; the race has {n} "
                    f"cars ({', '.join(race.drivers)})."
                )
        if sorted(int(p) for p in self.position) != list(range(1, n + 1)):
            raise InvalidRequestError(f"RaceState.position must be a permutation of 1..{n}.")
        for c in self.compound:
            compound_code(c)
            if str(c).upper() not in race.compounds:
                raise InvalidRequestError(
                    f"Compound {c} has no parameters in this race. Valid: {', '.join(race.compounds)}."
                )

    def used_names(self, car: int) -> list[str]:
        used = list(self.compounds_used[car]) if self.compounds_used is not None else []
        return sorted({str(c).upper() for c in used} | {str(self.compound[car]).upper()})


#: a track status by name (feeds say "RED", requests "red") -> (simulator status, ``red_flag``):
#: a suspended race resumes behind the Safety Car, and a tyre change in the suspension is free
STATUS_BY_NAME = {"GREEN": (TrackStatus.GREEN, False), "SC": (TrackStatus.SC, False),
                  "VSC": (TrackStatus.VSC, False), "RED": (TrackStatus.SC, True)}


def status_from_name(name: str) -> tuple[TrackStatus, bool]:
    """(simulator status, red flag) of a track status name, any case; green when unknown."""
    return STATUS_BY_NAME.get(str(name).upper(), (TrackStatus.GREEN, False))


def used_mask(names: Sequence[str]) -> int:
    m = 0
    for name in names:
        m |= 1 << compound_code(name)
    return m


def initial_state(race: RaceParams, n_sims: int, start_codes: np.ndarray,
                  state: RaceState | None = None, start_age: np.ndarray | None = None) -> SimState:
    """State before the first simulated lap.

    From the grid: every car at time 0, order = grid order, starting compound and tyre age from
    ``start_codes`` (``[n_sims, n_cars]`` int8) and ``start_age`` (``[n_sims, n_cars]``, the
    plans' start sets; default the cars' own). From a :class:`RaceState`: times are the gaps to
    the leader, order the current positions, ages the state's.
    """
    n_cars = race.n_cars
    shape = (n_sims, n_cars)
    if state is None:
        grid = np.array([c.grid_position for c in race.cars])
        order = np.argsort(grid, kind="stable").astype(np.int16)
        race_time = np.zeros(shape, dtype=TIME_DTYPE)
        age = (np.array([c.start_tyre_age_laps for c in race.cars], dtype=np.int16) if start_age is None
               else np.asarray(start_age, dtype=np.int16))
        retired = np.zeros(n_cars, dtype=bool)
        stops = np.zeros(n_cars, dtype=np.int8)
        laps_done = np.zeros(n_cars, dtype=np.int16)
        used = np.left_shift(1, start_codes.astype(np.int16)).astype(np.int8)
    else:
        pos = np.asarray(state.position, dtype=np.int64)
        order = np.argsort(pos, kind="stable").astype(np.int16)
        race_time = np.broadcast_to(
            np.asarray(state.gap_to_leader_s, dtype=np.float64).astype(TIME_DTYPE), shape
        ).copy()
        age = np.asarray(state.tyre_age_laps, dtype=np.int16)
        retired = (np.asarray(state.retired, dtype=bool) if state.retired is not None
                   else np.zeros(n_cars, dtype=bool))
        stops = np.asarray(state.stops_done, dtype=np.int8)
        laps_done = np.where(retired, 0, state.lap).astype(np.int16)
        used = np.broadcast_to(
            np.array([used_mask(state.used_names(i)) for i in range(n_cars)], dtype=np.int8), shape
        ).copy()
    return SimState(
        race_time_s=race_time,
        compound=np.ascontiguousarray(start_codes.astype(np.int8)),
        tyre_age_laps=np.broadcast_to(age, shape).copy(),
        retired=np.broadcast_to(retired, shape).copy(),
        stops_done=np.broadcast_to(stops, shape).copy(),
        plan_idx=np.zeros(shape, dtype=np.int8),
        next_pit_lap=np.zeros(shape, dtype=np.int16),
        laps_done=np.broadcast_to(laps_done, shape).copy(),
        compounds_used=used,
        order=np.broadcast_to(order, shape).copy(),
    )


__all__ = ["SimState", "RaceState", "initial_state", "COMPOUNDS"]
