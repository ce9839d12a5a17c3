"""Simulation-based calibration of the passing intercept, per circuit (indirect inference).

The logistic P(pass | caught) (:mod:`f1analyzer.models.overtaking`) is fitted on real close
pairs, but how many passes a race holds also depends on how many close pairs there are, and the
simulated field makes more of them than a real one: the cars run in DRS trains (nobody backs off
to save tyres or cool the car) and the iid lap noise keeps handing the follower small pace
advantages. Fed the fitted curve, the simulator makes 1.2-1.9x the real number of passes and
under-values track position.

So the circuit's intercept gets one more shift, ``offset``, chosen so that the simulator's passes
per race, counted the way :func:`f1analyzer.models.overtaking.pass_events` counts the real ones
(all-pairs position swaps between the ends of laps ``k`` and ``k + 1``, ``k >= 2``, both laps
green, neither car boxing on either lap nor retired), match the circuit's real rate in dry
races ``CircuitModel.passes_per_dry_race`` (the calibration race is dry). The calibration race is the circuit as the simulator builds
it (tyres, fuel, noise, SC/VSC, pit loss, fitted passing curve) with the latest field of the model
set in pace order on staggered one-stop plans; the offset is found by bisection on common random
numbers (the mean pass count rises with the offset). The pace-advantage slope and the DRS term stay
as fitted: the calibration only moves how often a caught car gets by, not who does.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

import numpy as np

from f1analyzer.simulation.core.engine import simulate
from f1analyzer.simulation.core.params import RaceParams, TrackStatus
from f1analyzer.simulation.core.rules import TyreRules
from f1analyzer.simulation.core.strategy import Strategy

log = logging.getLogger(__name__)

#: races per bisection step and the seed (fixed: the same model set always gets the same offset)
N_SIMS = 120
SEED = 20260
#: bisection bracket (log-odds) and steps: 12 / 2^9 is < 0.03 log-odds
OFFSET_RANGE = (-8.0, 4.0)
N_STEPS = 8
#: starting compounds of the calibration field, by grid slot (cycled): a real field mixes them
START_COMPOUNDS = ("MEDIUM", "MEDIUM", "SOFT", "MEDIUM", "HARD")

_lock = threading.RLock()
_busy = threading.local()


def count_passes(positions: np.ndarray, track_status: np.ndarray, pit_lap: np.ndarray,
                 last_lap: np.ndarray, first_lap: int = 1) -> np.ndarray:
    """On-track passes per sim, counted like the real ones (``overtaking.pass_events``).

    Args:
        positions: ``[n_sims, n_laps, n_cars]`` position at the end of each lap from ``first_lap``
            (``SimResult.positions_by_lap``).
        track_status: ``[n_sims, total_laps]`` :class:`TrackStatus` per lap.
        pit_lap: ``[n_cars, K]`` laps at whose end each car boxes (0: unused slot).
        last_lap: ``[n_sims, n_cars]`` last lap each car completed (a retired car's laps done,
            else the race distance).

    A swap between the ends of laps ``k`` and ``k + 1`` (``k >= 2``) counts when both laps are
    green and neither car boxes at the end of lap ``k - 1``, ``k`` or ``k + 1`` (the real data's
    pit-in and pit-out laps) nor has retired by lap ``k + 1``.
    """
    n_sims, n_laps, _ = positions.shape
    total = track_status.shape[1]
    out = np.zeros(n_sims, dtype=np.int64)
    for k in range(max(2, first_lap), first_lap + n_laps - 1):
        green = (track_status[:, k - 1] == TrackStatus.GREEN) & (track_status[:, k] == TrackStatus.GREEN)
        if not green.any() or k + 1 > total:
            continue
        boxed = np.isin(pit_lap, (k - 1, k, k + 1)).any(axis=1)  # [n_cars]
        ok = ~boxed[None, :] & (last_lap >= k + 1) & green[:, None]
        p0, p1 = positions[:, k - first_lap], positions[:, k + 1 - first_lap]
        swap = (p0[:, :, None] > p0[:, None, :]) & (p1[:, :, None] < p1[:, None, :])
        out += (swap & ok[:, :, None] & ok[:, None, :]).sum(axis=(1, 2))
    return out


def calibration_strategies(race: RaceParams) -> list[Strategy]:
    """Staggered one-stop plans (first stop between 30 % and 60 % of the race), mixed starts."""
    out = []
    for i, car in enumerate(race.cars):
        second = "HARD" if car.start_compound != "HARD" else "MEDIUM"
        frac = 0.30 + 0.30 * ((i * 7) % race.n_cars) / max(race.n_cars - 1, 1)
        lap = int(np.clip(round(race.total_laps * frac), 2, race.total_laps - 2))
        out.append(Strategy(car.start_compound, ((lap, second),)))
    return out


def mean_passes(race: RaceParams, strategies: list[Strategy], offset: float, *, n_sims: int = N_SIMS,
                seed: int = SEED) -> float:
    """Mean counted passes per race with ``offset`` added to the circuit's passing intercept."""
    pp = replace(race.passing, circuit_effect=race.passing.circuit_effect + float(offset))
    res = simulate(replace(race, passing=pp), strategies, n_sims=n_sims, seed=seed, record_positions=True)
    pit = np.zeros((race.n_cars, max(len(s.stops) for s in strategies) or 1), dtype=np.int64)
    for i, s in enumerate(strategies):
        for j, (lap, _) in enumerate(s.stops):
            pit[i, j] = lap
    last = np.where(res.retired, res.laps_done, race.total_laps)
    return float(count_passes(res.positions_by_lap, res.track_status, pit, last).mean())


