"""Today's tyre life: the race's own first stints so far against the circuit's earlier races.

A race is built with the tyre life of the circuit's history (where its earlier stints ended,
:mod:`f1analyzer.models.tyre_life`). Tyres do not wear alike every year at the same track — a hot
day, a new asphalt, a harder-working car — and a pit wall sees within a few laps which kind of
race it is: when the first stops come long before last year's, every set will last less.

The race so far is read the same way. Each car's first stint is set against where the circuit's
earlier races of the same car era made their first green-flag stops on the same start compound
(:func:`historical_first_stops`, as a share of the race distance; the models' own pre-race plans
stop ~3 laps late, so they would read every race as a short-life one):

* a car that made its first stop under green gives its real stop lap (the team judged the set
  done);
* a car still on its first set past that lap, or one that stopped under a SC/VSC after it,
  gives a lower bound (the lap so far) — counted as if it were the answer, which leans the
  estimate towards a shorter life only while the evidence is thin;
* a car not yet at that lap, or one that took a cheap stop before it, says nothing.

``ratio = Σ real / Σ expected`` over those cars; the factor is that ratio shrunk towards 1 on the
log scale with the weight of :data:`PRIOR_CARS` cars, and bounded to :data:`FACTOR_RANGE`. The
tyre life (onset and median) of every dry compound is multiplied by it and its wear term
recomputed (:func:`~.compounds.with_tyre_life`), so the advisor prices a long stint to the flag
with the life today's race shows. Race-day mode and the backtest's advisor use it (2024 Albert
Park: the first stops came on laps 7–9 against 20 in the circuit's 2022–2023 races, factor 0.60
by half distance).

Before the race the same yardstick sets the starting point (:func:`pre_race_life`): the life
read from where the circuit's stints ended is moved halfway (log scale) towards the life at
which the field's own plans would stop first where the circuit's earlier races did. The in-race
factor then scales that pre-race life.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from f1analyzer.data.schema import WET_COMPOUNDS
from f1analyzer.models.features import ERA_SPLIT_SEASON
from f1analyzer.simulation.core.params import CompoundParams, RaceParams, TrackStatus
from f1analyzer.simulation.planning.screen import default_field_strategies
from f1analyzer.simulation.scenario.compounds import with_tyre_life

#: weight of the circuit's history against the race's own stints, in cars
PRIOR_CARS = 5.0
#: the life factor is kept within these bounds (a race never doubles or halves a set's life)
FACTOR_RANGE = (0.5, 1.5)


@dataclass(frozen=True)
class TyreBasis:
    """What a race's tyre-life term was built from: the dry compounds before it, the life
    (compound → ``{"life_onset", "life_median"}``, laps) and the green pit loss it was priced at."""

    compounds_before_life: dict[str, CompoundParams] = field(default_factory=dict)
    life: dict[str, dict] = field(default_factory=dict)
    pit_loss_s: float = 0.0

    def scaled(self, factor: float) -> "TyreBasis":
        """The same basis with every compound's life (onset and median) multiplied by ``factor``."""
        life = {c: {k: float(v) * factor for k, v in lf.items()} for c, lf in self.life.items()}
        return TyreBasis(dict(self.compounds_before_life), life, self.pit_loss_s)


@dataclass(frozen=True)
class LifeEvidence:
    """The race's own stint ends so far (see the module docstring)."""

    factor: float  # multiplies every dry compound's life; 1.0 = the circuit's history stands
    ratio: float | None  # Σ real / Σ expected before shrinking (None: no car says anything yet)
    n_cars: int  # cars that said something

    def describe(self) -> str:
        if self.ratio is None:
            return "tyre life: the circuit's history (no first stint of this race has reached its usual length yet)"
        return (f"tyre life ×{self.factor:.2f} from this race's first stints ({self.n_cars} cars ran "
                f"{self.ratio:.2f} × the first stint of the circuit's earlier races)")


def first_stint_ends(stops: dict[str, list[tuple[int, str]]], schedule: np.ndarray,
                     lap: int) -> dict[str, tuple[int, bool]]:
    """Per driver that has stopped by ``lap``: (its first stop's in-lap, whether it was under
    green). ``stops`` as :func:`~.replay.real_stops`; ``schedule[k]`` the status of lap ``k + 1``."""
    out = {}
    for drv, rows in stops.items():
        if rows and int(rows[0][0]) <= lap:
            in_lap = int(rows[0][0])
            status = TrackStatus(int(schedule[in_lap - 1])) if 0 < in_lap <= len(schedule) else TrackStatus.GREEN
            out[drv] = (in_lap, status == TrackStatus.GREEN)
    return out


