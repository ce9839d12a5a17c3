"""RaceParams from fitted models and the store: synthetic store + models fitted on it, and real data.

:func:`synthetic_env` builds a small store (seasons 2022-2023, three circuits, 20 cars, 50 laps,
known tyre/fuel/pit parameters; see ``tests/models/test_fit_race_models.py``) and fits
:class:`RaceModels` on it; the other strategy tests import it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from f1analyzer.data.files import clean_mask
from f1analyzer.data.ingest import store_laps
from f1analyzer.data.schema import LAP_COLUMNS, conform
from f1analyzer.data.store import RaceStore
from f1analyzer.errors import InvalidRequestError, NotFoundError
from f1analyzer.models.race_models import RaceModels
from f1analyzer.models.safety_car import SafetyCarModel
from f1analyzer.models.tyres import TyreModel
from f1analyzer.simulation import optimise
from f1analyzer.simulation.scenario.build import (
    WET_COMPOUNDS,
    build_race,
    compound_params,
    neutralisation_params,
    race_params_for,
    regrid,
)
from tests.factories import EVENTS, SEASONS, strategy_env, strategy_laps  # noqa: F401 - re-exported
from tests.models.test_fit_race_models import TOTAL_LAPS

#: (round, event, circuit key, base lap s, safety car?)
# the synthetic seasons live in tests/factories.py (shared by the strategy, app and API suites)
synthetic_laps = strategy_laps
synthetic_env = strategy_env


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return synthetic_env(tmp_path_factory.mktemp("synth"))


# ------------------------------------------------------------------------------ conversions
def test_compound_params_from_tyre_models():
    cliff = TyreModel("HARD", curve="cliff", coef_s=[0.03, 0.0], cliff_lap=19.6, cliff_slope_s=0.25,
                      pace_offset_s=0.4)
    cp = compound_params(cliff)
    assert (cp.name, cp.cliff_lap, cp.cliff_slope_s_per_lap, cp.pace_offset_s) == ("HARD", 20, 0.25, 0.4)
    ages = np.arange(40)
    np.testing.assert_allclose(cp.lap_delta_s(ages), 0.4 + 0.03 * ages + 0.25 * np.maximum(ages - 20, 0))
    quad = compound_params(TyreModel("SOFT", curve="quadratic", coef_s=[0.05, 0.002], pace_offset_s=-0.5))
    assert (quad.quadratic_s_per_lap2, quad.cliff_lap) == (0.002, None)
    neg = compound_params(TyreModel("MEDIUM", coef_s=[-0.01, 0.0]))  # a fitted "improving" tyre
    assert neg.linear_s_per_lap == 0.0
    neg.validate()


def test_neutralisation_params_from_safety_car_model():
    sc = SafetyCarModel(p_at_least_one=0.6, count_probs=[0.4, 0.45, 0.12, 0.03],
                        start_fraction_hist=[0.3] + [0.7 / 9] * 9, duration_laps_probs={2: 0.25, 4: 0.75})
    n = neutralisation_params(sc)
    assert n.p_at_least_one == 0.6
    np.testing.assert_allclose(n.count_probs, np.array([0.45, 0.12, 0.03]) / 0.6)
    assert len(n.start_fraction_probs) == 10 and abs(sum(n.start_fraction_probs) - 1) < 1e-9
    assert n.duration_laps_probs == (0.0, 0.25, 0.0, 0.75)
    n.validate("sc")
    empty = neutralisation_params(SafetyCarModel(duration_laps_probs={}))
    assert empty.duration_laps_probs == (1.0,)


# ------------------------------------------------------------------------------ synthetic store
def test_build_stored_race(synth):
    store, models = synth
    built = build_race(2023, "Monza", models=models, store=store)
    p = built.params
    assert (built.round, built.circuit_key, built.stored, built.grid_source) == (1, "monza", True, "lap1_order")
    assert p.total_laps == TOTAL_LAPS and p.n_cars == 20
    assert set(p.dry_compounds) == {"SOFT", "MEDIUM", "HARD"} and set(WET_COMPOUNDS) <= set(p.compounds)
    # the grid is the lap-1 order of the stored race
    laps = store.laps(2023, 1)
    lap1 = laps[laps["lap_number"] == 1].set_index("driver")["position"].astype(int)
    assert {c.driver: c.grid_position for c in p.cars} == lap1.to_dict()
    # real starting tyres, circuit model numbers
    first = laps[laps["lap_number"] == 1].set_index("driver")["compound"]
    assert all(c.start_compound == first[c.driver] for c in p.cars)
    cm = models.circuit("monza")
    assert p.pit_loss_s == pytest.approx(cm.pit_loss_s)
    assert p.base_lap_time_s == pytest.approx(cm.base_lap_time_s + cm.fuel_effect_s_per_lap * (TOTAL_LAPS - 1))
    assert p.sc.p_at_least_one == pytest.approx(cm.sc.p_at_least_one)
    # the fitted curve as it is (the engine draws the pass on paces, without lap noise)
    assert p.passing.pace_coef_per_s == pytest.approx(max(cm.passing_pace_coef_per_s, 0.0))
    assert p.passing.circuit_effect == pytest.approx(cm.passing_circuit_effect)
    assert p.passing.even_odds_delta_s() == pytest.approx(cm.overtake_threshold_s, abs=1e-6) or \
        cm.overtake_threshold_s in (0.1, 5.0)  # the reported threshold is capped
    assert (p.pit_loss_sc_s, p.pit_loss_vsc_s) == (pytest.approx(cm.pit_loss_sc_s), pytest.approx(cm.pit_loss_vsc_s))
    assert all(c.retirement_prob == pytest.approx(cm.retirement_prob) for c in p.cars)
    # HARD at monza was generated with a cliff; its fitted wear is steeper late than early
    hard = p.compounds["HARD"]
    assert hard.delta_s(30) - hard.delta_s(25) > hard.delta_s(10) - hard.delta_s(5)
    p.validate()


def test_pre_race_pace_uses_only_earlier_races(synth):
    store, models = synth
    pre = build_race(2023, 2, models=models, store=store, pre_race=True).params
    post = build_race(2023, 2, models=models, store=store, pre_race=False).params
    want_pre, want_post = models.driver_pace(2023, 2), models.driver_pace(2023, 3)
    assert {c.driver: c.base_pace_s for c in pre.cars} == pytest.approx(want_pre)
    assert {c.driver: c.base_pace_s for c in post.cars} == pytest.approx(want_post)
    assert want_pre != want_post


def test_unstored_circuit_uses_latest_field_and_similar_tracks(synth):
    store, models = synth
    built = build_race(2023, "Suzuka", models=models, store=store)
    # Suzuka is a venue these models never saw: priors from similar tracks, and the answer says so
    assert (built.stored, built.circuit_key, built.model_circuit, built.round) == (False, "suzuka", "_new_venue", 4)
    assert built.grid_source == "pace_order"
    pace = [c.base_pace_s for c in sorted(built.params.cars, key=lambda c: c.grid_position)]
    assert pace == sorted(pace)
    assert any("new venue" in n and "from similar tracks" in n for n in built.notes)
    assert built.confidence != "high" and any("new to the models" in r for r in built.confidence_reasons)
    assert sorted(built.drivers) == sorted(store.laps(2023, 3)["driver"].unique())
    # a future season takes the latest stored season's field and starts at round 1
    assert build_race(2025, "Monza", models=models, store=store).round == 1


def test_driver_and_grid_checks(synth):
    store, models = synth
    with pytest.raises(NotFoundError) as e:
        build_race(2023, "Monza", models=models, store=store, driver="XYZ")
    assert "D00" in e.value.message and "D19" in e.value.message
    for bad in (0, 21):
        with pytest.raises(InvalidRequestError, match=r"1\.\.20"):
            build_race(2023, "Monza", models=models, store=store, driver="D03", grid=bad)
    with pytest.raises(NotFoundError, match="Races of 2023"):
        build_race(2023, "Atlantis", models=models, store=store)
    p = race_params_for(2023, "Monza", models=models, store=store, driver="D03", grid=5)
    assert p.cars[p.car_index("D03")].grid_position == 5
    assert sorted(c.grid_position for c in p.cars) == list(range(1, 21))
    q = regrid(p, "D03", 1)
    assert q.cars[q.car_index("D03")].grid_position == 1 and p.cars[p.car_index("D03")].grid_position == 5


def test_optimise_on_built_race_gives_legal_plans(synth):
    store, models = synth
    p = race_params_for(2023, "Bahrain", models=models, store=store)
    res = optimise(p, p.drivers[0], n_sims=60, seed=1)
    for o in res.options:
        s = o.strategy
        assert len({c for c in s.compounds if c in ("SOFT", "MEDIUM", "HARD")}) >= 2
        assert all(1 <= lap <= p.total_laps - 1 for lap in s.pit_laps)
        assert len(o.position_histogram) == p.n_cars and sum(o.position_histogram) == pytest.approx(1.0)


# ------------------------------------------------------------------------------ real data
@pytest.mark.realdata
def test_build_real_race_with_bundled_models(tmp_path, data_dir):
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.models.bundled import load_bundled_models

    store = RaceStore(tmp_path / "store")
    [res] = ingest_files([data_dir / "laps" / "2024.csv.gz"], store)
    assert res.ok
    built = build_race(2024, "Monza", models=load_bundled_models(), store=store, driver="LEC", grid=4)
    p = built.params
    assert (p.total_laps, p.n_cars, built.model_circuit) == (53, 20, "monza")
    assert p.cars[p.car_index("LEC")].grid_position == 4
    fast = sorted(p.cars, key=lambda c: c.base_pace_s)[:6]
    assert {"VER", "NOR", "LEC", "PIA"} & {c.driver for c in fast}
    assert 60 < p.base_lap_time_s < 100 and 15 < p.pit_loss_s < 35


def test_min_stint_laps_bounds_every_stint(synth):
    store, models = synth
    p = race_params_for(2023, "Monza", models=models, store=store)
    res = optimise(p, p.drivers[2], n_sims=30, seed=0, min_stint_laps=12, top_k=5)
    for o in res.options:
        edges = [0, *o.strategy.pit_laps, p.total_laps]
        assert min(b - a for a, b in zip(edges[:-1], edges[1:])) >= 12
