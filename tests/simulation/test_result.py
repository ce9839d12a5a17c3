"""SimResult statistics a strategist reads (issue 11, problem 6): P(win), P(podium), expected
points, E[pos] if classified with the retirement risk apart, named percentiles."""

from __future__ import annotations

import numpy as np
import pytest

from f1analyzer.simulation.core.result import POINTS, SimResult, percentile_phrase


def result(finish: list[list[int]], retired: list[list[bool]]) -> SimResult:
    pos = np.asarray(finish, dtype=np.int8)
    ret = np.asarray(retired, dtype=bool)
    n_sims, n_cars = pos.shape
    t = np.where(ret, np.nan, 5000.0 + pos.astype(float))
    return SimResult(
        drivers=[f"C{k}" for k in range(n_cars)], finish_position=pos, race_time_s=t, retired=ret,
        laps_done=np.full((n_sims, n_cars), 50, np.int16), stops_done=np.ones((n_sims, n_cars), np.int8),
        track_status=np.zeros((n_sims, 50), np.int8), reference_position=np.arange(1, n_cars + 1),
        passes=np.zeros(n_sims, np.int16))


def winner_who_sometimes_retires() -> SimResult:
    """Car 0 wins 9 races in 10 and retires in the tenth (classified last, 20th)."""
    n_cars = 20
    finish, retired = [], []
    for s in range(10):
        order = list(range(1, n_cars + 1))
        row = [0] * n_cars
        ret = [False] * n_cars
        if s < 9:
            row = order
        else:
            row = [n_cars] + order[:-1]
            ret[0] = True
        finish.append(row)
        retired.append(ret)
    return result(finish, retired)


def test_a_90_percent_winner_has_a_winners_headline():
    res = winner_who_sometimes_retires()
    o = res.outcomes("C0")
    assert o["p_win"] == pytest.approx(0.9) and o["p_podium"] == pytest.approx(0.9)
    assert o["p_dnf"] == pytest.approx(0.1)
    # the all-sims mean is dragged to P2.9 by one retirement; the headline is not
    assert res.expected_position("C0") == pytest.approx(2.9)
    assert o["expected_position_if_classified"] == pytest.approx(1.0)
    assert o["expected_points"] == pytest.approx(0.9 * POINTS[0])
    assert (o["position_10th_percentile"], o["position_median"], o["position_90th_percentile"]) == (1, 1, 1)


def test_points_percentiles_and_a_car_that_never_finishes():
    res = result([[1, 2, 3], [3, 1, 2], [2, 3, 1], [3, 2, 1]],
                 [[False, False, False], [True, False, False], [False, False, False], [False, False, True]])
    o = res.outcomes("C0")
    assert o["expected_points"] == pytest.approx((25 + 0 + 18 + 15) / 4)
    assert o["expected_position_if_classified"] == pytest.approx((1 + 2 + 3) / 3)
    # percentiles are real positions over the classified races (inverted CDF)
    assert o["position_10th_percentile"] == 1 and o["position_median"] == 2 and o["position_90th_percentile"] == 3
    gone = result([[2, 1], [2, 1]], [[True, False], [True, False]]).outcomes("C0")
    assert gone["p_dnf"] == 1 and gone["p_win"] == 0 and gone["expected_points"] == 0
    assert np.isnan(gone["expected_position_if_classified"]) and np.isnan(gone["position_median"])


def test_summary_names_its_percentiles_and_prose_reads_them():
    rows = winner_who_sometimes_retires().summary()
    assert not any(k.startswith("position_p") or "p10" in k for k in rows[0])
    assert {"position_10th_percentile", "position_median", "position_90th_percentile",
            "race_time_10th_percentile_s", "p_win", "p_dnf", "expected_points"} <= set(rows[0])
    assert percentile_phrase(2.0) == "in 10 % of races P2 or better"
    assert percentile_phrase(float("nan")) == ""
