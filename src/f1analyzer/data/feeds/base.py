"""The one shape every race feed produces: a :class:`RaceSnapshot` per completed lap (and per
track-status change), with one :class:`CarSnapshot` per car.

Conventions (the same for every feed):

* ``gap_to_leader_s``: time behind the leader when the car crossed the line (s); None when
  the feed does not know it (a car that has not completed the lap yet, a data gap).
* ``interval_s``: time behind the car ahead on the road order; None for the leader.
* ``tyre_life``: FastF1 ``TyreLife`` semantics - laps on this set *including* laps it ran
  before being fitted (a used set from qualifying starts above 0); 0 for a set fitted in the
  pit stop of this lap.
* ``in_pit``: the car's in-lap was this lap: the stop is made (or being made) and ``compound``
  / ``tyre_life`` / ``stint`` / ``stops`` already describe the set fitted. Its gap does *not*
  include the stop's loss yet (it crossed the line in the pit lane).
* ``track_status``: in effect at the end of the lap: ``"GREEN"``, ``"SC"``, ``"VSC"`` or ``"RED"``.
* ``seq``: strictly increasing within one feed (the SSE event id downstream).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Protocol, runtime_checkable

TRACK_STATUSES = ("GREEN", "SC", "VSC", "RED")


@dataclass(frozen=True)
class CarSnapshot:
    driver: str
    position: int
    gap_to_leader_s: float | None
    interval_s: float | None
    compound: str | None
    tyre_life: int | None  # FastF1 TyreLife: laps on this set incl. laps before fitting
    stint: int
    stops: int
    in_pit: bool
    retired: bool
    #: dry/wet compounds this car has run so far (the two-compound rule needs them)
    compounds_used: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["compounds_used"] = list(self.compounds_used)
        return d


@dataclass(frozen=True)
class RaceSnapshot:
    season: int
    round: int
    event: str
    lap: int
    total_laps: int | None
    track_status: str  # "GREEN" | "SC" | "VSC" | "RED"
    cars: tuple[CarSnapshot, ...]
    weather: dict | None
    source: str
    seq: int

    def to_dict(self) -> dict:
        return {"season": self.season, "round": self.round, "event": self.event, "lap": self.lap,
                "total_laps": self.total_laps, "track_status": self.track_status,
                "cars": [c.to_dict() for c in self.cars], "weather": self.weather,
                "source": self.source, "seq": self.seq}

    @classmethod
    def from_dict(cls, d: dict) -> RaceSnapshot:
        cars = tuple(CarSnapshot(**{**c, "compounds_used": tuple(c.get("compounds_used") or ())})
                     for c in d["cars"])
        return cls(season=int(d["season"]), round=int(d["round"]), event=str(d["event"]),
                   lap=int(d["lap"]), total_laps=d.get("total_laps"), track_status=str(d["track_status"]),
                   cars=cars, weather=d.get("weather"), source=str(d["source"]), seq=int(d["seq"]))

    def car(self, driver: str) -> CarSnapshot | None:
        code = str(driver).upper()
        return next((c for c in self.cars if c.driver == code), None)


@runtime_checkable
class RaceFeed(Protocol):
    """A race in progress. ``snapshots()`` blocks between snapshots (the feed paces itself) and
    ends with the race or on ``close()`` (callable from another thread)."""

    def snapshots(self) -> Iterator[RaceSnapshot]: ...

    def close(self) -> None: ...


def status_from_digits(digits: str) -> str:
    """Track status of FastF1/F1 live-timing status digits seen on a lap: 5 red flag, 4 Safety
    Car, 6/7 Virtual Safety Car (deployed / ending), else green (1 green, 2 yellow)."""
    s = str(digits or "")
    if "5" in s:
        return "RED"
    if "4" in s:
        return "SC"
    if "6" in s or "7" in s:
        return "VSC"
    return "GREEN"


def ordered_cars(cars: list[CarSnapshot]) -> tuple[CarSnapshot, ...]:
    """Cars sorted by position with intervals recomputed from the gaps along that order."""
    cars = sorted(cars, key=lambda c: c.position)
    out, prev_gap = [], None
    for k, c in enumerate(cars):
        gap = c.gap_to_leader_s
        interval = None if k == 0 or gap is None or prev_gap is None or c.retired else round(float(gap) - float(prev_gap), 3)
        out.append(CarSnapshot(**{**c.__dict__, "interval_s": interval}))
        if gap is not None and not c.retired:
            prev_gap = gap
    return tuple(out)
