"""Passing as a probability of the pace delta, DRS and the circuit (models/overtaking.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from f1analyzer.models import overtaking as ot
from f1analyzer.simulation.core.params import PassingParams

TRUE = np.array([-2.0, 1.5, -0.5])  # intercept, pace coefficient, DRS


def _pairs(n: int, rng, effect: float = 0.0) -> pd.DataFrame:
    delta = rng.normal(0.5, 1.0, n)
    drs = rng.random(n) < 0.7
    p = 1 / (1 + np.exp(-(TRUE[0] + effect + TRUE[1] * delta + TRUE[2] * drs)))
    return pd.DataFrame({"delta_s": delta, "drs": drs, "passed": rng.random(n) < p})


def test_fit_passing_recovers_the_curve():
    beta, prior = ot.fit_passing(_pairs(40_000, np.random.default_rng(0)), n_races=100, shrinkage_races=3.0)
    np.testing.assert_allclose(beta, TRUE, atol=0.1)
    assert prior["prior_precision"] > 0


def test_circuit_effect_is_shrunk_with_few_pairs_and_found_with_many():
    rng = np.random.default_rng(1)
    beta, prior = ot.fit_passing(_pairs(20_000, rng), n_races=100, shrinkage_races=3.0)
    hard = -1.5  # a Monaco
    few = ot.circuit_effect(_pairs(30, rng, hard), beta, prior["prior_precision"])
    many = ot.circuit_effect(_pairs(20_000, rng, hard), beta, prior["prior_precision"])
    assert hard < few < 0 or few == pytest.approx(hard, abs=0.5)
    assert many == pytest.approx(hard, abs=0.15)
    assert abs(few - hard) > abs(many - hard)
    assert ot.circuit_effect(_pairs(0, rng), beta, 1.0) == 0.0


def test_threshold_is_the_even_odds_advantage():
    beta = np.array([-3.0, 2.0])
    assert ot.threshold_s(beta) == pytest.approx(1.5)
    assert ot.threshold_s(beta, circuit_effect=-2.0) == pytest.approx(2.5)
    assert ot.threshold_s(beta, circuit_effect=-20.0) == ot.MAX_THRESHOLD_S
    pp = PassingParams(intercept=-3.0, pace_coef_per_s=2.0, drs_coef=0.0, circuit_effect=-2.0)
    assert pp.even_odds_delta_s() == pytest.approx(2.5)
    assert float(pp.p_pass(2.5)) == pytest.approx(0.5)


def _laps(position_rows, status_rows) -> pd.DataFrame:
    """Two cars A and B: per lap their positions, B 0.5 s behind when second."""
    rows = []
    for lap, ((pa, pb), st) in enumerate(zip(position_rows, status_rows), start=1):
        for d, pos in (("A", pa), ("B", pb)):
            t = lap * 90.0 + (0.5 if pos == 2 else 0.0)
            rows.append({"season": 2023, "round": 1, "driver": d, "lap_number": lap, "position": pos,
                         "session_time_s": t, "pit_in": False, "pit_out": False, "track_status": st})
    return pd.DataFrame(rows)


def _restart_race() -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`ot.pass_events` of a race with laps 5-6 under SC, B passing A on the restart lap 7
    and A passing back on a DRS lap (10); B is expected 0.5 s a lap quicker."""
    pos = [(1, 2)] * 6 + [(2, 1)] * 3 + [(1, 2)] * 3
    status = ["1"] * 4 + ["4", "4"] + ["1"] * 6
    laps = _laps(pos, status)
    expected = pd.Series(np.where(laps["driver"] == "B", 89.5, 90.0), index=laps.index)
    return ot.pass_events(laps, expected)


