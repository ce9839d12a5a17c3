"""NeutralStopRates: how often cars box at a SC/VSC start, from constructed races."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from f1analyzer.errors import NotFittedError
from f1analyzer.models.neutral_stops import NeutralStopRates, NeutralStopSpot, neutral_stop_table


def car_laps(season, rnd, driver, stints, *, sc_laps=(), last_lap=None, age_before=0, pos=1, inter=False):
    """Lap rows of one car: ``stints`` = [(compound, in_lap_or_None), ...] in order; the track is
    neutralised (status "4") on ``sc_laps``."""
    rows, lap, total = [], 0, last_lap or 20
    for k, (comp, end) in enumerate(stints):
        end = end if end is not None else total
        start = lap + 1
        for lap in range(start, end + 1):
            rows.append({"season": season, "round": rnd, "driver": driver, "lap_number": lap, "stint": k + 1,
                         "compound": "INTERMEDIATE" if inter else comp,
                         "tyre_life_laps": float(lap - start + 1 + (age_before if k == 0 else 0)),
                         "track_status": "4" if lap in sc_laps else "1", "position": float(pos),
                         "session_time_s": 90.0 * lap + pos})
    return rows


def race(season=2023, rnd=1, sc=(10, 11, 12), inter=False):
    cars = [("A", [("MEDIUM", 10), ("HARD", None)], {}),      # in-lap 10: boxed at the SC's first lap
            ("B", [("MEDIUM", 11), ("HARD", None)], {}),      # in-lap 11: boxed
            ("C", [("MEDIUM", 12), ("HARD", None)], {}),      # in-lap 12: too late to count
            ("D", [("MEDIUM", 9), ("HARD", None)], {}),       # in-lap 9: stopped just before, on new HARDs
            ("E", [("SOFT", None)], {}),                      # stays out
            ("F", [("MEDIUM", None)], {"last_lap": 9})]       # retired before the SC
    rows = []
    for pos, (drv, stints, kw) in enumerate(cars, start=1):
        rows += car_laps(season, rnd, drv, stints, sc_laps=sc, pos=pos, inter=inter, **kw)
    return pd.DataFrame(rows), pd.DataFrame([{"season": season, "round": rnd, "total_laps": 20}])


def test_the_table_has_every_running_car_at_a_sc_start_and_who_boxed():
    laps, races = race()
    t = neutral_stop_table(laps, races).set_index("driver")
    assert sorted(t.index) == ["A", "B", "C", "D", "E"]  # F retired before lap 10
    assert t["boxed"].to_dict() == {"A": 1, "B": 1, "C": 0, "D": 0, "E": 0}
    assert set(t["lap"]) == {9} and set(t["kind"]) == {"SC"} and set(t["total_laps"]) == {20}
    # D made its stop on lap 9: its state is the new set, as the advisor's race state has it
    assert t.loc["D", ["compound", "tyre_age_laps", "stops_done", "dry_compounds_used"]].tolist() == ["HARD", 0.0, 1, 2]
    assert t.loc["A", ["compound", "tyre_age_laps", "stops_done", "dry_compounds_used"]].tolist() == ["MEDIUM", 9.0, 0, 1]


def test_vsc_starts_and_what_is_left_out():
    laps, races = race()
    laps.loc[laps["track_status"] == "4", "track_status"] = "6"
    assert set(neutral_stop_table(laps, races)["kind"]) == {"VSC"}
    # a neutralisation from lap 2 (no green lap before the decision) and a wet race add nothing
    early, r2 = race(sc=(2, 3))
    assert neutral_stop_table(early, r2).empty
    wet, r3 = race(inter=True)
    assert neutral_stop_table(wet, r3).empty


def many_races(n=40):
    """``n`` races with a SC at lap 20 of 40: a car whose set is 24+ laps old at the call boxes (27+ in the back half)."""
    rows, races = [], []
    rng = np.random.default_rng(0)
    for rnd in range(1, n + 1):
        for pos in range(1, 9):
            before = int(rng.integers(0, 12))  # laps on the set before the race (a used set)
            old = 19 + before >= 24 + 3 * (pos > 4)  # the back half needs older tyres to box
            stints = [("MEDIUM", 20), ("HARD", None)] if old else [("MEDIUM", None)]
            rows += car_laps(2023, rnd, f"D{pos}", stints, sc_laps=(20, 21), last_lap=40, age_before=before, pos=pos)
        races.append({"season": 2023, "round": rnd, "total_laps": 40})
    return pd.DataFrame(rows), pd.DataFrame(races)


def spot(**kw):
    base = dict(kind="SC", lap=19, total_laps=40, position=2, compound="MEDIUM", tyre_age_laps=25.0,
                stops_done=0, dry_compounds_used=1, season=2023)
    return NeutralStopSpot(**{**base, **kw})


def test_fitted_rates_follow_the_data_and_survive_a_round_trip():
    laps, races = many_races()
    rates = NeutralStopRates().fit(laps, races)
    assert rates.fitted and rates.n_spots_ == 320 and 0.2 < rates.base_rate_ < 0.9
    assert rates.rate(spot(tyre_age_laps=29.0)) > 0.8 > 0.2 > rates.rate(spot(tyre_age_laps=19.0))
    assert rates.rate(spot(tyre_age_laps=25.0, position=7)) < rates.rate(spot(tyre_age_laps=25.0, position=2))
    assert rates.rate(spot(compound="INTERMEDIATE")) is None  # wet tyres: no history
    again = NeutralStopRates.from_dict(rates.to_dict())
    spots = [spot(tyre_age_laps=a) for a in (10.0, 20.0, 30.0)]
    np.testing.assert_allclose(again.predict_proba(spots), rates.predict_proba(spots))


def test_too_few_spots_is_not_fitted():
    laps, races = race()
    rates = NeutralStopRates().fit(laps, races)
    assert not rates.fitted and rates.n_spots_ == 5
    assert rates.rate(spot()) is None
    with pytest.raises(NotFittedError, match="not fitted"):
        rates.predict_proba([spot()])
    assert NeutralStopRates.from_dict(None) is None
    # a set saved with other columns is not used by this code
    d = NeutralStopRates().fit(*many_races()).to_dict()
    assert not NeutralStopRates.from_dict({**d, "features": ["sc"]}).fitted


def test_a_tyre_change_under_a_red_flag_is_no_box():
    # A's in-lap 10 was the red flag's: the suspension changed its tyres, the car had stayed out
    laps, races = race()
    stops = pd.DataFrame([{"season": 2023, "round": 1, "driver": "A", "lap": 10, "under_red_flag": True,
                           "session": "race"},
                          {"season": 2023, "round": 1, "driver": "B", "lap": 11, "under_red_flag": False,
                           "session": "race"},
                          {"season": 2023, "round": 1, "driver": "B", "lap": 11, "under_red_flag": True,
                           "session": "sprint"}])  # the sprint's stops are another session's
    t = neutral_stop_table(laps, races, pit_stops=stops).set_index("driver")
    assert t["boxed"].to_dict() == {"A": 0, "B": 1, "C": 0, "D": 0, "E": 0}
    assert neutral_stop_table(laps, races).set_index("driver").loc["A", "boxed"] == 1  # without the table