def life_evidence(ends: dict[str, tuple[int, bool]], expected: dict[str, int], lap: int, *,
                  running: set[str] | None = None, prior_cars: float = PRIOR_CARS) -> LifeEvidence:
    """The life factor from the first stints so far (module docstring).

    Args:
        ends: :func:`first_stint_ends` at ``lap``.
        expected: driver → the lap its first stop was expected at (:func:`history_yardstick`).
        lap: laps completed.
        running: drivers still in the race (a retired car's first set says nothing); all when None.
    """
    real, exp = [], []
    for drv, p in expected.items():
        if p is None or p < 1:
            continue
        if drv in ends:
            stop, green = ends[drv]
            if green or stop >= p:  # a cheap stop before the expected lap says nothing about the set
                real.append(stop)
                exp.append(p)
        elif (running is None or drv in running) and p <= lap:
            real.append(lap)  # still out past its expected stop: at least this long
            exp.append(p)
    if not exp:
        return LifeEvidence(1.0, None, 0)
    ratio = float(np.sum(real) / np.sum(exp))
    n = len(exp)
    lo, hi = FACTOR_RANGE
    factor = float(np.clip(np.exp(n * np.log(ratio) / (n + prior_cars)), lo, hi))
    return LifeEvidence(factor, ratio, n)


#: at least this many green first stops of earlier races make a circuit's yardstick
MIN_HISTORY_STOPS = 10


def historical_first_stops(store, circuit_key: str, season: int, rnd: int, *,
                           era_split_season: int | None = None) -> dict[str, float]:
    """Start compound → median first green-flag stop of the circuit's earlier dry races, as a
    share of the race distance (``"ALL"``: every start compound). Only races before
    ``(season, rnd)``, and of the same car era when ``era_split_season`` is given; empty when
    fewer than :data:`MIN_HISTORY_STOPS` such stops are stored."""
    races = store.races()
    if races.empty:
        return {}
    key = (races["season"].astype(int) * 100 + races["round"].astype(int)) < int(season) * 100 + int(rnd)
    mine = races[(races["circuit_key"] == circuit_key) & key]
    if era_split_season is not None:
        new_era = int(season) >= era_split_season
        mine = mine[(mine["season"].astype(int) >= era_split_season) == new_era]
    if mine.empty:
        return {}
    # the store's pit-stop table: a retirement in the pit lane is no stop, a red-flag change is one
    stops = pd.concat([store.pit_stops(int(s)) for s in mine["season"].unique()], ignore_index=True)
    stops = stops.merge(mine[["season", "round", "total_laps"]], on=["season", "round"])
    wet = stops["compound_before"].isin(WET_COMPOUNDS) | stops["compound_after"].isin(WET_COMPOUNDS)
    wet_race = wet.groupby([stops["season"], stops["round"]]).transform("any")
    cheap = (stops["under_sc"] | stops["under_vsc"] | stops["under_red_flag"]).astype(bool)  # the set was not done
    first = stops[(stops["stop_number"] == 1) & ~wet_race & ~cheap]
    rows = list(zip(first["compound_before"].astype(str),
                    first["lap"].astype(float) / first["total_laps"].astype(float)))
    if len(rows) < MIN_HISTORY_STOPS:
        return {}
    df = pd.DataFrame(rows, columns=["compound", "share"])
    out = {str(c): float(v) for c, v in df.groupby("compound")["share"].median().items()
           if (df["compound"] == c).sum() >= 3}
    out["ALL"] = float(df["share"].median())
    return out


def history_yardstick(store, built) -> dict[str, int]:
    """Driver → the lap the circuit's earlier races (same car era, before this one) say its first
    stop comes at: :func:`historical_first_stops` of a :class:`~.build.BuiltRace`'s event, in laps.
    Empty when the store holds too little of that history (the life factor then stays 1)."""
    return expected_from_history(built.params, historical_first_stops(
        store, built.circuit_key, built.season, built.round, era_split_season=ERA_SPLIT_SEASON))


