"""The pre-race answer shows what the top ten did at the circuit before (``field_history``) and
the plan against it (``history_check``), on the synthetic store (Bahrain is round 2 of 2022 and
of 2023; every car one-stops).

No hindsight: the history of race (S, R) is the same whether or not the store also holds the race
itself and the races after it.
"""

from __future__ import annotations

import pytest

from f1analyzer.app import strategy as sv
from f1analyzer.app.history import history_check
from f1analyzer.data.store import RaceStore
from f1analyzer.narration import NarrationRequest
from f1analyzer.narration.numbers import unsupported_numbers
from f1analyzer.narration.strategy import narrate_strategy, narrator_input
from tests.factories import fill_store, strategy_env, strategy_laps

HISTORY_KEYS = {"season", "round", "event", "era", "wet", "total_laps", "stops", "green_stops", "planned_stops",
                "compounds", "median_first_stop_lap", "n_cars"}
CHECK_KEYS = {"season", "round", "event", "field_stops", "field_green_stops", "field_compounds", "field_median_first_stop_lap",
              "plan_stops", "plan_compounds", "plan_first_stop_window", "same_stop_count", "first_stop_vs_window"}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    store, models = strategy_env(tmp_path_factory.mktemp("history"))
    return {"models": models, "store": store}


def _generate(env, event, season: int = 2023, **extra) -> dict:
    return sv.generate_strategy({"season": season, "event": event, "n_sims": 20, "top_k": 2, **extra}, **env)


def test_the_answer_carries_the_earlier_races_at_the_circuit_and_the_check(env):
    out = _generate(env, "Bahrain")
    history = out["field_history"]
    assert [(h["season"], h["round"]) for h in history] == [(2022, 2)]  # not 2023 round 2 itself
    h = history[0]
    assert set(h) == HISTORY_KEYS
    assert (h["event"], h["era"], h["wet"], h["stops"], h["n_cars"], h["total_laps"]) == (
        "Bahrain Grand Prix", "2022+", False, 1, 10, 50)
    assert len(h["compounds"]) == 2 and 12 <= h["median_first_stop_lap"] <= 34
    check = out["history_check"]
    assert set(check) == CHECK_KEYS
    # the check is the pure function on the answer's own rank-1 plan and history
    assert check == history_check(out["strategies"][0], history, "2022+")
    best = out["strategies"][0]
    assert (check["season"], check["field_stops"], check["plan_stops"]) == (2022, 1, best["stops"])
    assert check["plan_first_stop_window"] == (best["pit_windows"][0] if best["pit_windows"] else None)


def test_a_later_race_at_the_circuit_is_never_shown(env):
    # 2022 Bahrain is the first Bahrain of the store: 2023's, stored as well, came after it
    out = _generate(env, "Bahrain", season=2022)
    assert out["field_history"] == [] and out["history_check"] is None


def test_a_future_race_at_a_known_circuit_sees_every_stored_race_there(env):
    out = _generate(env, "bahrain", season=2024)
    assert [(h["season"], h["round"]) for h in out["field_history"]] == [(2023, 2), (2022, 2)]
    assert out["history_check"]["season"] == 2023


def test_field_history_is_the_same_without_the_race_and_the_later_ones(env, tmp_path):
    """The race (2023, 2) and (2023, 3) removed from the store: the race is then a future one at a
    known circuit, and its history must not change."""
    laps = strategy_laps()
    keep = [(s, r) < (2023, 2) for s, r in zip(laps["season"], laps["round"])]
    before_only = RaceStore(tmp_path / "before_only")
    fill_store(before_only, laps[keep].reset_index(drop=True))
    assert sorted(zip(before_only.races()["season"], before_only.races()["round"])) == [
        (2022, 1), (2022, 2), (2022, 3), (2023, 1)]
    full = _generate(env, "bahrain")
    fewer = sv.generate_strategy({"season": 2023, "event": "bahrain", "n_sims": 20, "top_k": 2},
                                 models=env["models"], store=before_only)
    assert fewer["round"] == full["round"] == 2
    assert fewer["field_history"] == full["field_history"] and len(full["field_history"]) == 1
    field = ("season", "round", "event", "field_stops", "field_compounds", "field_median_first_stop_lap")
    assert {k: fewer["history_check"][k] for k in field} == {k: full["history_check"][k] for k in field}


def test_batch_answers_carry_the_same_history(env):
    out = sv.generate_batch([{"season": 2023, "event": "Bahrain", "driver": "D01", "n_sims": 20},
                             {"season": 2023, "event": "bahrain", "driver": "D02", "n_sims": 20},
                             {"season": 2023, "event": "Monza", "n_sims": 20}], **env)
    a, b, monza = out["results"]
    assert out["races_built"] == 2
    assert a["field_history"] == b["field_history"] == _generate(env, "Bahrain")["field_history"]
    assert [(h["season"], h["event"]) for h in monza["field_history"]] == [(2022, "Italian Grand Prix")]
    for r in out["results"]:
        assert r["history_check"] == history_check(r["strategies"][0], r["field_history"], "2022+")


def test_the_narrative_compares_the_plan_with_the_field_and_passes_the_number_check(env):
    out = _generate(env, "Bahrain")
    text = narrate_strategy(out)["narrative"]
    check = out["history_check"]
    assert "At the 2022 Bahrain Grand Prix the top ten mostly made 1 stop (" in text
    lap = check["field_median_first_stop_lap"]
    assert f"first stop around lap {lap:g}" in text
    diff = check["plan_stops"] - check["field_stops"]
    assert ("this plan agrees on the stop count" if diff == 0 else
            f"this plan makes {abs(diff)} {'more' if diff > 0 else 'fewer'} stop") in text
    assert unsupported_numbers(text, NarrationRequest(strategy_result=narrator_input(out))) == []
