"""Simulation-based calibration of the passing intercept (simulation/scenario/passing_calibration.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from f1analyzer.models import overtaking as ot
from f1analyzer.simulation.core.engine import simulate
from f1analyzer.simulation.core.params import PassingParams, TrackStatus
from f1analyzer.simulation.scenario import passing_calibration as pc
from f1analyzer.simulation.scenario.demo import demo_race


def _race(effect: float = 0.0):
    race = demo_race(n_cars=10, total_laps=30, retirement_prob=0.05)
    return replace(race, passing=PassingParams(intercept=-2.0, pace_coef_per_s=1.5, drs_coef=-0.5,
                                               circuit_effect=effect))


def _as_laps(race, res, strategies) -> pd.DataFrame:
    """The simulated races as a real lap table (one round per sim) for ``overtaking.pass_events``."""
    code = {TrackStatus.GREEN: "1", TrackStatus.SC: "4", TrackStatus.VSC: "6"}
    pit = {i: {lap for lap, _ in s.stops} for i, s in enumerate(strategies)}
    rows = []
    for s in range(res.n_sims):
        for lap in range(1, race.total_laps + 1):
            for car in range(race.n_cars):
                if res.retired[s, car] and lap > res.laps_done[s, car]:
                    continue
                pos = int(res.positions_by_lap[s, lap - 1, car])
                rows.append({"season": 2000, "round": s + 1, "driver": f"C{car}", "lap_number": lap,
                             "position": pos, "session_time_s": 90.0 * lap + pos,
                             "pit_in": lap in pit[car], "pit_out": lap - 1 in pit[car],
                             "track_status": code[int(res.track_status[s, lap - 1])]})
    return pd.DataFrame(rows)


def test_simulated_passes_are_counted_like_the_real_ones():
    race = _race()
    strategies = pc.calibration_strategies(race)
    res = simulate(race, strategies, n_sims=12, seed=3, record_positions=True)
    pit = np.array([[s.stops[0][0]] for s in strategies])
    last = np.where(res.retired, res.laps_done, race.total_laps)
    counted = pc.count_passes(res.positions_by_lap, res.track_status, pit, last)
    laps = _as_laps(race, res, strategies)
    _, swaps = ot.pass_events(laps, pd.Series(np.nan, index=laps.index))
    np.testing.assert_array_equal(counted, swaps.sort_values("round")["passes"].to_numpy())
    assert counted.sum() > 0


def test_calibration_recovers_a_known_circuit_intercept():
    truth = -1.2
    target = pc.mean_passes(_race(truth), pc.calibration_strategies(_race(truth)), 0.0)
    offset = pc.calibrate_offset(_race(0.0), target)
    assert offset == pytest.approx(truth, abs=0.15)
    # more passes wanted: a larger intercept
    assert pc.calibrate_offset(_race(0.0), target * 1.3) > offset


def test_an_unreachable_target_gives_the_bracket_end():
    assert pc.calibrate_offset(_race(), 1e6) == pc.OFFSET_RANGE[1]
    assert pc.calibrate_offset(_race(), -1.0) == pc.OFFSET_RANGE[0]
