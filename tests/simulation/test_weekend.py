"""A sprint weekend's Grand Prix uses the sprint's laps; a new venue says it is new."""

from __future__ import annotations

import numpy as np
import pytest

from f1analyzer.data.files import clean_mask
from f1analyzer.data.ingest import store_laps
from f1analyzer.data.schema import LAP_COLUMNS, conform
from f1analyzer.data.store import RaceStore
from f1analyzer.simulation.scenario.build import build_race
from tests.models.test_fit_race_models import make_race
from tests.simulation.test_build import synthetic_env


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    store, models = synthetic_env(tmp_path_factory.mktemp("weekend"))
    # a sprint on the 2023 Monza weekend (round 1): the first 11 laps of a race, before any stop
    sprint = make_race(np.random.default_rng(11), 2023, 1, "monza", 80.0, False)
    sprint = sprint[sprint["lap_number"] <= 11].copy()
    # strung out 3 s apart, so the laps are free-air laps that say how the tyres wear
    sprint["session_time_s"] += 3.0 * sprint["driver"].rank(method="dense")
    sprint["position"] = sprint.groupby("lap_number")["session_time_s"].rank(method="first").astype(int)
    sprint["is_clean"] = clean_mask(sprint)
    sprint = conform(sprint, LAP_COLUMNS).assign(event="Italian Grand Prix")
    store_laps(store, sprint, season=2023, source="synthetic sprint", session="sprint")
    return store, models


def test_sprint_laps_are_same_weekend_evidence(env):
    store, models = env
    built = build_race(2023, 1, models=models, store=store)
    notes = [n for n in built.notes if "sprint laps as same-weekend evidence" in n]
    assert len(notes) == 1 and notes[0].startswith("used ")
    n_used = int(notes[0].split()[1])
    assert 40 <= n_used <= len(store.laps(2023, 1, session="sprint"))
    # the race itself is what it was: same field, distance and lap-1 grid
    assert built.params.total_laps == int(store.races(2023, 1)["total_laps"].iat[0])
    assert built.confidence_reasons == []


def test_no_sprint_no_weekend_evidence(env):
    store, models = env
    built = build_race(2023, 2, models=models, store=store)
    assert not any("sprint" in n for n in built.notes)


def test_sprint_changes_only_tyres(env, tmp_path):
    store, models = env
    with_sprint = build_race(2023, 1, models=models, store=store)
    bare = RaceStore(tmp_path / "bare")
    for season in (2022, 2023):
        laps = store.laps(season).assign(event=None)
        races = store.races(season).set_index("round")["event"]
        laps["event"] = laps["round"].map(races)
        store_laps(bare, laps.drop(columns=["session"]), season=season, source="copy")
    without = build_race(2023, 1, models=models, store=bare)
    assert without.params.pit_loss_s == with_sprint.params.pit_loss_s
    assert without.params.fuel_effect_s_per_lap == with_sprint.params.fuel_effect_s_per_lap
    tyre = lambda b: {c: (p.pace_offset_s, p.linear_s_per_lap) for c, p in b.params.compounds.items()}  # noqa: E731
    assert tyre(without) != tyre(with_sprint)


@pytest.mark.realdata
def test_real_sprint_weekends(tmp_path, data_dir):
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.models.bundled import load_bundled_models

    store = RaceStore(tmp_path / "store")
    ingest_files([data_dir / "laps" / "2024.csv.gz", data_dir / "sprint" / "2024.csv.gz"], store)
    models = load_bundled_models()
    austria = build_race(2024, "Austrian Grand Prix", models=models, store=store)
    assert any(n.startswith("used ") and "sprint laps as same-weekend evidence" in n for n in austria.notes)
    # the 2024 United States GP is not stored; its weekend's sprint is, and it runs before the race
    usa = build_race(2024, "United States", models=models, store=store)
    assert not usa.stored and any("sprint laps as same-weekend evidence" in n for n in usa.notes)
    monza = build_race(2024, "Monza", models=models, store=store)  # no sprint at Monza in 2024
    assert not any("sprint" in n for n in monza.notes)
    madrid = build_race(2026, "Madrid", models=models, store=store)
    assert madrid.model_circuit == "_new_venue" and madrid.confidence != "high"
    assert any("new to the models" in r for r in madrid.confidence_reasons)
