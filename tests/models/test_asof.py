"""As-of race models: a pre-race answer never sees its race or a later one (issue 11, problem 5).

The test of record: the pre-race answer for a race is identical whether or not the store holds
that race's running (its laps after the start are changed) and the races after it — the models
it used, its plan, its ``field_history`` (what the top ten did at the circuit before) and its
narrative.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from f1analyzer.config import reset_settings
from f1analyzer.data.ingest import store_laps
from f1analyzer.data.store import RaceStore
from f1analyzer.errors import DataValidationError
from f1analyzer.models.race_models import RaceModels
from f1analyzer.models.asof import describe_cutoff, fingerprint, models_as_of, races_before
from f1analyzer.app import strategy as sv
from f1analyzer.narration.strategy import narrate_strategy
from tests.simulation.test_build import synthetic_env


def copy_store(src: RaceStore, root: Path, cutoff: tuple[int, int]) -> RaceStore:
    """``src`` without the races after ``cutoff`` and with the running of the ``cutoff`` race
    itself changed (every lap after the first 5 s slower): only what was known before it
    (its entry list, grid and start tyres: lap 1) is left as it was."""
    dst = RaceStore(root)
    races = src.races()
    for season in src.seasons():
        laps = pd.DataFrame(src.laps(season))
        key = list(zip(laps["season"].astype(int), laps["round"].astype(int)))
        laps = laps[[k <= cutoff for k in key]].copy()
        if laps.empty:
            continue
        own = (laps["season"] == cutoff[0]) & (laps["round"] == cutoff[1]) & (laps["lap_number"] > 1)
        laps.loc[own, "lap_time_s"] = laps.loc[own, "lap_time_s"] + 5.0
        laps = laps.merge(races[["season", "round", "event"]], on=["season", "round"])
        store_laps(dst, laps.reset_index(drop=True), season=int(season), source="copy")
    return dst


def _narrate(result: dict) -> dict:
    story = narrate_strategy(result)
    return {**result, **{k: story[k] for k in ("narrative", "sources", "provider")}}


def answer(store: RaceStore, models, home: Path, monkeypatch, season: int, event, driver: str) -> dict:
    """The pre-race answer with a fresh home (no shared as-of cache) and its narrative."""
    monkeypatch.setenv("F1A_HOME", str(home))
    reset_settings()
    out = sv.generate_strategy({"season": season, "event": event, "driver": driver, "n_sims": 60,
                                "top_k": 2}, models=models, store=store,
                               narrate=_narrate)
    out.pop("latency_ms")
    out["model"]["data_used"].pop("source")
    out["model"]["data_used"].pop("fit_seconds", None)
    out["data_used"].pop("source")
    out["data_used"].pop("fit_seconds", None)
    return json.loads(json.dumps(out))


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return synthetic_env(tmp_path_factory.mktemp("asof"))


def test_races_before_and_the_fingerprint_ignore_later_races(synth, tmp_path):
    store, _ = synth
    before = races_before(store, 2023, 2)
    assert sorted(zip(before["season"], before["round"])) == [(2022, 1), (2022, 2), (2022, 3), (2023, 1)]
    assert describe_cutoff(before, 2023) == "seasons 2022 + 2023 round 1"
    fewer = copy_store(store, tmp_path / "b", (2023, 2))
    assert fingerprint(races_before(fewer, 2023, 2)) == fingerprint(before)
    assert fingerprint(races_before(store, 2023, 3)) != fingerprint(before)


def test_as_of_models_are_cached_and_honest_models_are_kept(synth, tmp_path):
    store, models = synth
    fitted, used = models_as_of(store, 2023, 2, models=models, cache_dir=tmp_path)
    assert used["source"] == "as_of_fit" and used["cutoff"] == {"season": 2023, "round": 2}
    assert sorted(fitted.seasons_) == [2022, 2023] and used["fit_seconds"] > 0
    again, used2 = models_as_of(store, 2023, 2, models=models, cache_dir=tmp_path)
    assert used2["source"] == "as_of_cache" and again.to_dict() == fitted.to_dict()
    # models that never saw the season are honest already: used as they are
    early, _ = models_as_of(store, 2023, 1, cache_dir=None)
    kept, used3 = models_as_of(store, 2023, 1, models=early, cache_dir=tmp_path)
    assert kept is early and used3["source"] == "given"


def test_pre_race_answer_is_the_same_without_the_race_and_later_ones(synth, tmp_path, monkeypatch):
    store, models = synth
    fewer = copy_store(store, tmp_path / "fewer", (2023, 2))
    assert fewer.seasons() == [2022, 2023] and list(fewer.races(2023)["round"]) == [1, 2]
    # each store comes with models fitted on all of it (the current set a user would have): the
    # answers can only agree when neither set is used as it is
    hindsight_b = RaceModels().fit(fewer.laps(), fewer.races(), fewer.pit_stops())
    assert hindsight_b.to_dict()["circuits"] != models.to_dict()["circuits"]
    a = answer(store, models, tmp_path / "home_a", monkeypatch, 2023, 2, "D04")
    b = answer(fewer, hindsight_b, tmp_path / "home_b", monkeypatch, 2023, 2, "D04")
    # the model block names the model set the service holds (it differs: each store has its own
    # current set); everything the answer says comes from the as-of fit and must agree
    assert (a["model"].pop("version"), b["model"].pop("version")) == (models.data_hash_, hindsight_b.data_hash_)
    assert a == b
    assert a["model"]["data_used"]["models_fitted_on"] == "seasons 2022 + 2023 round 1"
    assert "saw seasons 2022 + 2023 round 1 only" in a["narrative"]
    # the field's habit at the circuit comes from the earlier races only (2022 Bahrain), and the
    # narrative that compares the plan with it is the same too (a == b)
    assert [(h["season"], h["round"]) for h in a["field_history"]] == [(2022, 2)]
    assert a["history_check"]["season"] == 2022
    assert "At the 2022 Bahrain Grand Prix the top ten mostly made" in a["narrative"]


@pytest.mark.realdata
def test_pre_race_answer_without_hindsight_on_real_races(data_dir, tmp_path, monkeypatch):
    from f1analyzer.data.files import read_lap_file
    from f1analyzer.models.bundled import load_bundled_models

    store = RaceStore(tmp_path / "full")
    for season, rounds in ((2018, range(1, 5)), (2019, range(1, 5))):
        laps, _ = read_lap_file(data_dir / "laps" / f"{season}.csv.gz", season=season)
        laps = laps[laps["round"].isin(list(rounds))].reset_index(drop=True)
        store_laps(store, laps, season=season, source="test")
    fewer = copy_store(store, tmp_path / "fewer", (2019, 3))
    bundled = load_bundled_models()  # saw 2019 and later: the as-of set replaces it
    a = answer(store, bundled, tmp_path / "home_a", monkeypatch, 2019, 3, "HAM")
    b = answer(fewer, bundled, tmp_path / "home_b", monkeypatch, 2019, 3, "HAM")
    assert a == b
    assert a["event"] == "Chinese Grand Prix"
    assert [h["season"] for h in a["field_history"]] == [2018]  # 2018 China; not 2019's own race
    assert a["model"]["data_used"]["models_fitted_on"] == "seasons 2018 + 2019 rounds 1-2"
    assert a["model"]["training_seasons"] == [2018, 2019]


def test_no_earlier_race_answers_with_the_given_set_and_says_it_saw_the_race(synth, tmp_path):
    store, models = synth
    given, used = models_as_of(store, 2022, 1, models=models, cache_dir=tmp_path)
    assert given is models and used["hindsight"] and used["cutoff"] is None
    assert "this race included" in used["models_fitted_on"]
    with pytest.raises(DataValidationError, match="Ingest earlier seasons"):
        models_as_of(store, 2022, 1, cache_dir=tmp_path)
    _, thin = models_as_of(store, 2023, 2, models=models, cache_dir=tmp_path)
    assert thin["thin"] and thin["races"] == 4
