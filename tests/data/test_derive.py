"""Stints and pit stops derived from laps: what counts as a stop (FastF1 issue 717)."""

from __future__ import annotations

import numpy as np
import pytest

from f1analyzer.data.derive import classification, derive_tables, find_stops, red_flag_changes
from f1analyzer.data.files import to_canonical_laps
from f1analyzer.data.schema import PIT_STOP_COLUMNS, STINT_COLUMNS

from .frames import N_LAPS, race_frame, season_frame


@pytest.fixture
def derived():
    laps, _ = to_canonical_laps(race_frame(), season=2024)
    return derive_tables(laps.drop(columns=["event"]))


def test_tables_have_the_contract_columns(derived):
    laps, stints, stops = derived
    assert list(stints.columns) == list(STINT_COLUMNS)
    assert list(stops.columns) == list(PIT_STOP_COLUMNS)
    assert len(laps) == 3 * N_LAPS


def test_normal_stop(derived):
    _, stints, stops = derived
    s = stops[stops["driver"] == "AAA"]
    assert len(s) == 1
    row = s.iloc[0]
    assert (row["lap"], row["stop_number"], row["compound_before"], row["compound_after"]) == (4, 1, "SOFT", "HARD")
    # pit-in 2 s before the in-lap ended, pit-out 5 s after the out-lap started
    assert row["duration_s"] == pytest.approx(7.0)
    assert not (row["under_sc"] or row["under_vsc"] or row["under_red_flag"])
    st = stints[stints["driver"] == "AAA"]
    assert st[["stint", "compound", "start_lap", "end_lap", "laps"]].values.tolist() == [
        [1, "SOFT", 1, 4, 4], [2, "HARD", 5, 10, 6]]
    assert st["tyre_life_start"].tolist() == [3.0, 1.0]


def test_drive_through_under_sc_without_tyre_change_is_not_a_stop(derived):
    laps, stints, stops = derived
    assert stops[stops["driver"] == "BBB"].empty
    bbb = laps[laps["driver"] == "BBB"]
    # FastF1 started stint 2 after the drive-through; the stints are renumbered from the stops
    assert (bbb["stint"] == 1).all()
    assert bbb.loc[bbb["lap_number"] == 6, "pit_in"].item()
    st = stints[stints["driver"] == "BBB"]
    assert st[["stint", "start_lap", "end_lap"]].values.tolist() == [[1, 1, 10]]


def test_red_flag_tyre_change_is_a_stop_without_duration(derived):
    _, stints, stops = derived
    s = stops[stops["driver"] == "CCC"]
    assert len(s) == 1
    row = s.iloc[0]
    assert row["lap"] == 3 and row["under_red_flag"]
    assert (row["compound_before"], row["compound_after"]) == ("MEDIUM", "HARD")
    assert np.isnan(row["duration_s"])
    assert stints[stints["driver"] == "CCC"]["start_lap"].tolist() == [1, 4]
    # the one rule the plans and the field's SC/VSC habit read: CCC's change is no pit stop
    season, rnd = int(row["season"]), int(row["round"])
    assert red_flag_changes(stops) == {(season, rnd, "CCC", 3)}
    assert red_flag_changes(stops.assign(session="sprint")) == set()  # a sprint's changes are its own
    assert red_flag_changes(None) == set() and red_flag_changes(stops.drop(columns="under_red_flag")) == set()


def test_stop_numbers_and_stints_agree_over_many_races():
    laps, _ = to_canonical_laps(season_frame(), season=2024)
    laps, stints, stops = derive_tables(laps.drop(columns=["event"]))
    assert len(stops) == 3 * 2
    per_driver_race = stints.groupby(["round", "driver"]).size()
    stops_per = stops.groupby(["round", "driver"]).size().reindex(per_driver_race.index, fill_value=0)
    assert (per_driver_race == stops_per + 1).all()


def test_same_compound_fresh_set_is_a_stop():
    df = race_frame()
    aaa = df["Driver"] == "AAA"
    df.loc[aaa, "Compound"] = "SOFT"  # SOFT → SOFT, but a new set (tyre life restarts)
    laps, _ = to_canonical_laps(df, season=2024)
    _, _, stops = derive_tables(laps.drop(columns=["event"]))
    s = stops[stops["driver"] == "AAA"]
    assert s[["lap", "compound_before", "compound_after"]].values.tolist() == [[4, "SOFT", "SOFT"]]


def test_pit_under_safety_car_with_tyre_change_is_flagged():
    df = race_frame()
    # move AAA's stop into the SC period: in on lap 6, out on lap 7
    aaa = df["Driver"] == "AAA"
    lap = df["LapNumber"].astype(float)
    df.loc[aaa, "Compound"] = np.where(lap[aaa] <= 6, "SOFT", "HARD")
    df.loc[aaa, "TyreLife"] = np.where(lap[aaa] <= 6, lap[aaa] + 2, lap[aaa] - 6).astype(str)
    df.loc[aaa, "PitInTime"] = np.where(lap[aaa] == 6, df.loc[aaa, "Time"], "")
    df.loc[aaa, "PitOutTime"] = np.where(lap[aaa] == 7, df.loc[aaa, "Time"], "")
    laps, _ = to_canonical_laps(df, season=2024)
    stops = derive_tables(laps.drop(columns=["event"]))[2]
    row = stops[stops["driver"] == "AAA"].iloc[0]
    assert row["lap"] == 6 and row["under_sc"] and not row["under_red_flag"]


def test_find_stops_empty_frame():
    laps, _ = to_canonical_laps(race_frame(), season=2024)
    empty = laps.iloc[0:0].drop(columns=["event"])
    assert find_stops(empty).empty
    _, stints, stops = derive_tables(empty)
    assert stints.empty and stops.empty


def test_classification_orders_by_laps_then_time():
    df = race_frame()
    # AAA retires after lap 7 (CCC's red-flag lap makes it the last to finish)
    df = df[~((df["Driver"] == "AAA") & (df["LapNumber"].astype(float) > 7))]
    laps, _ = to_canonical_laps(df, season=2024)
    res = classification(laps)
    assert res["driver"].tolist() == ["BBB", "CCC", "AAA"]
    assert res["position"].tolist() == [1, 2, 3]
    assert res.set_index("driver")["finished"].to_dict() == {"AAA": False, "BBB": True, "CCC": True}
