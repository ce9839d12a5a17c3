"""Today's tyre life: the race's first stints against the circuit's earlier races."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from f1analyzer.simulation.core.params import TrackStatus
from f1analyzer.simulation.scenario.demo import demo_race
from f1analyzer.simulation.scenario.tyre_today import (
    FACTOR_RANGE,
    HISTORY_WEIGHT,
    MIN_HISTORY_STOPS,
    PRIOR_CARS,
    TyreBasis,
    expected_from_history,
    first_stint_ends,
    historical_first_stops,
    history_life_factor,
    life_evidence,
    pre_race_life,
    with_life_factor,
)
from f1analyzer.simulation.planning.screen import default_field_strategies


def test_no_car_at_its_usual_stop_yet_says_nothing():
    ev = life_evidence({}, {"A": 20, "B": 22}, lap=10)
    assert ev.factor == 1.0 and ev.ratio is None and ev.n_cars == 0
    assert "history" in ev.describe()


def test_early_green_stops_shorten_the_life_shrunk_by_the_prior():
    expected = {d: 20 for d in "ABCDEFGHIJ"}
    ends = {d: (10, True) for d in "ABCDEFGHIJ"}
    ev = life_evidence(ends, expected, lap=12)
    assert ev.ratio == pytest.approx(0.5) and ev.n_cars == 10
    assert ev.factor == pytest.approx(np.exp(10 * np.log(0.5) / (10 + PRIOR_CARS)))
    assert 0.5 < ev.factor < 0.7 and "×0." in ev.describe()
    # one car is weak evidence: the history mostly stands
    one = life_evidence({"A": (10, True)}, expected, lap=12)
    assert 0.85 < one.factor < 1.0


def test_cars_still_out_are_lower_bounds_and_cheap_early_stops_say_nothing():
    expected = {"A": 10, "B": 10, "C": 10, "D": 30}
    ends = {"A": (6, False),   # under a SC before its usual lap: nothing
            "B": (14, False)}  # under a SC after it: at least 14
    ev = life_evidence(ends, expected, lap=18)  # C still out at 18; D not due yet
    assert ev.n_cars == 2 and ev.ratio == pytest.approx((14 + 18) / 20)
    assert ev.factor > 1.0
    # a retired car's first set says nothing
    assert life_evidence(ends, expected, lap=18, running={"A", "B", "D"}).n_cars == 1


def test_the_factor_is_bounded():
    expected = {f"D{i}": 40 for i in range(200)}
    ends = {d: (3, True) for d in expected}
    assert life_evidence(ends, expected, lap=5).factor == FACTOR_RANGE[0]


def test_first_stint_ends_reads_the_status_of_the_in_lap():
    sched = np.array([TrackStatus.GREEN] * 9 + [TrackStatus.SC] * 2 + [TrackStatus.GREEN] * 9)
    stops = {"A": [(8, "HARD"), (15, "SOFT")], "B": [(10, "HARD")], "C": [(16, "HARD")], "D": []}
    assert first_stint_ends(stops, sched, lap=12) == {"A": (8, True), "B": (10, False)}


def _basis(params):
    dry = {c: replace(params.compounds[c], cliff_lap=None, cliff_slope_s_per_lap=0.0) for c in params.dry_compounds}
    life = {"SOFT": {"life_onset": 12.0, "life_median": 16.0}, "MEDIUM": {"life_onset": 18.0, "life_median": 23.0},
            "HARD": {"life_onset": 26.0, "life_median": 32.0}}
    return TyreBasis(compounds_before_life=dry, life=life, pit_loss_s=params.pit_loss_s)


def test_a_shorter_life_makes_a_long_stint_dearer_and_keeps_the_rest():
    params = demo_race()
    basis = _basis(params)
    same = with_life_factor(params, basis, 1.0)
    assert same is params
    base = with_life_factor(params, basis, 1.0 + 1e-6)
    short = with_life_factor(params, basis, 0.6)
    for c in params.dry_compounds:
        assert short.compounds[c].cliff_lap < base.compounds[c].cliff_lap
        assert float(short.compounds[c].delta_s(35)) > float(base.compounds[c].delta_s(35))
        assert short.compounds[c].pace_offset_s == base.compounds[c].pace_offset_s
    assert short.cars == params.cars and short.pit_loss_s == params.pit_loss_s
    assert with_life_factor(params, TyreBasis(), 0.6) is params  # no life to scale


class _Store:
    """races() and pit_stops() of a few synthetic races at two circuits (one stop per car)."""

    def __init__(self, races: list[tuple[int, int, str, list[tuple[str, str, int, str]]]]):
        self._races = pd.DataFrame([{"season": s, "round": r, "circuit_key": c, "total_laps": 50}
                                    for s, r, c, _ in races])
        self._stops = pd.DataFrame([
            {"season": s, "round": r, "driver": drv, "stop_number": 1, "lap": stop, "compound_before": start,
             "compound_after": "HARD", "under_sc": "4" in status, "under_vsc": status in ("6", "7"),
             "under_red_flag": status == "5"}
            for s, r, _c, cars in races for drv, start, stop, status in cars])

    def races(self):
        return self._races

    def pit_stops(self, season):
        return self._stops[self._stops["season"] == season]


def _cars(stop: int, n: int = 12, status: str = "1", start: str = "MEDIUM", prefix: str = "D"):
    return [(f"{prefix}{i}", start, stop, status) for i in range(n)]


def test_history_is_earlier_races_at_the_circuit_of_the_same_era():
    store = _Store([(2022, 5, "monza", _cars(20)), (2023, 5, "monza", _cars(30)),
                    (2023, 6, "spa", _cars(10)), (2021, 5, "monza", _cars(5)),
                    (2024, 7, "monza", _cars(45))])
    sh = historical_first_stops(store, "monza", 2024, 5, era_split_season=2022)
    assert sh["MEDIUM"] == pytest.approx(25 / 50) and sh["ALL"] == pytest.approx(25 / 50)
    # the race itself and later ones never count; nor do other circuits or the other era
    assert historical_first_stops(store, "monza", 2023, 5, era_split_season=2022)["ALL"] == pytest.approx(0.4)
    assert historical_first_stops(store, "monza", 2022, 5, era_split_season=2022) == {}


def test_history_skips_cheap_stops_and_thin_samples():
    store = _Store([(2022, 1, "monza", _cars(8, status="4") + _cars(20, n=MIN_HISTORY_STOPS - 1, start="SOFT", prefix="S"))])
    assert historical_first_stops(store, "monza", 2023, 1) == {}  # 9 green stops: too few
    store = _Store([(2022, 1, "monza", _cars(8, status="4") + _cars(20, n=MIN_HISTORY_STOPS, start="SOFT", prefix="S"))])
    sh = historical_first_stops(store, "monza", 2023, 1)
    assert sh == {"SOFT": pytest.approx(0.4), "ALL": pytest.approx(0.4)}
    params = demo_race()
    exp = expected_from_history(params, sh)
    assert set(exp) == set(params.drivers) and all(v == round(0.4 * params.total_laps) for v in exp.values())
    assert expected_from_history(params, {}) == {}


def _first_stops(params) -> float:
    return float(np.mean([s.pit_laps[0] for s in default_field_strategies(params) if s.pit_laps]))


def test_the_history_factor_moves_the_fields_first_stops_to_the_history():
    params = demo_race()
    basis = _basis(params)
    own = _first_stops(with_life_factor(params, basis, 1.0 + 1e-6))
    for target in (0.7 * own, 1.25 * own):
        expected = {d: int(round(target)) for d in params.drivers}
        f = history_life_factor(params, basis, expected)
        assert (f < 1.0) == (target < own)
        # the calibrated field stops first within two laps of the history, on average
        assert abs(_first_stops(with_life_factor(params, basis, f)) - target) <= 2.0
    assert history_life_factor(params, basis, {}) is None
    assert history_life_factor(params, TyreBasis(), {d: 10 for d in params.drivers}) is None


def test_the_pre_race_life_goes_halfway_and_rescales_the_basis():
    params = demo_race()
    basis = _basis(params)
    expected = {d: 8 for d in params.drivers}
    full = history_life_factor(params, basis, expected)
    q, b, f = pre_race_life(params, basis, expected)
    assert HISTORY_WEIGHT == 0.5 and f == pytest.approx(full ** 0.5) and full < f < 1.0
    # the basis carries the scaled life, so an in-race update starts from it
    for c, lf in basis.life.items():
        assert b.life[c]["life_median"] == pytest.approx(lf["life_median"] * f)
    assert q.compounds == with_life_factor(params, basis, f).compounds
    assert _first_stops(q) < _first_stops(with_life_factor(params, basis, 1.0 + 1e-6))
    # no yardstick: nothing moves
    assert pre_race_life(params, basis, {}) == (params, basis, 1.0)
