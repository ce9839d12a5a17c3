"""Plain descriptions of a race for the simulator, independent of how they were fitted.

A race is described by three kinds of parameters:

* :class:`CompoundParams` - one tyre compound: its pace offset against a reference compound
  (usually MEDIUM) and its degradation curve. ``delta_s(tyre_age_laps)`` is the lap-time loss of a
  set that has already done ``tyre_age_laps`` laps: ``linear * age + quadratic * age**2`` plus,
  past the *tyre cliff* (``cliff_lap``), ``cliff_slope_s_per_lap`` for every lap beyond it - the
  sudden drop in grip when the rubber is worn through.
* :class:`CarParams` - one car/driver: pace offset, lap-to-lap noise, reliability, grid slot and
  starting tyres.
* :class:`RaceParams` - the event: distance, base lap time, fuel effect, pit-lane losses (green,
  under Safety Car and under Virtual Safety Car), the SC/VSC distributions
  (:class:`NeutralisationParams`), start, passing (:class:`PassingParams`) and DRS, the compounds and the field.

The fitted models (``f1analyzer.models``) produce these objects; the simulator only reads them.
Every ``validate`` raises :class:`~f1analyzer.errors.InvalidRequestError` naming what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property

import numpy as np

from f1analyzer.errors import InvalidRequestError
from f1analyzer.models import pitloss
from f1analyzer.models.overtaking import DEFAULT_HELD_GAP_S, HELD_GAP_PROBS
from f1analyzer.simulation.core.rules import TyreRules

#: Every compound the simulator knows, in the order of their integer codes (state arrays are int8).
COMPOUNDS: tuple[str, ...] = ("SOFT", "MEDIUM", "HARD", "INTERMEDIATE", "WET")
DRY_COMPOUNDS: tuple[str, ...] = ("SOFT", "MEDIUM", "HARD")
COMPOUND_CODE: dict[str, int] = {name: i for i, name in enumerate(COMPOUNDS)}
#: probabilities on which ``PassingParams.held_gap`` tabulates the held-up gap's quantile function
HELD_GAP_GRID = 1024
#: Most pit stops a strategy may contain (the optimiser itself explores 1-3).
MAX_STOPS = 5


class TrackStatus(IntEnum):
    """Per-lap track status codes used in ``[n_sims, total_laps]`` int8 status arrays."""

    GREEN = 0
    SC = 1  # Safety Car: field queues behind the car, gaps compressed, cheap pit stops
    VSC = 2  # Virtual Safety Car: everybody slows by the same delta, gaps kept, cheaper stops


def compound_code(name: str) -> int:
    """Integer code of a compound name (case-insensitive); unknown names list the valid ones."""
    key = str(name).strip().upper()
    if key not in COMPOUND_CODE:
        raise InvalidRequestError(
            f"Unknown compound {name!r}. Valid compounds: {', '.join(COMPOUNDS)}.",
            details={"options": list(COMPOUNDS)},
        )
    return COMPOUND_CODE[key]


def _check(cond: bool, message: str, **details: object) -> None:
    if not cond:
        raise InvalidRequestError(message, details=dict(details))


@dataclass(frozen=True)
class CompoundParams:
    """Pace and degradation of one tyre compound.

    Attributes:
        name: SOFT / MEDIUM / HARD / INTERMEDIATE / WET.
        pace_offset_s: lap-time offset of a fresh set against the reference compound
            (negative = faster; the softest dry compound is usually negative).
        linear_s_per_lap: degradation per lap of tyre age.
        quadratic_s_per_lap2: extra degradation growing with age squared.
        cliff_lap: tyre age (laps) after which grip falls off; ``None`` means no cliff.
        cliff_slope_s_per_lap: additional loss per lap of age beyond ``cliff_lap``.
    """

    name: str
    pace_offset_s: float = 0.0
    linear_s_per_lap: float = 0.0
    quadratic_s_per_lap2: float = 0.0
    cliff_lap: int | None = None
    cliff_slope_s_per_lap: float = 0.0

    @property
    def code(self) -> int:
        return compound_code(self.name)

    @property
    def is_dry(self) -> bool:
        return self.name.upper() in DRY_COMPOUNDS

    def delta_s(self, tyre_age_laps: np.ndarray | int) -> np.ndarray:
        """Lap-time loss (s) from wear alone for sets of the given age; any array shape.

        ``delta_s(0) == 0``: the pace offset is *not* included (see :meth:`lap_delta_s`).
        """
        age = np.asarray(tyre_age_laps, dtype=np.float64)
        out = self.linear_s_per_lap * age + self.quadratic_s_per_lap2 * age * age
        if self.cliff_lap is not None:
            out = out + self.cliff_slope_s_per_lap * np.maximum(age - self.cliff_lap, 0.0)
        return out

    def lap_delta_s(self, tyre_age_laps: np.ndarray | int) -> np.ndarray:
        """Pace offset plus wear: the full tyre contribution to a lap time."""
        return self.pace_offset_s + self.delta_s(tyre_age_laps)

    def validate(self) -> None:
        compound_code(self.name)
        _check(self.linear_s_per_lap >= 0, f"{self.name}: linear_s_per_lap must be >= 0.")
        _check(self.quadratic_s_per_lap2 >= 0, f"{self.name}: quadratic_s_per_lap2 must be >= 0.")
        _check(self.cliff_slope_s_per_lap >= 0, f"{self.name}: cliff_slope_s_per_lap must be >= 0.")
        _check(self.cliff_lap is None or self.cliff_lap >= 0, f"{self.name}: cliff_lap must be >= 0.")


@dataclass(frozen=True)
class CarParams:
    """One car and driver.

    Attributes:
        driver: three-letter code (``VER``); unique within a race.
        team: team name (informational).
        base_pace_s: lap-time offset against the race's ``base_lap_time_s`` (car + driver).
        lap_noise_sd_s: standard deviation of the lap-to-lap noise (green laps).
        retirement_prob: probability of not finishing this race.
        grid_position: 1-based starting slot.
        start_compound: compound fitted for the start.
        start_tyre_age_laps: laps already on the starting set (qualifying sets are used).
        pit_stop_offset_s: team-specific extra (or saved) stationary time per stop.
    """

    driver: str
    team: str = ""
    base_pace_s: float = 0.0
    lap_noise_sd_s: float = 0.3
    retirement_prob: float = 0.0
    grid_position: int = 1
    start_compound: str = "MEDIUM"
    start_tyre_age_laps: int = 0
    pit_stop_offset_s: float = 0.0


@dataclass(frozen=True)
class NeutralisationParams:
    """How often, when and for how long a Safety Car (or VSC) neutralises the race.

    Attributes:
        p_at_least_one: probability that the race has at least one such period.
        count_probs: ``count_probs[k]`` = P(k + 1 periods | at least one).
        start_fraction_probs: probability that a period starts in each of ``len(...)`` equal bins
            of race distance (bin 0 holds lap 1); the start lap is uniform within the bin.
        duration_laps_probs: ``duration_laps_probs[d]`` = P(period lasts d + 1 laps).
    """

    p_at_least_one: float = 0.0
    count_probs: tuple[float, ...] = (1.0,)
    start_fraction_probs: tuple[float, ...] = (1.0,)
    duration_laps_probs: tuple[float, ...] = (1.0,)

    def remaining_laps_probs(self, elapsed_laps: int = 0) -> np.ndarray:
        """``p[r - 1]`` = P(a period that has already lasted ``elapsed_laps`` laps stays ``r`` more),
        r = 1, 2, …: the fitted durations beyond ``elapsed_laps``, renormalised. A period already
        longer than every fitted one is given one more lap."""
        probs = np.asarray(self.duration_laps_probs, dtype=np.float64)[max(int(elapsed_laps), 0):]
        if probs.size == 0 or probs.sum() <= 0:
            return np.ones(1)
        return probs / probs.sum()

    def validate(self, what: str) -> None:
        _check(0.0 <= self.p_at_least_one <= 1.0, f"{what}.p_at_least_one must be in [0, 1].")
        for name in ("count_probs", "start_fraction_probs", "duration_laps_probs"):
            probs = np.asarray(getattr(self, name), dtype=np.float64)
            _check(
                probs.ndim == 1 and probs.size > 0 and bool(np.all(probs >= 0)) and probs.sum() > 0,
                f"{what}.{name} must be a non-empty sequence of non-negative probabilities.",
            )


@dataclass(frozen=True)
class PassingParams:
    """Probability that a car which has caught the car ahead gets past it on this lap, and how far
    back it is held when it does not.

    A car *caught* the car ahead when it would cross the line less than its *held-up gap*
    (``held_gap_s``, below; the race's ``min_gap_s`` without it) behind it. It then passes with
    probability ``1 / (1 + exp(-logit))``, where

        logit = intercept + circuit_effect + pace_coef_per_s * delta_s + drs_coef * drs

    ``delta_s`` is the follower's pace advantage on this lap (car pace, tyre compound and age, and
    the DRS gain already in it; not this lap's noise, as the odds are fitted on expected lap
    times), ``drs`` is 1 when the follower
    had DRS. ``drs_coef`` contrasts the green laps with DRS against those without it, which are
    lap 2 and the restarts (bunched field, cold tyres): it comes out *negative* on real data,
    restarts see more passes than DRS laps beyond what DRS's lap-time gain explains.
    ``circuit_effect`` is the track's own difficulty (Monaco strongly negative). Fitted by
    :mod:`f1analyzer.models.overtaking` on real position changes; the defaults are its
    all-circuit fit on 2018-2024, rounded. :meth:`threshold` builds the old hard rule (pass iff
    ``delta_s >= x``, held at ``min_gap_s``).

    ``held_gap_s`` are the quantiles, at ``HELD_GAP_PROBS`` (5 %, 15 %, ..., 95 %), of the gap
    at which a car that does not get past is held: dirty air keeps a real follower 0.25-1.6 s
    back, not on the gearbox. Each held-up car draws its gap every lap (:meth:`held_gap`), so
    some drop out of the DRS window and trains break up as real ones do. Fitted by
    :func:`f1analyzer.models.overtaking.fit_held_gap` per car era; empty = held at the race's
    ``min_gap_s``.
    """

    intercept: float = -2.0
    pace_coef_per_s: float = 1.2
    drs_coef: float = -0.7
    circuit_effect: float = 0.0
    held_gap_s: tuple[float, ...] = DEFAULT_HELD_GAP_S

    @classmethod
    def threshold(cls, overtake_threshold_s: float, steepness_per_s: float = 1.0e4) -> "PassingParams":
        """A step: passes (almost surely) iff the lap is at least ``overtake_threshold_s`` quicker."""
        return cls(intercept=-steepness_per_s * float(overtake_threshold_s),
                   pace_coef_per_s=float(steepness_per_s), drs_coef=0.0, circuit_effect=0.0,
                   held_gap_s=())

    def held_gap(self, q: np.ndarray) -> np.ndarray | None:
        """Held-up gap (s, float32) for draws ``q`` on the probability grid (integers in
        ``[0, HELD_GAP_GRID)``, probability ``(q + 0.5) / HELD_GAP_GRID``): the quantile function
        through ``held_gap_s`` (linear between them, flat beyond the 5 % and 95 % points),
        tabulated once. Integer draws and a table look-up cost the engine a fifth of interpolating
        uniforms for every car every lap. None when ``held_gap_s`` is empty."""
        if not self.held_gap_s:
            return None
        return self._held_gap_table.take(q)

    @cached_property
    def _held_gap_table(self) -> np.ndarray:
        mid = (np.arange(HELD_GAP_GRID) + 0.5) / HELD_GAP_GRID
        return np.interp(mid, HELD_GAP_PROBS, self.held_gap_s).astype(np.float32)

    def logit(self, delta_s: np.ndarray | float, drs: np.ndarray | bool = False) -> np.ndarray:
        """Log-odds of a pass (float64; the engine evaluates the same sum in float32)."""
        return (self.intercept + self.circuit_effect + self.pace_coef_per_s * np.asarray(delta_s, np.float64)
                + self.drs_coef * np.asarray(drs, np.float64))

    def p_pass(self, delta_s: np.ndarray | float, drs: np.ndarray | bool = False) -> np.ndarray:
        """P(pass | caught) for a lap-time advantage ``delta_s`` (s) and DRS."""
        return 1.0 / (1.0 + np.exp(-self.logit(delta_s, drs)))

    def even_odds_delta_s(self, drs: bool = False) -> float:
        """Lap-time advantage at which a pass is as likely as not (``inf`` if it never is)."""
        if self.pace_coef_per_s <= 0:
            return float("inf")
        return float(-(self.intercept + self.circuit_effect + self.drs_coef * drs) / self.pace_coef_per_s)

    def validate(self) -> None:
        for name in ("intercept", "pace_coef_per_s", "drs_coef", "circuit_effect"):
            _check(bool(np.isfinite(getattr(self, name))), f"passing.{name} must be finite.")
        _check(self.pace_coef_per_s >= 0, "passing.pace_coef_per_s must be >= 0 (a quicker car "
               "is never less likely to pass).")
        g = np.asarray(self.held_gap_s, dtype=np.float64)
        _check(g.size in (0, len(HELD_GAP_PROBS)),
               f"passing.held_gap_s must hold {len(HELD_GAP_PROBS)} quantiles (at {HELD_GAP_PROBS}) or none.")
        _check(bool(np.all(np.isfinite(g)) and np.all(g > 0) and np.all(np.diff(g) >= 0)),
               "passing.held_gap_s must be positive and non-decreasing (quantiles of a gap).")


def _default_compounds() -> dict[str, CompoundParams]:
    return {
        "SOFT": CompoundParams("SOFT", -0.6, 0.08, 0.002, 18, 0.3),
        "MEDIUM": CompoundParams("MEDIUM", 0.0, 0.05, 0.001, 30, 0.2),
        "HARD": CompoundParams("HARD", 0.4, 0.03, 0.0005, 45, 0.2),
    }


@dataclass
class RaceParams:
    """Everything the simulator needs about one race.

    Times are seconds, distances laps. ``fuel_effect_s_per_lap`` is the lap time *gained* per
    lap of fuel burnt (lap ``n`` is ``(n - 1) * fuel_effect_s_per_lap`` faster than lap 1).
    ``pit_loss_s`` is the total time a green-flag stop costs against staying out (pit-lane
    transit + stationary time); ``pit_loss_sc_s`` / ``pit_loss_vsc_s`` are the same under SC/VSC,
    when the field is slow and a stop is "cheap" (the one table: :mod:`.pitloss`).
    ``out_lap_penalty_s`` (cold tyres) is paid with the stop. A car within ``min_gap_s`` of the
    car ahead at the line is *caught*: it passes with the probability given by ``passing``
    (:class:`PassingParams`), otherwise it is held up at ``min_gap_s``; with ``passing.held_gap_s``
    (the fitted models' default) the gap it keeps to the car ahead is drawn from those quantiles
    instead, and it is caught when it would arrive within that gap. A car that has just passed
    crosses the line at least ``min_gap_s`` ahead of the car it passed.
    A car within ``drs_window_s`` of the car ahead at the start of a green lap (from lap 3, not
    straight after a neutralisation) gains ``drs_gain_s``. Under SC the field queues: each lap the
    gap to the car ahead above ``sc_queue_gap_s`` shrinks to ``sc_gap_retain_per_lap`` of itself.
    ``start_time_sd_s`` is the spread of lap-1 times that shuffles the grid (≈ the start's
    position-change spread times the time per grid slot).
    """

    circuit_key: str
    total_laps: int
    base_lap_time_s: float
    cars: list[CarParams]
    compounds: dict[str, CompoundParams] = field(default_factory=_default_compounds)
    dry_compounds: tuple[str, ...] = ("SOFT", "MEDIUM", "HARD")
    fuel_effect_s_per_lap: float = 0.06
    # one set of pit-loss defaults: the fitted models fall back to the same values
    pit_loss_s: float = pitloss.DEFAULT_PIT_LOSS_S
    pit_loss_sc_s: float = pitloss.DEFAULT_PIT_LOSS_SC_S
    pit_loss_vsc_s: float = pitloss.DEFAULT_PIT_LOSS_VSC_S
    pit_loss_sd_s: float = pitloss.DEFAULT_PIT_LOSS_SD_S
    out_lap_penalty_s: float = 0.0
    sc: NeutralisationParams = field(default_factory=NeutralisationParams)
    vsc: NeutralisationParams = field(default_factory=NeutralisationParams)
    sc_lap_time_factor: float = 1.4
    vsc_lap_time_factor: float = 1.3
    sc_queue_gap_s: float = 0.8
    sc_gap_retain_per_lap: float = 0.3
    first_lap_loss_s: float = 5.0
    per_grid_slot_loss_s: float = 0.15
    start_time_sd_s: float = 0.3
    passing: PassingParams = field(default_factory=PassingParams)
    drs_enabled: bool = True
    drs_gain_s: float = 0.4
    drs_window_s: float = 1.0
    min_gap_s: float = 0.25
    #: stint caps, stop and compound rules of the event (default: the two-compound rule only)
    rules: TyreRules = field(default_factory=TyreRules)

    # ----------------------------------------------------------------------------------------
    @property
    def n_cars(self) -> int:
        return len(self.cars)

    @property
    def drivers(self) -> list[str]:
        return [c.driver for c in self.cars]

    def car_index(self, driver: str) -> int:
        """Index of a driver code in :attr:`cars`; unknown codes list the field."""
        key = str(driver).strip().upper()
        for i, car in enumerate(self.cars):
            if car.driver.upper() == key:
                return i
        raise InvalidRequestError(
            f"Unknown driver {driver!r} in {self.circuit_key}. Drivers in this race: "
            + ", ".join(self.drivers) + ".",
            details={"options": self.drivers},
        )

    def max_tyre_age_laps(self) -> int:
        """Largest tyre age a lap can be run on (the bound of the wear lookup table)."""
        start = max((c.start_tyre_age_laps for c in self.cars), default=0)
        return int(self.total_laps + start + 64)

    def tyre_delta_table(self, max_age_laps: int | None = None) -> np.ndarray:
        """Lookup table ``[len(COMPOUNDS), max_age + 1]`` float32 of pace offset + wear (s).

        Rows of compounds without parameters are zero (strategies using them fail validation).
        """
        n_age = (max_age_laps if max_age_laps is not None else self.max_tyre_age_laps()) + 1
        table = np.zeros((len(COMPOUNDS), n_age), dtype=np.float32)
        ages = np.arange(n_age)
        for name, comp in self.compounds.items():
            table[compound_code(name)] = comp.lap_delta_s(ages)
        return table

    def validate(self) -> None:
        """Check the race is simulable; raises InvalidRequestError saying what to fix."""
        _check(self.total_laps >= 2, "total_laps must be at least 2.", total_laps=self.total_laps)
        _check(self.base_lap_time_s > 0, "base_lap_time_s must be positive.")
        _check(len(self.cars) >= 1, "A race needs at least one car.")
        _check(len(self.cars) <= 127, "At most 127 cars are supported.")
        codes = [c.driver.upper() for c in self.cars]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        _check(not dupes, f"Duplicate driver codes: {', '.join(dupes)}.")
        grids = sorted(c.grid_position for c in self.cars)
        _check(
            grids == list(range(1, len(self.cars) + 1)),
            f"Grid positions must be 1..{len(self.cars)}, each once; got {grids}.",
        )
        for name, comp in self.compounds.items():
            _check(
                comp.name.upper() == name.upper(),
                f"compounds[{name!r}] holds parameters named {comp.name!r}.",
            )
            comp.validate()
        for name in self.dry_compounds:
            _check(
                name.upper() in DRY_COMPOUNDS and name.upper() in self.compounds,
                f"Allocated dry compound {name!r} needs parameters; compounds with parameters: "
                + ", ".join(self.compounds) + ".",
            )
        for car in self.cars:
            _check(
                car.start_compound.upper() in self.compounds,
                f"{car.driver}: start compound {car.start_compound!r} is not available. "
                f"Valid compounds: {', '.join(self.compounds)}.",
            )
            _check(0.0 <= car.retirement_prob <= 1.0, f"{car.driver}: retirement_prob in [0, 1].")
            _check(car.lap_noise_sd_s >= 0, f"{car.driver}: lap_noise_sd_s must be >= 0.")
            _check(car.start_tyre_age_laps >= 0, f"{car.driver}: start_tyre_age_laps must be >= 0.")
        for name in ("pit_loss_s", "pit_loss_sc_s", "pit_loss_vsc_s", "pit_loss_sd_s"):
            _check(getattr(self, name) >= 0, f"{name} must be >= 0.")
        _check(self.min_gap_s > 0, "min_gap_s must be > 0 (cars cannot occupy the same spot).")
        _check(self.sc_queue_gap_s > 0, "sc_queue_gap_s must be > 0.")
        _check(0 <= self.sc_gap_retain_per_lap <= 1, "sc_gap_retain_per_lap must be in [0, 1].")
        self.passing.validate()
        _check(self.sc_lap_time_factor >= 1 and self.vsc_lap_time_factor >= 1,
               "SC/VSC lap-time factors must be >= 1.")
        self.sc.validate("sc")
        self.vsc.validate("vsc")
        self.rules.validate()
