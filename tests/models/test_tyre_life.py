"""Tyre life under management (models/tyre_life.py): Kaplan–Meier quantiles of where stints end,
the revealed-preference slope, and the life estimate StintLimits carries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from f1analyzer.models.stint_limits import StintLimits
from f1analyzer.models.tyre_life import km_quantiles, life_slope_s


def test_km_quantiles_without_censoring_are_the_empirical_quantiles():
    life = np.arange(1, 21, dtype=float)  # 20 stints, all stopped
    q = km_quantiles(life, np.ones(20, bool))
    assert q[0.75] == 5.0 and q[0.5] == 10.0


def test_censored_stints_push_the_life_later():
    life = np.array([10, 12, 14, 16, 11, 11, 13, 13], dtype=float)
    stopped = np.array([True] * 4 + [False] * 4)  # four sets were stopped under SC (censored)
    q = km_quantiles(life, stopped)
    assert q[0.75] == 12.0 and q[0.5] == 14.0
    # the same lengths all counted as stops would give a median at 12
    assert km_quantiles(life, np.ones(8, bool))[0.5] == 12.0
    # sets that all ran to the flag: survival never falls, no life
    assert km_quantiles(np.full(5, 30.0), np.zeros(5, bool)) == {}


def renewal_optimum(pit_loss, w, onset, slope, max_len=80):
    """The stint length minimising (pit loss + cumulative wear) per lap, by brute force."""
    best, arg = np.inf, None
    for n in range(1, max_len):
        ages = np.arange(n, dtype=float)
        wear = np.sum(w * ages + slope * np.maximum(ages - onset, 0.0))
        if (pit_loss + wear) / n < best:
            best, arg = (pit_loss + wear) / n, n
    return arg


@pytest.mark.parametrize("pit_loss,w,onset,median", [(22.0, 0.035, 12, 18), (25.0, 0.02, 20, 28), (19.0, 0.05, 9, 14)])
def test_slope_makes_the_median_life_the_optimal_stint(pit_loss, w, onset, median):
    slope = life_slope_s(pit_loss, w, onset, median)
    assert slope > 0
    # the continuous optimum is the median; the discrete one lies within a lap of it
    assert abs(renewal_optimum(pit_loss, w, onset, slope) - median) <= 1


def test_no_life_term_when_the_fitted_wear_already_makes_stints_that_short():
    # 2*22 < 0.2*18^2: the lap-time wear alone stops the set before its revealed life
    assert life_slope_s(22.0, 0.2, 12, 18) == 0.0
    assert life_slope_s(22.0, 0.03, float("nan"), 18) == 0.0


def _laps(spec):
    rows, races = [], []
    for (season, rnd, circuit, total), cars in spec.items():
        for drv, plan, neutral_stop in cars:
            lap = 0
            for k, (comp, n) in enumerate(plan):
                for a in range(n):
                    lap += 1
                    last_of_stint = a == n - 1 and k < len(plan) - 1
                    rows.append({"season": season, "round": rnd, "driver": drv, "lap_number": lap, "compound": comp,
                                 "tyre_life_laps": float(a + 1), "stint": k + 1, "fresh_tyre": True,
                                 "track_status": "4" if (neutral_stop and last_of_stint) else "1"})
        races.append({"season": season, "round": rnd, "circuit_key": circuit, "total_laps": total})
    return pd.DataFrame(rows), pd.DataFrame(races)


def test_stint_limits_carry_the_life_and_censor_neutralised_stops():
    spec = {}
    for r, n in enumerate(range(12, 24)):  # 12 races: MEDIUM stopped at n (green), HARD to the flag
        spec[(2023, r + 1, "monza", 50)] = [(f"D{j}", [("MEDIUM", n), ("HARD", 50 - n)], False) for j in range(2)]
    # cheap SC stops at lap 5 say nothing about the medium's life
    spec[(2023, 20, "monza", 50)] = [(f"S{j}", [("MEDIUM", 5), ("HARD", 45)], True) for j in range(6)]
    laps, races = _laps(spec)
    got = StintLimits(prior_stints=0).fit(laps, races).predict("monza", "2022+")
    med = got["MEDIUM"]
    assert med["life_stops"] == 24
    lengths = np.repeat(np.arange(12, 24), 2).astype(float)
    expect = km_quantiles(np.r_[lengths, np.full(6, 5.0)], np.r_[np.ones(24, bool), np.zeros(6, bool)])
    assert med["life_onset"] == pytest.approx(expect[0.75]) and med["life_median"] == pytest.approx(expect[0.5])
    assert 14 <= med["life_onset"] < med["life_median"] <= 19
    # the hard always ran to the flag: no stop, its life is beyond the longest stint seen
    assert got["HARD"]["life_stops"] == 0 and got["HARD"]["life_median"] == 45 + 1
    # persisted with the limits
    again = StintLimits.from_dict(StintLimits(prior_stints=0).fit(laps, races).to_dict())
    assert again.predict("monza", "2022+")["MEDIUM"]["life_median"] == med["life_median"]