def calibrate_offset(race: RaceParams, target_passes: float, strategies: list[Strategy] | None = None, *,
                     n_sims: int = N_SIMS, seed: int = SEED) -> float:
    """Intercept shift making the simulated passes per race ``target_passes`` (bisection).

    A target outside what the bracket can reach gives the bracket's end."""
    strategies = calibration_strategies(race) if strategies is None else strategies
    lo, hi = OFFSET_RANGE
    if mean_passes(race, strategies, hi, n_sims=n_sims, seed=seed) <= target_passes:
        return hi
    if mean_passes(race, strategies, lo, n_sims=n_sims, seed=seed) >= target_passes:
        return lo
    for _ in range(N_STEPS):
        mid = 0.5 * (lo + hi)
        if mean_passes(race, strategies, mid, n_sims=n_sims, seed=seed) < target_passes:
            lo = mid
        else:
            hi = mid
    return round(0.5 * (lo + hi), 3)


def calibration_race(models, cm) -> RaceParams | None:
    """The circuit as the simulator builds it, with the model set's latest field in pace order
    (``None`` when the model set holds no driver pace)."""
    # build imports pit_and_passing, which calls this module: imported here to build the
    # calibration race exactly the way every answer's race is built
    from f1analyzer.simulation.scenario.build import params_from_models

    pace = getattr(models, "pace_", None)
    if pace is None or len(pace) == 0:
        return None
    season, rnd = (int(x) for x in pace[["season", "round"]].drop_duplicates()
                   .sort_values(["season", "round"]).iloc[-1])
    field = pace[(pace["season"] == season) & (pace["round"] == rnd)]
    by_driver = models.driver_pace(season, rnd + 1)
    drivers = sorted({str(d) for d in field["driver"]}, key=lambda d: (by_driver.get(d, 0.0), d))
    cars = [{"driver": d, "team": "", "base_pace_s": float(by_driver.get(d, 0.0)),
             "start_compound": START_COMPOUNDS[i % len(START_COMPOUNDS)], "start_tyre_age_laps": 0}
            for i, d in enumerate(drivers)]
    if len(cars) < 2:
        return None
    key = cm.key if cm.key in getattr(models, "circuits_", {}) else "_calibration"
    params, _, _ = params_from_models(models, key, season, int(cm.total_laps), cars)
    # the plans are the calibration's own: event caps would only reject some of them
    return replace(params, rules=TyreRules())


def target_passes(cm) -> float:
    """Real green-lap passes per dry race at the circuit (``overtakes_per_race`` for a model set
    fitted before the dry count existed)."""
    dry = float(getattr(cm, "passes_per_dry_race", -1.0))
    return dry if dry >= 0 else float(getattr(cm, "overtakes_per_race", 0.0) or 0.0)


def offset_for(models, cm) -> float:
    """The circuit's calibrated intercept shift, computed once per model set and kept on ``cm``
    (``CircuitModel.passing_sim_offset``); 0 while the calibration race itself is being built,
    or when the circuit has no real pass count to match."""
    off = getattr(cm, "passing_sim_offset", None)
    if off is not None:
        return float(off)
    if getattr(_busy, "on", False) or not target_passes(cm) > 0:
        return 0.0
    with _lock:
        off = getattr(cm, "passing_sim_offset", None)
        if off is not None:
            return float(off)
        _busy.on = True
        try:
            race = calibration_race(models, cm)
            off = 0.0 if race is None else calibrate_offset(race, target_passes(cm))
        finally:
            _busy.on = False
        cm.passing_sim_offset = float(off)
        log.debug("passing calibrated at %s: intercept shift %+.2f for %.1f passes per race",
                  cm.key, off, target_passes(cm))
    return float(off)


__all__ = [
    "N_SIMS",
    "SEED",
    "calibrate_offset",
    "calibration_race",
    "calibration_strategies",
    "count_passes",
    "mean_passes",
    "offset_for",
    "target_passes",
]
