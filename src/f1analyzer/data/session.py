"""Domain objects users recognise: a :class:`Race` and its :class:`Laps`.

Modelled on FastF1: ``load_race(2021, "Hungary")`` is cheap; the first access to ``.laps`` loads
the race from the store. ``Laps`` is a DataFrame whose ``pick_*`` methods chain and keep the type::

    race = load_race(2021, "Hungarian Grand Prix")
    race.laps.pick_drivers("HAM").pick_clean()   # Hamilton's green-flag racing laps
    race.pit_stops                               # one row per tyre change
    race.results                                 # classification derived from the laps
    load_race(2021, "British Grand Prix", session="sprint")   # that weekend's sprint
"""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from ..config import get_settings
from .derive import classification
from .schema import DRY_COMPOUNDS, RACE, WET_COMPOUNDS, check_session
from .store import RaceStore


class Laps(pd.DataFrame):
    """Canonical lap table (see ``schema.LAP_COLUMNS``) with chainable selections."""

    _metadata = ["race_info"]

    @property
    def _constructor(self):
        return Laps

    def pick_drivers(self, *codes: str) -> "Laps":
        """Laps of the given drivers (three-letter codes, any case)."""
        wanted = {c.upper() for c in codes}
        return self[self["driver"].isin(wanted)]

    def pick_clean(self) -> "Laps":
        """Green-flag racing laps: not in/out laps, slick tyres, timed, lap > 1."""
        return self[self["is_clean"].astype(bool)]

    def pick_compounds(self, *names: str) -> "Laps":
        wanted = {n.upper() for n in names}
        return self[self["compound"].isin(wanted)]

    def pick_dry(self) -> "Laps":
        return self[self["compound"].isin(DRY_COMPOUNDS)]

    def pick_stint(self, stint: int) -> "Laps":
        return self[self["stint"] == stint]

    def pick_laps(self, first: int, last: int | None = None) -> "Laps":
        last = first if last is None else last
        return self[self["lap_number"].between(first, last)]


class Race:
    """One Grand Prix (or, with ``session="sprint"``, its weekend's sprint) from the store.
    Loading happens on first access to a table."""

    def __init__(self, season: int, event: str | int, store=None, *, session: str = RACE):
        self.store = store or RaceStore(get_settings().store_dir)
        self.session = check_session(session, allow_all=False)
        self.info: dict = self.store.find_race(season, event, session=self.session)
        self.season = int(self.info["season"])
        self.round = int(self.info["round"])
        self.event = str(self.info["event"])
        self.circuit_key = str(self.info["circuit_key"])
        self.total_laps = int(self.info["total_laps"])

    def __repr__(self) -> str:
        kind = "" if self.session == RACE else f" {self.session}"
        return f"Race({self.season} R{self.round} {self.event!r}{kind}, {self.total_laps} laps)"

    @cached_property
    def laps(self) -> Laps:
        laps = self.store.laps(self.season, self.round, session=self.session)
        laps.race_info = self.info
        return laps

    @cached_property
    def stints(self) -> pd.DataFrame:
        return self.store.stints(self.season, self.round, session=self.session)

    @cached_property
    def pit_stops(self) -> pd.DataFrame:
        return self.store.pit_stops(self.season, self.round, session=self.session)

    @cached_property
    def results(self) -> pd.DataFrame:
        """Classification: position, driver, team, laps, finished."""
        return classification(self.laps)

    @property
    def drivers(self) -> list[str]:
        return self.results["driver"].tolist()

    def is_wet(self) -> bool:
        """True when a meaningful share of laps were on intermediate or wet tyres (:func:`is_wet_race`)."""
        return is_wet_race(self.laps)

    def track_status_by_lap(self) -> pd.Series:
        """Per lap number, the union of status digits any car saw (leader's laps define the lap)."""
        ts = self.laps.groupby("lap_number")["track_status"].agg(lambda s: "".join(sorted(set("".join(s.dropna())))))
        return ts


#: a race with more than this share of its laps on wet-weather tyres is a wet race
WET_RACE_SHARE = 0.1


def is_wet_race(laps: pd.DataFrame) -> bool:
    """True when more than :data:`WET_RACE_SHARE` of one race's laps were on INTERMEDIATE or WET."""
    return bool(len(laps) and laps["compound"].isin(WET_COMPOUNDS).mean() > WET_RACE_SHARE)


def load_race(season: int, event: str | int, store=None, *, session: str = RACE) -> Race:
    """A stored race by round number, event name, circuit key or location (lazy)."""
    return Race(season, event, store=store, session=session)
