"""Replay as live: a stored race emitted lap by lap, paced like the real race.

``ReplayFeed(store, 2024, "Monza", speed=60)`` yields the race as it stood at the end of each
lap (the leader's lap), sleeping the real duration of the next leader lap divided by
``speed`` between snapshots: ``speed=60`` runs one race minute per second, ``speed=0`` (or
``inf``) as fast as the consumer reads (tests, benchmarks).

The state at the end of lap N, from the stored laps alone:

* running cars with a lap N: ordered by the session time at which they finished it (a
  lapped car finishes lap N later); gap = that time minus the leader's;
* a car with no lap N whose last lap ended before the leader finished lap N has retired
  (placed behind, later retirements first); one still running (lapped, on the last lap) is
  placed behind the runners by laps done with no gap;
* tyres: compound, ``tyre_life`` (FastF1 ``TyreLife``) and stint of lap N; a car whose
  in-lap was lap N is ``in_pit`` and already shows the set fitted (its next lap's compound and
  life minus one - laps completed on it), with the stop counted;
* track status in effect at the end of lap N: what the leader's lap N+1 ran under (the
  stored laps carry status per lap, not per moment; a SC shown on lap N+1 was out when the
  leader crossed the line or came out on that lap). The last lap uses its own status.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd

from ...errors import InvalidRequestError
from .base import CarSnapshot, RaceSnapshot, ordered_cars, status_from_digits

DRY_AND_WET = ("SOFT", "MEDIUM", "HARD", "INTERMEDIATE", "WET")


def _int(x, default: int | None = None) -> int | None:
    return int(x) if x is not None and pd.notna(x) else default


def race_snapshots(laps: pd.DataFrame, info: dict, *, source: str = "replay") -> list[RaceSnapshot]:
    """Every end-of-lap snapshot of one stored race (``laps``: its canonical laps; ``info``: its
    ``races`` row). ``seq`` = lap number."""
    laps = pd.DataFrame(laps).sort_values(["driver", "lap_number"])
    if laps.empty:
        return []
    by_driver = {str(d): g.set_index("lap_number") for d, g in laps.groupby("driver", sort=True)}
    last_lap = {d: int(g.index.max()) for d, g in by_driver.items()}
    last_time = {d: float(g["session_time_s"].iloc[-1]) if pd.notna(g["session_time_s"].iloc[-1]) else -math.inf
                 for d, g in by_driver.items()}
    leader_laps = laps.groupby("lap_number")["session_time_s"].min()
    status_digits = _leader_status(laps)
    n_laps = int(leader_laps.index.max())
    out = []
    for lap in range(1, n_laps + 1):
        t_lead = leader_laps.get(lap)
        if t_lead is None or not np.isfinite(t_lead):
            continue
        cars = []
        running: list[tuple[float, str]] = []
        behind: list[tuple[int, str]] = []
        retired: list[tuple[int, str]] = []
        for d, g in by_driver.items():
            if lap in g.index and pd.notna(g.at[lap, "session_time_s"]):
                running.append((float(g.at[lap, "session_time_s"]), d))
            elif last_lap[d] < lap and last_time[d] < t_lead:
                retired.append((-last_lap[d], d))
            else:
                behind.append((-min(last_lap[d], lap), d))
        order = [d for _, d in sorted(running)] + [d for _, d in sorted(behind)] + [d for _, d in sorted(retired)]
        times = {d: t for t, d in running}
        out_set = {d for _, d in retired}
        for pos, d in enumerate(order, start=1):
            cars.append(_car(by_driver[d], d, lap, pos, times.get(d), t_lead, d in out_set))
        nxt = status_digits.get(lap + 1, status_digits.get(lap, ""))
        out.append(RaceSnapshot(
            season=int(info["season"]), round=int(info["round"]), event=str(info["event"]), lap=lap,
            total_laps=_int(info.get("total_laps")), track_status=status_from_digits(nxt),
            cars=ordered_cars(cars), weather=None, source=source, seq=lap))
    return out


def _leader_status(laps: pd.DataFrame) -> dict[int, str]:
    """Status digits per lap number from the car that led each lap (first across the line)."""
    first = laps.sort_values("session_time_s").drop_duplicates("lap_number")
    return {int(r.lap_number): str(r.track_status) if pd.notna(r.track_status) else ""
            for r in first.itertuples()}


def _car(g: pd.DataFrame, driver: str, lap: int, pos: int, t: float | None, t_lead: float,
         retired: bool) -> CarSnapshot:
    """One car at the end of ``lap`` (``g``: its laps indexed by lap number)."""
    upto = g[g.index <= lap]
    row = upto.iloc[-1] if len(upto) else g.iloc[0]
    compound = str(row["compound"]).upper() if pd.notna(row["compound"]) else None
    life = _int(row["tyre_life_laps"])
    stint = _int(row["stint"], 1)
    in_pit = bool(row["pit_in"]) and not retired and (lap + 1) in g.index and int(upto.index[-1]) == lap
    used = {str(c).upper() for c in upto["compound"].dropna()} & set(DRY_AND_WET)
    if in_pit:  # the in-lap: the set fitted is the one of the out-lap
        nxt = g.loc[lap + 1]
        compound = str(nxt["compound"]).upper() if pd.notna(nxt["compound"]) else compound
        nlife = _int(nxt["tyre_life_laps"])
        life = max(nlife - 1, 0) if nlife is not None else 0
        stint = _int(nxt["stint"], stint + 1)
        if compound in DRY_AND_WET:
            used.add(compound)
    return CarSnapshot(
        driver=driver, position=pos, gap_to_leader_s=None if t is None else round(float(t) - float(t_lead), 3),
        interval_s=None, compound=compound, tyre_life=life, stint=int(stint), stops=max(int(stint) - 1, 0),
        in_pit=in_pit, retired=retired, compounds_used=tuple(sorted(used)))


class ReplayFeed:
    """A stored race emitted as live (see module docstring).

    Args:
        store: the :class:`~f1analyzer.data.store.RaceStore`.
        season, round: the race (``round``: round number or anything ``store.find_race`` reads).
        speed: race seconds per wall second (60 = a race minute per second); 0 or inf: no waits.
        from_lap: first lap emitted (the state at its end).
        clock: ``sleep(s)`` / ``monotonic()`` source (the ``time`` module; tests inject a fake).
    """

    def __init__(self, store, season: int, round, *, speed: float = 60.0, from_lap: int = 1, clock=time):
        self.store = store
        self.season = int(season)
        self.info = store.find_race(self.season, round)
        self.round = int(self.info["round"])
        self.speed = float(speed)
        self.from_lap = int(from_lap)
        self.clock = clock
        self._stop = threading.Event()
        laps = store.laps(self.season, self.round)
        self._all = race_snapshots(laps, self.info)
        last = self._all[-1].lap if self._all else 0
        if not 1 <= self.from_lap <= max(last, 1) or not self._all:
            raise InvalidRequestError(f"from_lap {self.from_lap} is outside the stored race "
                                      f"({self.info['event']}: laps 1..{last}).",
                                      details={"valid_range": [1, last]})
        self._lap_s = laps.groupby("lap_number")["session_time_s"].min().diff().to_dict()

    def __repr__(self) -> str:
        return f"ReplayFeed({self.season} R{self.round} {self.info['event']!r}, speed={self.speed})"

    @property
    def total_laps(self) -> int | None:
        return _int(self.info.get("total_laps"))

    def _wait(self, race_s: float) -> None:
        if not self.speed or math.isinf(self.speed) or not np.isfinite(race_s) or race_s <= 0:
            return
        dt = race_s / self.speed
        if self.clock is time:
            self._stop.wait(dt)  # close() wakes it at once
        else:
            self.clock.sleep(dt)

    def snapshots(self) -> Iterator[RaceSnapshot]:
        first = True
        for snap in self._all:
            if snap.lap < self.from_lap:
                continue
            if self._stop.is_set():
                return
            if not first:
                self._wait(float(self._lap_s.get(snap.lap, float("nan"))))
                if self._stop.is_set():
                    return
            first = False
            yield snap

    def close(self) -> None:
        self._stop.set()
