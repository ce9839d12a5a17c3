"""How often a car boxes when a Safety Car or VSC comes out, by the car's state.

The live advisor prices "box now" against "stay out" in the Monte Carlo engine. Under a
neutralisation the two are often within the simulation's own error: a cheap stop onto fresh tyres
against track position, decided by a few tenths of an expected place. The pit walls decide those
spots with what they see (tyre state, gaps, what the others do), and they decide them consistently:
at a SC/VSC start 77–89 % of the top ten make the majority's call (2018–2024,
``benchmarks/bench_predictability.py``). This model is that habit, learned from the races: the
probability that a car boxes at a SC/VSC start given

* the kind of neutralisation (SC or VSC),
* how much of the race is left (a share of the distance, and its square),
* the set's age as a share of the distance (and its square, capped at 1),
* whether the car still has to change compound (two-compound rule), alone and with the race left,
* the stops already made (capped at 2), the compound (SOFT / MEDIUM / HARD),
* the car's position, and the car era (``era_split_season``).

**What counts.** Every SC/VSC start of a dry race (its first neutralised lap ``p``, from lap 3 to
two laps from the flag, green before; the leader's laps, SC and red flag as SC, as
:func:`f1analyzer.simulation.scenario.replay.track_schedule` reads them), every car running on a
dry compound at the end of lap ``p - 1`` that completed lap ``p``. It *boxed* when one of its
pit stops has its in-lap on ``p`` or ``p + 1`` (the call made as the neutralisation starts; the
backtest scores the advisor on the same definition). A tyre change under a red flag (the pit-stop
table's ``under_red_flag``) is no stop: the car stayed out, and the suspension changed its tyres
for free (2023 Albert Park, lap 7: a SC, then a red flag on lap 8, every car on new tyres). Wet
races (more than 10 % of laps on INTERMEDIATE or WET) are left out: their stops are weather calls.

**The fit.** A logistic regression (L2, ``C``) on those spots; the coefficients are plain numbers
and persist with the race models. Fewer than ``min_spots`` spots or a single outcome: not fitted
(:meth:`rate` answers None and the advisor has no field history to fall back on).

Example (the bundled fit, 2018–2024: 1,933 spots, 21 % boxed):
    >>> rates = NeutralStopRates().fit(laps, races)
    >>> spot = NeutralStopSpot(kind="SC", lap=30, total_laps=57, position=3, compound="MEDIUM",
    ...                        tyre_age_laps=18, stops_done=0, dry_compounds_used=1, season=2023)
    >>> round(rates.rate(spot), 2), round(rates.rate(dataclasses.replace(spot, kind="VSC")), 2)
    (0.82, 0.6)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ..data.derive import red_flag_changes
from ..data.feeds.base import status_from_digits
from ..data.schema import DRY_COMPOUNDS
from ..data.session import is_wet_race
from ..errors import NotFittedError
from ..log import get_logger
from .safety_car import status_by_lap

log = get_logger("models.neutral_stops")

#: a red flag counts as a SC (``simulation.scenario.replay.track_schedule`` reads the laps the same way)
_KIND = {"SC": "SC", "RED": "SC", "VSC": "VSC"}
FEATURES = ("sc", "to_go", "to_go_sq", "age_share", "age_share_sq", "needs_compound_x_to_go",
            "needs_compound", "stops_done", "soft", "hard", "position", "new_era")


@dataclass(frozen=True)
class NeutralStopSpot:
    """One car at a SC/VSC start: its state at the end of ``lap`` (the lap before the first
    neutralised one)."""

    kind: str  # "SC" or "VSC"
    lap: int
    total_laps: int
    position: int
    compound: str
    tyre_age_laps: float
    stops_done: int
    dry_compounds_used: int
    season: int


def neutral_stop_table(laps: pd.DataFrame, races: pd.DataFrame,
                       statuses: dict[tuple[int, int], pd.Series] | None = None,
                       pit_stops: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every car at every SC/VSC start of every dry race (see the module docstring): the columns
    of :class:`NeutralStopSpot` plus ``round``, ``driver`` and ``boxed`` (0/1). ``statuses``:
    :func:`~.safety_car.statuses_by_race` of ``laps`` when the caller has it; ``pit_stops``: the
    pit-stop table, whose red-flag changes are no box (without it every tyre change is one)."""
    red = red_flag_changes(pit_stops)
    cols = [*NeutralStopSpot.__dataclass_fields__, "round", "driver", "boxed"]
    need = {"season", "round", "driver", "lap_number", "stint", "compound", "tyre_life_laps", "track_status",
            "position", "session_time_s"}
    if laps.empty or not need <= set(laps.columns):
        return pd.DataFrame(columns=cols)
    total_of = races.assign(season=races["season"].astype(int), round=races["round"].astype(int)) \
        .set_index(["season", "round"])["total_laps"]
    rows = []
    for (season, rnd), g in laps.groupby(["season", "round"], sort=True):
        if is_wet_race(g):
            continue
        comp = g["compound"].astype(str).str.upper()
        total = total_of.get((int(season), int(rnd)))
        total = int(total) if total is not None and pd.notna(total) else int(g["lap_number"].max())
        status = statuses[(int(season), int(rnd))] if statuses is not None else status_by_lap(g)
        kinds = {int(lap): _KIND.get(status_from_digits(s)) for lap, s in status.items()}
        starts = [p for p in range(3, total - 1) if kinds.get(p) is not None and kinds.get(p - 1) is None]
        if not starts:
            continue
        g = g.assign(compound=comp)
        last_lap = g.groupby("driver")["lap_number"].max()
        last_stint = g.groupby("driver")["stint"].max()
        in_laps: dict[str, set[int]] = {}
        for (drv, stint), end in g.groupby(["driver", "stint"])["lap_number"].max().items():
            if stint < last_stint[drv]:
                in_laps.setdefault(drv, set()).add(int(end))
        # the laps a car boxed on: its in-laps but the red flag's free changes
        box_laps = {drv: {lap for lap in laps_ if (int(season), int(rnd), drv, lap) not in red}
                    for drv, laps_ in in_laps.items()}
        dry = g[g["compound"].isin(DRY_COMPOUNDS)]
        first_on: dict[str, dict[str, int]] = {}  # driver → compound → the lap it was first run
        for (drv, c), lap in dry.groupby(["driver", "compound"])["lap_number"].min().items():
            first_on.setdefault(drv, {})[c] = int(lap)
        by_lap = {lap: rows_at for lap, rows_at in g.groupby("lap_number")}
        for p in starts:
            at, nxt = by_lap.get(p - 1), by_lap.get(p)
            if at is None or nxt is None:
                continue
            next_comp = dict(zip(nxt["driver"], nxt["compound"]))
            for r in at[at["position"].notna()].itertuples(index=False):
                if last_lap[r.driver] < p or pd.isna(r.tyre_life_laps) or pd.isna(r.stint):
                    continue
                comp_now, age, stops = r.compound, float(r.tyre_life_laps), int(r.stint) - 1
                sets = {c for c, lap in first_on.get(r.driver, {}).items() if lap <= p - 1}
                if p - 1 in in_laps.get(r.driver, set()):
                    # in-lap now: the stop is made, the new set fitted (as ``real_state`` has it)
                    if r.driver not in next_comp:
                        continue
                    comp_now, age, stops = str(next_comp[r.driver]), 0.0, stops + 1
                    sets.add(comp_now)
                if comp_now not in DRY_COMPOUNDS:
                    continue
                rows.append({"kind": kinds[p], "lap": p - 1, "total_laps": total, "position": int(r.position),
                             "compound": comp_now, "tyre_age_laps": age, "stops_done": stops,
                             "dry_compounds_used": max(len(sets & set(DRY_COMPOUNDS)), 1),
                             "season": int(season), "round": int(rnd), "driver": str(r.driver),
                             "boxed": int(bool(box_laps.get(r.driver, set()) & {p, p + 1}))})
    return pd.DataFrame(rows, columns=cols)


