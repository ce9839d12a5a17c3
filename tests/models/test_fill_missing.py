"""A model set never knows less than the one it replaces: RaceModels.fill_missing."""

from __future__ import annotations

import pytest

from f1analyzer.config import get_settings
from f1analyzer.models.bundled import load_bundled_models
from f1analyzer.models.race_models import RaceModels
from tests.simulation.test_build import synthetic_laps


def fit(laps) -> RaceModels:
    """RaceModels fitted on some of the synthetic races (see tests/simulation/test_build.py)."""
    from f1analyzer.data.derive import derive_tables
    from tests.simulation.test_build import EVENTS

    laps, _, stops = derive_tables(laps.drop(columns=["event"]))
    key = {rnd: ck for rnd, _, ck, _, _ in EVENTS}
    races = laps.groupby(["season", "round"])["lap_number"].max().rename("total_laps").reset_index()
    races["circuit_key"] = races["round"].map(key)
    return RaceModels().fit(laps, races, stops)


@pytest.fixture(scope="module")
def sets():
    laps = synthetic_laps()
    full = fit(laps)  # 2022-2023, monza/bahrain/hungaroring, two races each
    partial = fit(laps[(laps["season"] == 2023) & (laps["round"] == 1)])  # 2023 Monza only
    early = fit(laps[laps["season"] == 2022])  # one race per circuit, 2022 only
    return full, partial, early


def test_missing_and_thinner_circuits_come_from_the_fallback(sets):
    full, partial, _ = sets
    assert set(partial.circuits_) == {"monza"} and partial.circuits_["monza"].n_races == 1
    own_global = partial.global_.to_dict()
    filled = partial.fill_missing(full, source="the full set")
    assert sorted(filled) == ["bahrain", "hungaroring", "monza"]
    for key in filled:
        cm = partial.circuits_[key]
        assert cm.n_races == full.circuits_[key].n_races == 2
        assert cm.source.startswith("the full set") and "this set had" in cm.source
        assert cm.compounds_by_era  # tyres and fuel came along: no generic fuel effect
        assert cm.fuel_effect_s_per_lap == full.circuits_[key].fuel_effect_s_per_lap
    assert partial.filled_circuits() == {k: partial.circuits_[k].source for k in filled}
    assert partial.global_.to_dict() == own_global  # only circuits are taken
    # filling again changes nothing, and the record survives a save and load
    assert partial.fill_missing(full) == []
    again = RaceModels.from_dict(partial.to_dict())
    assert again.filled_circuits() == partial.filled_circuits()


def test_a_richer_circuit_is_kept(sets):
    full, _, early = sets
    before = full.to_dict()
    assert full.fill_missing(early) == []  # early knows fewer races everywhere
    assert full.to_dict() == before


def test_no_hindsight_from_a_later_fallback(sets):
    full, _, early = sets
    # early (2022) must not borrow circuits fitted on 2023 races
    assert early.fill_missing(full) == []
    assert all(cm.source == "" for cm in early.circuits_.values())


def test_the_bundled_set_fills_a_partial_one(sets):
    _, partial, _ = sets  # seasons [2023]
    bundled = load_bundled_models()
    # circuits the bundled set last saw in 2023 or before are taken; those it saw in 2024 would be
    # hindsight for a set that ends in 2023
    expected = sorted(k for k, cm in bundled.circuits_.items()
                      if max(cm.seasons) <= 2023 and k not in partial.circuits_)
    filled = partial.fill_missing(bundled, source="bundled model set")
    assert expected and sorted(filled) == expected
    assert "marina_bay" not in filled and "sochi" in filled
    assert all(partial.circuits_[k].source.startswith("bundled model set") for k in filled)


@pytest.mark.realdata
def test_quick_training_knows_singapore(data_dir, monkeypatch, f1a_home):
    """After ``train_models.py --quick`` (2023-2024, rounds 1-8) Singapore still has its model."""
    from f1analyzer.config import reset_settings
    from f1analyzer.models.loading import load_model_set
    from f1analyzer.models.training import train

    monkeypatch.setenv("F1_DATA_DIR", str(data_dir))
    reset_settings()
    report = train(get_settings(), 2023, 2024, quick=True)
    assert "marina_bay" in report.filled_circuits
    rm = load_model_set(get_settings()).race_models
    assert 18 not in report.rounds[2024]  # Singapore 2024 (round 18) was not in the quick training
    sg = rm.circuit("Singapore")
    assert sg.key == "marina_bay" and sg.n_races >= 4 and sg.source.startswith("bundled model set")
    assert sg.fuel_effect_s_per_lap != rm.global_.fuel_effect_s_per_lap


def test_sc_stop_rates_come_from_a_fallback_that_saw_more_spots_and_no_later_season():
    """The advisor's field history (models.neutral_stops) is filled like a circuit: a set with too
    few SC/VSC starts to fit its own takes the fallback's, never one fitted on later seasons."""
    laps = synthetic_laps()
    full = fit(laps)  # 80 spots: fitted
    partial = fit(laps[(laps["season"] == 2023) & (laps["round"] == 1)])  # 20 spots: not
    early = fit(laps[laps["season"] == 2022])  # 40 spots, 2022 only
    assert full.neutral_stops_.fitted and not partial.neutral_stops_.fitted and not early.neutral_stops_.fitted
    partial.fill_missing(full, source="the full set")
    assert partial.neutral_stops_.coef_ == full.neutral_stops_.coef_
    assert partial.neutral_stops_.source_ == f"the full set ({full.neutral_stops_.n_spots_} SC/VSC spots)"
    again = RaceModels.from_dict(partial.to_dict())
    assert again.neutral_stops_.source_ == partial.neutral_stops_.source_
    # a set trained on 2022 alone takes nothing from one that saw 2023 (no hindsight) ...
    early.fill_missing(full)
    assert not early.neutral_stops_.fitted
    # ... and a set with more spots of its own keeps them
    mine = full.neutral_stops_.to_dict()
    full.fill_missing(partial)
    assert full.neutral_stops_.to_dict() == mine and mine["source"] == ""