def test_restarts_count_and_have_no_drs():
    pairs, swaps = _restart_race()
    restart = pairs[pairs["restart"]]
    assert len(restart) == 1 and restart["lap"].iloc[0] == 6 and restart["passed"].iloc[0]
    assert not restart["drs"].iloc[0]
    assert restart["delta_s"].iloc[0] == pytest.approx(0.5)
    green = pairs[(pairs["lap"] >= 8)]
    assert green["drs"].all()
    assert green.loc[green["lap"] == 9, "passed"].item()
    # DRS gain is in the lap-time delta, as in the simulator
    np.testing.assert_allclose(green["delta_s"] - green["advantage_s"], ot.DRS_GAIN_S)
    assert swaps["passes"].item() >= 1


def test_pairs_carry_the_next_lap_gap_unless_the_follower_passed():
    pairs, _ = _restart_race()
    assert pairs.loc[pairs["passed"], "gap_next_s"].isna().all()
    kept = pairs[~pairs["passed"]]
    np.testing.assert_allclose(kept["gap_next_s"], 0.5)  # _laps: the car in P2 runs 0.5 s back


def _held_pairs(n: int, rng) -> pd.DataFrame:
    """Held-up followers 0.4-0.8 s back, plus pairs the fit must leave out."""
    held = pd.DataFrame({"advantage_s": rng.uniform(0.1, 1.0, n), "restart": False, "passed": False,
                         "gap_next_s": rng.uniform(0.4, 0.8, n)})
    slower = held.assign(advantage_s=-held["advantage_s"], gap_next_s=3.0)  # dropping back
    restart = held.assign(restart=True, gap_next_s=0.05)  # bunched behind the Safety Car
    passed = held.assign(passed=True, gap_next_s=np.nan)
    return pd.concat([held, slower, restart, passed], ignore_index=True)


def test_held_gap_is_fitted_on_held_up_followers_only():
    q = ot.fit_held_gap(_held_pairs(2000, np.random.default_rng(1)))
    assert len(q) == len(ot.HELD_GAP_PROBS) and np.all(np.diff(q) >= 0)
    # uniform(0.4, 0.8): the p-quantile is 0.4 + 0.4 p
    np.testing.assert_allclose(q, 0.4 + 0.4 * np.array(ot.HELD_GAP_PROBS), atol=0.02)


def test_held_gap_falls_back_with_too_few_pairs():
    few = _held_pairs(ot.MIN_HELD_PAIRS - 1, np.random.default_rng(2))
    assert ot.fit_held_gap(few) == ot.DEFAULT_HELD_GAP_S
    assert ot.fit_held_gap(few, (0.1,) * 10) == (0.1,) * 10
    assert ot.fit_held_gap(pd.DataFrame()) == ot.DEFAULT_HELD_GAP_S


def test_the_simulator_draws_the_held_gap_through_its_quantiles():
    from f1analyzer.simulation.core.params import HELD_GAP_GRID

    pp = PassingParams()
    assert pp.held_gap_s == ot.DEFAULT_HELD_GAP_S
    q = ot.DEFAULT_HELD_GAP_S
    grid = pp.held_gap(np.arange(HELD_GAP_GRID, dtype=np.uint16))
    assert grid.dtype == np.float32 and np.all(np.diff(grid) >= 0)
    # flat beyond the 5 % and 95 % points, the median half-way between the 45 % and 55 % ones
    p = (np.arange(HELD_GAP_GRID) + 0.5) / HELD_GAP_GRID
    assert np.all(grid[p <= 0.05] == np.float32(q[0])) and np.all(grid[p >= 0.95] == np.float32(q[-1]))
    assert grid[HELD_GAP_GRID // 2] == pytest.approx((q[4] + q[5]) / 2, abs=1e-3)
    assert PassingParams.threshold(1.0).held_gap(np.zeros(3, np.uint16)) is None  # old rule: min_gap_s


@pytest.mark.parametrize("bad", [(0.5,) * 3, (0.5, 0.4) + (0.6,) * 8, (0.0,) * 10, (np.nan,) * 10])
def test_held_gap_quantiles_are_checked(bad):
    from f1analyzer.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError, match="held_gap_s"):
        PassingParams(held_gap_s=bad).validate()
