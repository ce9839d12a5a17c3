"""A fresh install: no race stored, only the bundled model set (no F1_DATA_DIR needed).

The field, the distance and the driver pace come from the models (``simulation/field.py``), so
``/strategy/generate`` answers for Monza 2024 instead of "run `f1analyzer ingest` first".
"""

from __future__ import annotations

import pytest

from f1analyzer.data.store import RaceStore
from f1analyzer.errors import NotFoundError
from f1analyzer.models.bundled import load_bundled_models
from f1analyzer.simulation.scenario.build import build_race
from f1analyzer.simulation.scenario.field import model_calendar
from f1analyzer.app.strategy import generate_strategy

DRY = {"SOFT", "MEDIUM", "HARD"}


@pytest.fixture(scope="module")
def models():
    return load_bundled_models()


@pytest.fixture
def empty_store(tmp_path):
    store = RaceStore(tmp_path / "store")
    assert store.races().empty
    return store


def test_bundled_calendar_matches_the_models(models):
    cal = model_calendar(models)
    raced = set(zip(cal["season"], cal["round"]))
    # every race with a pace row is in the calendar (wet races may have no dry pace rows)
    assert set(zip(models.pace_["season"], models.pace_["round"])) <= raced
    monza = cal[(cal["season"] == 2024) & (cal["circuit_key"] == "monza")]
    assert list(monza["event"]) == ["Italian Grand Prix"]


def test_generate_monza_2024_from_the_model_set(models, empty_store):
    out = generate_strategy({"season": 2024, "event": "Monza", "driver": "LEC", "grid": 4, "n_sims": 40, "top_k": 3},
                            models=models, store=empty_store)
    laps = models.circuits_["monza"].total_laps
    assert (out["season"], out["event"], out["circuit_key"], out["driver"], out["grid"]) == (
        2024, "Italian Grand Prix", "monza", "LEC", 4)
    assert out["total_laps"] == laps and out["n_cars"] == 20
    assert out["model"]["grid_source"] == "pace_order" and out["model"]["circuit_model"] == "monza"
    assert any("no laps are stored" in n and "model set" in n for n in out["notes"])
    assert out["strategies"]
    for s in out["strategies"]:
        assert s["stops"] >= 1 and len(set(s["compounds"]) & DRY) >= 2
        assert set(s["compounds"]) <= DRY
        assert all(1 <= lap < laps for lap in s["pit_laps"])
        assert s["pit_laps"] == sorted(s["pit_laps"])


def test_field_comes_from_the_race_in_the_pace_table(models, empty_store):
    built = build_race(2024, "Italian GP", models=models, store=empty_store, driver="LEC", grid=4)
    assert (built.round, built.stored, built.grid_of("LEC")) == (16, False, 4)
    pace = models.pace_
    raced = set(pace[(pace["season"] == 2024) & (pace["round"] == 16)]["driver"])
    assert raced <= set(built.drivers) and {"VER", "NOR", "LEC", "PIA", "HAM"} <= set(built.drivers)
    teams = [c.team for c in built.params.cars]
    assert all(teams.count(t) == 2 for t in teams)
    assert sorted(c.grid_position for c in built.params.cars) == list(range(1, 21))


def test_round_number_and_later_or_future_events(models, empty_store):
    assert build_race(2024, "14", models=models, store=empty_store).circuit_key == "spa"
    # not in the models' 2024 data: the season's latest race gives the field
    vegas = build_race(2024, "Las Vegas", models=models, store=empty_store)
    assert vegas.circuit_key == "vegas" and vegas.params.total_laps == models.circuits_["vegas"].total_laps
    assert any("2024 round 18" in n for n in vegas.notes)
    # a race of the calendar without pace rows: the season's latest race before it
    british = build_race(2024, "Silverstone", models=models, store=empty_store)
    assert (british.round, british.event) == (12, "British Grand Prix")
    assert any("2024 round 11" in n for n in british.notes)
    # a season after the models: the latest season's field, round 1
    future = build_race(2026, "Monza", models=models, store=empty_store)
    assert future.round == 1 and future.params.n_cars >= 18


def test_unknown_circuit_suggests_known_ones(models, empty_store):
    with pytest.raises(NotFoundError) as e:
        build_race(2024, "Monzza", models=models, store=empty_store)
    assert "monza" in e.value.details["suggestions"] and "Did you mean" in e.value.message
    with pytest.raises(NotFoundError) as e:
        build_race(2024, "Atlantis", models=models, store=empty_store)
    assert "monza" in e.value.message and "silverstone" in e.value.details["options"]
    with pytest.raises(NotFoundError, match="Round 30 of 2024.*Known circuits"):
        build_race(2024, 30, models=models, store=empty_store)


def test_unknown_driver_lists_the_field(models, empty_store):
    with pytest.raises(NotFoundError) as e:
        generate_strategy({"season": 2024, "event": "Monza", "driver": "XYZ"}, models=models, store=empty_store)
    msg = e.value.message
    assert "Drivers in this race" in msg and "LEC" in msg and "VER" in msg
    assert "LEC" in e.value.details["options"]


def test_models_without_a_calendar(tmp_path, empty_store):
    """Models fitted on other data (here: the synthetic store) take no bundled calendar."""
    from tests.simulation.test_build import synthetic_env

    _, models = synthetic_env(tmp_path / "synth")
    assert model_calendar(models).empty
    built = build_race(2023, "Monza", models=models, store=empty_store, driver="D03", grid=2)
    assert (built.circuit_key, built.round, built.params.n_cars, built.grid_of("D03")) == ("monza", 4, 20, 2)
    with pytest.raises(NotFoundError, match="Known circuits: bahrain, hungaroring, monza"):
        build_race(2023, 1, models=models, store=empty_store)


def test_api_generate_on_an_empty_home(tmp_path):
    """``make run`` with an empty F1A_HOME: the app's own model set (the bundled one) and store."""
    from fastapi.testclient import TestClient

    from f1analyzer.api.main import create_app
    from f1analyzer.config import settings_with_home

    # the first answer shares the CPU with the start-up index build (and, in CI, another test
    # worker): this test is about which models and store an empty home uses, not the deadline
    settings = settings_with_home(tmp_path / "home").model_copy(update={"request_deadline_s": 240.0})
    with TestClient(create_app(settings)) as client:
        r = client.post("/strategy/generate",
                        json={"season": 2024, "event": "Monza", "driver": "LEC", "grid": 4, "n_sims": 40})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["event"], body["driver"], body["grid"], body["n_cars"]) == ("Italian Grand Prix", "LEC", 4, 20)
        assert body["strategies"] and any("model set" in n for n in body["notes"])
        bad = client.post("/strategy/generate", json={"season": 2024, "event": "Atlantis"})
        assert bad.status_code == 404 and "monza" in bad.json()["error"]["message"]
