"""Pit-loss and passing parameters from a circuit model (simulation/scenario/pit_and_passing.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from f1analyzer.models.race_models import CircuitModel
from f1analyzer.simulation.core.params import PassingParams, RaceParams
from f1analyzer.simulation.scenario.pit_and_passing import neutral_loss, passing_params, pit_loss_reasons


def test_neutral_loss_is_taken_as_fitted_and_only_missing_values_fall_back():
    assert neutral_loss(9.0, 20.0, "sc") == 9.0
    assert neutral_loss(21.0, 20.0, "vsc") == 21.0  # no clipping here: the estimator orders them
    share = RaceParams.__dataclass_fields__["pit_loss_sc_s"].default / RaceParams.__dataclass_fields__["pit_loss_s"].default
    assert neutral_loss(float("nan"), 20.0, "sc") == pytest.approx(20.0 * share)
    assert neutral_loss(None, 20.0, "sc") == pytest.approx(20.0 * share)


def test_a_constraint_after_the_fit_lowers_confidence():
    cm = CircuitModel(key="x", name="x")
    assert pit_loss_reasons(cm, "x") == []
    cm.pit_loss_constrained = ["SC loss 14.0 s above VSC 12.0 s: SC set to the VSC loss"]
    [reason] = pit_loss_reasons(cm, "x")
    assert "x" in reason and "SC set to the VSC loss" in reason


def test_passing_curve_is_used_as_fitted():
    # fitted on expected lap-time advantages, drawn on the engine's paces (no lap noise): as it is
    cm = CircuitModel(key="x", name="x", passing_intercept=-2.0, passing_pace_coef_per_s=1.2,
                      passing_drs_coef=-0.7, passing_circuit_effect=-1.0, passing_n_pairs=100)
    models = SimpleNamespace(global_=SimpleNamespace(passing_n_pairs=1000))
    plain = passing_params(models, cm)
    assert (plain.intercept, plain.pace_coef_per_s, plain.drs_coef, plain.circuit_effect) == (-2.0, 1.2, -0.7, -1.0)
    # a model set fitted before the passing curve existed: its threshold is the even-odds point
    old = passing_params(SimpleNamespace(global_=SimpleNamespace(passing_n_pairs=0)),
                         CircuitModel(key="y", name="y", overtake_threshold_s=1.8))
    assert old.even_odds_delta_s() == pytest.approx(1.8)


def test_held_gap_is_the_eras_fit():
    cm = CircuitModel(key="x", name="x", passing_n_pairs=100)
    new, old = tuple(0.2 + 0.05 * i for i in range(10)), tuple(0.3 + 0.1 * i for i in range(10))
    models = SimpleNamespace(global_=SimpleNamespace(passing_n_pairs=1000,
                                                     held_gap_by_era={"2022+": list(new), "pre-2022": list(old)}))
    assert passing_params(models, cm, "pre-2022").held_gap_s == old
    assert passing_params(models, cm, "2022+").held_gap_s == new
    assert passing_params(models, cm, "2026+").held_gap_s == new  # an era not fitted: the latest
    # a model set fitted before the held-up gap existed: the simulator's default
    bare = SimpleNamespace(global_=SimpleNamespace(passing_n_pairs=1000))
    assert passing_params(bare, cm, "2022+").held_gap_s == PassingParams().held_gap_s
