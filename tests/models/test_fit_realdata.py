"""RaceModels on the real 2018–2024 laps: physical sanity of the fitted values, and the bundle."""

from __future__ import annotations

import json

import pytest

from f1analyzer.data.ingest import ingest_files
from f1analyzer.data.store import RaceStore
from f1analyzer.models import RaceModels, load_bundled_models
from f1analyzer.models.bundled import BUNDLED_DIR, BUNDLED_RACE_MODELS

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def real(data_dir, tmp_path_factory):
    store = RaceStore(tmp_path_factory.mktemp("store"))
    results = ingest_files([data_dir / "laps"], store)
    assert all(r.ok for r in results)
    races = store.races()
    return RaceModels().fit(store.laps(), races, store.pit_stops()), races


def own_pairs(models: RaceModels, era: str | None = None):
    """(softer, harder) own-fit tyre models of every circuit and era (or of ``era``)."""
    for cm in models.circuits_.values():
        for e, comps in cm.compounds_by_era.items():
            if era is not None and e != era:
                continue
            own = {k: v for k, v in comps.items() if v.own_fit}
            for soft, hard in (("SOFT", "MEDIUM"), ("MEDIUM", "HARD"), ("SOFT", "HARD")):
                if soft in own and hard in own:
                    yield own[soft], own[hard]


def test_every_circuit_has_a_model(real):
    models, races = real
    assert set(models.circuits_) == set(races["circuit_key"])
    assert models.seasons_ == list(range(2018, 2025))


def test_degradation_positive_for_most_pairs(real):
    models, _ = real
    own = [m for cm in models.circuits_.values() for comps in cm.compounds_by_era.values()
           for m in comps.values() if m.own_fit]
    assert len(own) > 100
    positive = sum(float(m.deg_s(20.0)) > 0 for m in own)
    assert positive / len(own) >= 0.85


def test_softer_is_faster_and_wears_faster_at_most_circuits(real):
    """The pooled compound fit (models.tyre_pool): ordered as fitted for ground-effect cars; before
    2022 the laps show no wear step between compounds (docs/MODELS.md), so only fresh pace is
    asserted over both eras."""
    pairs = list(own_pairs(real[0]))
    assert len(pairs) > 80
    faster = sum(s.pace_offset_s < h.pace_offset_s for s, h in pairs) / len(pairs)
    assert faster > 0.6
    recent = list(own_pairs(real[0], "2022+"))
    assert len(recent) > 30
    assert sum(s.pace_offset_s < h.pace_offset_s for s, h in recent) / len(recent) > 0.85
    assert sum(float(s.deg_s(20.0)) > float(h.deg_s(20.0)) for s, h in recent) / len(recent) > 0.85


def test_fuel_pit_loss_and_neutralisations_plausible(real):
    models, _ = real
    ordinary = [cm for cm in models.circuits_.values() if cm.n_pit_stops >= 20]
    in_range = [cm for cm in ordinary if 15 <= cm.pit_loss_s <= 30]
    assert len(in_range) >= 0.9 * len(ordinary)
    for cm in models.circuits_.values():
        assert 0.015 < cm.fuel_effect_s_per_lap < 0.13, cm.key
        # fitted from the data (pre-neutralisation gaps, shrunk to the pooled ratio), no override
        assert cm.pit_loss_sc_s < cm.pit_loss_vsc_s < cm.pit_loss_s, cm.key
        assert cm.pit_loss_constrained == [], cm.key
        if cm.n_sc_stops >= 3:
            assert cm.pit_loss_sc_s <= 0.7 * cm.pit_loss_s, cm.key
        assert 0 < cm.sc.p_at_least_one < 1 and 0 < cm.vsc.p_at_least_one < 1
        assert 0 < cm.retirement_prob < 0.4
    # Monaco is the hardest place to pass
    assert models.circuit("monaco").overtake_threshold_s > models.global_.overtake_threshold_s + 0.5
    g = models.global_
    assert g.passing_pace_coef_per_s > 0.5 and g.passing_n_pairs > 5000
    assert models.circuit("monaco").passing_circuit_effect < -0.8
    assert min(cm.passing_circuit_effect for cm in models.circuits_.values()) == \
        models.circuit("monaco").passing_circuit_effect


def test_held_up_followers_sit_in_dirty_air_and_ground_effect_cars_follow_closer(real):
    models, _ = real
    held = models.global_.held_gap_by_era
    assert set(held) == {"pre-2022", "2022+"}
    median = {e: (q[4] + q[5]) / 2 for e, q in held.items()}
    # not on the gearbox (the old fixed 0.25 s) and mostly inside the DRS window
    assert all(0.4 < m < 0.9 for m in median.values()), median
    assert all(q[0] > 0.15 and q[-1] < 2.0 for q in held.values()), held
    # the 2022 rules were written so that cars can follow closer: the data agree
    assert median["2022+"] < median["pre-2022"] - 0.05, median


def test_driver_pace_is_pre_race(real):
    models, _ = real
    before = models.driver_pace(2023, round=10)
    assert min(before, key=before.get) == "VER"
    assert models.pace_[(models.pace_["season"] == 2023)]["round"].max() > 10
    assert models.driver_pace(2023, round=1) == pytest.approx(
        {d: v for d, v in models.driver_pace(2022).items()})


def test_bundle_matches_a_fresh_fit(real):
    models, _ = real
    bundled = load_bundled_models()
    assert set(bundled.circuits_) == set(models.circuits_)
    assert BUNDLED_RACE_MODELS.stat().st_size < 1_000_000
    assert "Armchair Strategist (Apache-2.0)" in (BUNDLED_DIR / "README.md").read_text()
    assert json.loads(BUNDLED_RACE_MODELS.read_text())["format"] == 1
    assert bundled.circuit("monza").pit_loss_s == pytest.approx(models.circuit("monza").pit_loss_s, abs=0.5)


def test_neutralisation_stop_rates_are_fitted_and_sensible(real):
    """The advisor's field history (models.neutral_stops) on 2018–2024: a SC stop is more common
    than a VSC one, old tyres box more than fresh ones, a car still owing its second compound boxes
    more; the rates persist with the race models."""
    from f1analyzer.models.neutral_stops import NeutralStopSpot

    rates = real[0].neutral_stops_
    assert rates.fitted and rates.n_spots_ > 1500 and 0.15 < rates.base_rate_ < 0.4

    def p(**kw):
        base = dict(kind="SC", lap=30, total_laps=57, position=5, compound="MEDIUM", tyre_age_laps=20.0,
                    stops_done=0, dry_compounds_used=1, season=2023)
        return rates.rate(NeutralStopSpot(**{**base, **kw}))

    assert p() > 0.5 > p(kind="VSC", tyre_age_laps=5.0, stops_done=1, dry_compounds_used=2)
    assert p(kind="SC") > p(kind="VSC")
    assert p(tyre_age_laps=25.0) > p(tyre_age_laps=5.0)
    assert p(dry_compounds_used=1) > p(dry_compounds_used=2, stops_done=1)
    again = RaceModels.from_dict(json.loads(json.dumps(real[0].to_dict())))
    assert again.neutral_stops_.to_dict() == rates.to_dict()