def design(spots: pd.DataFrame, era_split_season: int) -> np.ndarray:
    """The regression's columns (:data:`FEATURES`) for a table of spots."""
    total = spots["total_laps"].to_numpy(np.float64)
    to_go = (total - spots["lap"].to_numpy(np.float64)) / total
    age = spots["tyre_age_laps"].to_numpy(np.float64) / total
    needs = (spots["dry_compounds_used"].to_numpy() < 2).astype(np.float64)
    comp = spots["compound"].astype(str).str.upper().to_numpy()
    return np.column_stack([
        (spots["kind"].astype(str).str.upper().to_numpy() == "SC").astype(np.float64), to_go, to_go ** 2,
        age, np.minimum(age, 1.0) ** 2, needs * to_go, needs,
        np.minimum(spots["stops_done"].to_numpy(np.float64), 2.0),
        (comp == "SOFT").astype(np.float64), (comp == "HARD").astype(np.float64),
        spots["position"].to_numpy(np.float64) / 20.0,
        (spots["season"].to_numpy() >= era_split_season).astype(np.float64),
    ])


class NeutralStopRates:
    """P(box at a SC/VSC start | the car's state), fitted on real races (module docstring).

    Args:
        C: inverse L2 strength of the logistic regression.
        min_spots: fewest spots to fit on.
        era_split_season: first season of the second car era (the ``new_era`` column).
    """

    def __init__(self, *, C: float = 1.0, min_spots: int = 50, era_split_season: int = 2022):
        self.C = C
        self.min_spots = min_spots
        self.era_split_season = era_split_season
        #: where a set that did not fit its own took these rates from ("" = fitted here)
        self.source_ = ""

    def fit(self, laps: pd.DataFrame, races: pd.DataFrame,
            statuses: dict[tuple[int, int], pd.Series] | None = None,
            pit_stops: pd.DataFrame | None = None) -> "NeutralStopRates":
        """Fit on a lap table and the races table (``statuses``, ``pit_stops``: see
        :func:`neutral_stop_table`)."""
        table = neutral_stop_table(pd.DataFrame(laps), races, statuses, pit_stops)
        self.n_spots_ = int(len(table))
        self.base_rate_ = float(table["boxed"].mean()) if len(table) else float("nan")
        self.coef_: list[float] | None = None
        self.intercept_ = 0.0
        if len(table) < self.min_spots or table["boxed"].nunique() < 2:
            log.info("neutralisation stop rates not fitted: %d spots", len(table))
            return self
        from sklearn.linear_model import LogisticRegression  # only when fitting

        m = LogisticRegression(C=self.C, max_iter=2000).fit(design(table, self.era_split_season), table["boxed"])
        self.coef_ = [float(c) for c in m.coef_[0]]
        self.intercept_ = float(m.intercept_[0])
        return self

    @property
    def fitted(self) -> bool:
        return getattr(self, "coef_", None) is not None

    def predict_proba(self, spots: pd.DataFrame | list[NeutralStopSpot]) -> np.ndarray:
        """P(box) of each spot (a table with :class:`NeutralStopSpot`'s columns, or a list)."""
        if not self.fitted:
            raise NotFittedError("NeutralStopRates is not fitted (too few SC/VSC starts in its data).")
        if isinstance(spots, list):
            spots = pd.DataFrame([asdict(s) for s in spots], columns=list(NeutralStopSpot.__dataclass_fields__))
        z = design(spots, self.era_split_season) @ np.asarray(self.coef_) + self.intercept_
        return 1.0 / (1.0 + np.exp(-z))

    def rate(self, spot: NeutralStopSpot) -> float | None:
        """P(box) of one spot; None when not fitted or the car is not on a dry compound."""
        if not self.fitted or str(spot.compound).upper() not in DRY_COMPOUNDS:
            return None
        return float(self.predict_proba([spot])[0])

    def to_dict(self) -> dict:
        base = getattr(self, "base_rate_", float("nan"))
        return {"C": self.C, "min_spots": self.min_spots, "era_split_season": self.era_split_season,
                "n_spots": getattr(self, "n_spots_", 0), "base_rate": round(base, 4) if np.isfinite(base) else None,
                "features": list(FEATURES), "coef": self.coef_ if self.fitted else None,
                "intercept": self.intercept_ if self.fitted else None, "source": self.source_}

    @classmethod
    def from_dict(cls, d: dict | None) -> "NeutralStopRates | None":
        if not d:
            return None
        obj = cls(C=float(d.get("C", 1.0)), min_spots=int(d.get("min_spots", 50)),
                  era_split_season=int(d.get("era_split_season", 2022)))
        obj.n_spots_ = int(d.get("n_spots", 0))
        obj.base_rate_ = float(d["base_rate"]) if d.get("base_rate") is not None else float("nan")
        coef = d.get("coef")
        if coef is not None and list(d.get("features", FEATURES)) != list(FEATURES):
            coef = None  # a set fitted on other columns: not usable by this code
        obj.coef_ = [float(c) for c in coef] if coef is not None else None
        obj.intercept_ = float(d.get("intercept") or 0.0)
        obj.source_ = str(d.get("source") or "")
        return obj


def richer_rates(mine: NeutralStopRates | None, theirs: NeutralStopRates | None, label: str) -> NeutralStopRates | None:
    """``mine``, or a copy of ``theirs`` (its ``source_`` naming ``label``) when they are fitted on
    more spots: a quick training never knows less than the set it replaces (the caller checks
    that ``theirs`` saw no later season)."""
    if theirs is None or not theirs.fitted or (mine is not None and mine.fitted and mine.n_spots_ >= theirs.n_spots_):
        return mine
    source = theirs.source_ or f"{label} ({theirs.n_spots_} SC/VSC spots)"
    taken = NeutralStopRates.from_dict({**theirs.to_dict(), "source": source})
    log.info("SC/VSC stop rates from %s", taken.source_)
    return taken
