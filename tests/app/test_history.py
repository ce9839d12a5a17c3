"""history_check: the recommended plan against the newest dry earlier race of the same car era
(plain dicts in and out; the answer's wiring is tested in test_strategy_history.py)."""

from __future__ import annotations

import pytest

from f1analyzer.app.history import comparable_race, first_stop_vs_window, history_check


def _race(season: int, *, era: str = "2022+", wet: bool = False, stops: int | None = 2,
          compounds=("SOFT", "HARD", "HARD"), first: float | None = 14.0, rnd: int = 1) -> dict:
    """One ``field_history`` entry as :func:`venue_history` writes it."""
    return {"season": season, "round": rnd, "event": "Bahrain Grand Prix", "era": era, "wet": wet,
            "total_laps": 57, "stops": stops, "green_stops": stops, "compounds": list(compounds),
            "median_first_stop_lap": first, "n_cars": 10}


ONE_STOP = {"rank": 1, "stops": 1, "compounds": ["MEDIUM", "HARD"], "pit_laps": [21], "pit_windows": [[18, 24]]}


def test_different_stop_count_and_a_field_that_stopped_before_the_window():
    check = history_check(ONE_STOP, [_race(2023), _race(2022, stops=1, first=20.0)], "2022+")
    assert check == {
        "season": 2023, "round": 1, "event": "Bahrain Grand Prix",
        "field_stops": 2, "field_green_stops": 2, "field_compounds": ["SOFT", "HARD", "HARD"],
        "field_median_first_stop_lap": 14.0,
        "plan_stops": 1, "plan_compounds": ["MEDIUM", "HARD"], "plan_first_stop_window": [18, 24],
        "same_stop_count": False, "first_stop_vs_window": "before",
    }


def test_same_stop_count_inside_the_window():
    check = history_check(ONE_STOP, [_race(2023, stops=1, compounds=("MEDIUM", "HARD"), first=20.5)], "2022+")
    assert check["same_stop_count"] is True and check["first_stop_vs_window"] == "inside"
    assert (check["field_stops"], check["field_median_first_stop_lap"]) == (1, 20.5)


def test_a_field_that_stopped_after_the_window():
    check = history_check(ONE_STOP, [_race(2023, stops=1, first=27.0)], "2022+")
    assert check["first_stop_vs_window"] == "after" and check["same_stop_count"] is True


@pytest.mark.parametrize("lap, side", [(17.5, "before"), (18, "inside"), (24, "inside"), (24.5, "after"),
                                       (None, None)])
def test_first_stop_against_the_window_edges(lap, side):
    assert first_stop_vs_window(lap, [18, 24]) == side
    assert first_stop_vs_window(lap, None) is None


def test_wet_races_are_skipped_for_the_newest_dry_one():
    history = [_race(2024, wet=True, stops=3, first=9.0), _race(2023, stops=1, first=19.0)]
    check = history_check(ONE_STOP, history, "2022+")
    assert check["season"] == 2023 and check["field_stops"] == 1 and check["first_stop_vs_window"] == "inside"


def test_no_dry_race_of_the_same_era_gives_none():
    older_era = [_race(2021, era="pre-2022"), _race(2019, era="pre-2022")]
    assert history_check(ONE_STOP, older_era, "2022+") is None
    assert history_check(ONE_STOP, [_race(2023, wet=True)], "2022+") is None
    assert history_check(ONE_STOP, [], "2022+") is None
    # the same races answer a pre-2022 plan
    assert history_check(ONE_STOP, older_era, "pre-2022")["season"] == 2021
    # a race whose modal stop count is unknown (no classified car read) says nothing either
    assert comparable_race([_race(2023, stops=None)], "2022+") is None


def test_no_plan_gives_none_and_a_no_stop_plan_has_no_window():
    assert history_check(None, [_race(2023)], "2022+") is None
    no_stop = {"rank": 1, "stops": 0, "compounds": ["INTERMEDIATE"], "pit_laps": [], "pit_windows": []}
    check = history_check(no_stop, [_race(2023, first=None)], "2022+")
    assert check["plan_first_stop_window"] is None and check["first_stop_vs_window"] is None
    assert (check["plan_stops"], check["same_stop_count"]) == (0, False)


def test_the_input_is_not_changed():
    history = [_race(2023)]
    before = [dict(h) for h in history]
    check = history_check(ONE_STOP, history, "2022+")
    check["field_compounds"].append("SOFT")
    assert history == before


def test_stops_under_a_neutralisation_are_counted_apart():
    red_flag = {**_race(2023, stops=3, compounds=("MEDIUM", "MEDIUM", "HARD", "SOFT"), first=1.0), "green_stops": 1}
    check = history_check(ONE_STOP, [red_flag], "2022+")
    assert (check["field_stops"], check["field_green_stops"]) == (3, 1)
    assert history_check(ONE_STOP, [{**_race(2023), "green_stops": None}], "2022+")["field_green_stops"] is None