def expected_from_history(params: RaceParams, shares: dict[str, float]) -> dict[str, int]:
    """Driver → the lap its first stop would come at on the circuit's history (:func:`historical_first_stops`)."""
    if not shares:
        return {}
    return {c.driver: round(shares.get(str(c.start_compound).upper(), shares["ALL"]) * params.total_laps)
            for c in params.cars}


#: the weight (log scale) of the circuit's earlier first stops in a pre-race tyre life (see
#: :func:`pre_race_life`): half, the other half the life read from where its stints ended
HISTORY_WEIGHT = 0.5
#: rounds of the fixed point in :func:`history_life_factor` (the second corrects the first's
#: overshoot where a plan changes its stop count; the backtested figures use two)
CALIBRATION_ROUNDS = 2


def history_life_factor(params: RaceParams, basis: TyreBasis, expected: dict[str, int], *,
                        rounds: int = CALIBRATION_ROUNDS) -> float | None:
    """The life factor at which the field's own plans (each car's best screened 1-2 stop plan,
    :func:`~f1analyzer.simulation.planning.screen.default_field_strategies`) make their first stops,
    summed over the cars, where ``expected`` (:func:`history_yardstick`) says the circuit's earlier
    races made them; within :data:`FACTOR_RANGE`. None without a yardstick, a life to scale, or a
    car whose plan stops."""
    if not expected or not basis.life or not basis.compounds_before_life:
        return None
    factor, moved = 1.0, False
    for _ in range(rounds):
        plans = default_field_strategies(with_life_factor(params, basis, factor))
        pairs = [(expected[c.driver], s.pit_laps[0]) for c, s in zip(params.cars, plans)
                 if c.driver in expected and expected[c.driver] and s.pit_laps]
        if not pairs:
            break
        hist, ours = (float(sum(x)) for x in zip(*pairs))
        factor, moved = float(np.clip(factor * hist / ours, *FACTOR_RANGE)), True
    return factor if moved else None


def pre_race_life(params: RaceParams, basis: TyreBasis, expected: dict[str, int], *,
                  weight: float = HISTORY_WEIGHT) -> tuple[RaceParams, TyreBasis, float]:
    """The race with its pre-race tyre life: the life read from where the circuit's stints ended
    (``basis``) moved ``weight`` of the way (log scale) towards the life that makes the field's
    plans stop first where the circuit's earlier races did (:func:`history_life_factor`).

    Why: the stint-end life prices every stint alike, but first stints — full tank, the undercut
    threat — end earlier, and the field's screened first stops come ~3 laps after the real ones.
    Each estimate alone misses: the circuit's last race is a better forecast of a race's first
    stop than the model in 2022 and 2023 and a worse one in 2024 (``benchmarks/RESULTS.md``); a
    half-and-half combination of the two forecasts is kept. Returns ``(params, basis, factor)``, the basis' life
    scaled by ``factor`` so an in-race update (:func:`life_evidence`) starts from it; factor 1
    and the inputs unchanged without a yardstick."""
    full = history_life_factor(params, basis, expected)
    if full is None or abs(full - 1.0) < 1e-9 or weight == 0:
        return params, basis, 1.0
    factor = float(full ** weight)
    return with_life_factor(params, basis, factor), basis.scaled(factor), factor


def with_life_factor(params: RaceParams, basis: TyreBasis, factor: float) -> RaceParams:
    """``params`` with every dry compound's tyre life multiplied by ``factor`` (its wear term
    recomputed at the race's green pit loss); unchanged without a life to scale."""
    if not basis.life or not basis.compounds_before_life or abs(factor - 1.0) < 1e-9:
        return params
    scaled = basis.scaled(factor)
    dry = with_tyre_life(scaled.compounds_before_life, scaled.life, basis.pit_loss_s)
    return replace(params, compounds={**params.compounds, **dry})


__all__ = [
    "CALIBRATION_ROUNDS",
    "FACTOR_RANGE",
    "HISTORY_WEIGHT",
    "MIN_HISTORY_STOPS",
    "PRIOR_CARS",
    "LifeEvidence",
    "TyreBasis",
    "expected_from_history",
    "first_stint_ends",
    "historical_first_stops",
    "history_life_factor",
    "history_yardstick",
    "life_evidence",
    "pre_race_life",
    "with_life_factor",
]
