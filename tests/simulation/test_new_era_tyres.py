"""A circuit not yet raced with the season's cars: the era's all-circuit tyres, its own wear
severity carried over (scenario/compounds.py, build.py)."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest

from f1analyzer.models.tyres import TyreModel
from f1analyzer.simulation.scenario.build import build_race
from f1analyzer.simulation.scenario.compounds import circuit_tyres_and_fuel
from f1analyzer.simulation.scenario.compounds import carried_severity, lacks_era_fit, new_era_reasons, scaled_wear
from tests.simulation.test_build import synthetic_env


def _codes(scale: float) -> dict:
    return {c: TyreModel(c, coef_s=[w * scale, 0.0], n_laps=200)
            for c, w in {"C2": 0.02, "C3": 0.03, "C4": 0.04}.items()}


def _models(old_sev: dict, new_sev: dict, circuit: str):
    """Fake model set: circuits with old/new-era per-code fits at the given severities."""
    keys = set(old_sev) | set(new_sev)
    circuits = {k: SimpleNamespace(key=k, tyre_codes_by_era={
        **({"pre-2022": _codes(old_sev[k])} if k in old_sev else {}),
        **({"2022+": _codes(new_sev[k])} if k in new_sev else {})},
        compounds_by_era={e: {} for e in (["pre-2022"] if k in old_sev else []) + (["2022+"] if k in new_sev else [])})
        for k in keys}
    g = SimpleNamespace(key="_all", tyre_codes_by_era={"pre-2022": _codes(1.0), "2022+": _codes(1.0)},
                        compounds_by_era={"pre-2022": {"MEDIUM": 1}, "2022+": {"MEDIUM": 1}})
    return SimpleNamespace(circuits_=circuits, global_=g, era_of=lambda s: "2022+" if s >= 2022 else "pre-2022"), circuits[circuit]


def test_a_circuit_without_the_era_carries_its_severity_by_the_measured_slope():
    olds = {"a": 0.5, "b": 0.8, "c": 1.5, "d": 2.0, "x": 2.5}
    models, cm = _models(olds, {k: v ** 0.5 for k, v in olds.items() if k != "x"}, "x")
    assert lacks_era_fit(models, cm, "2022+") and not lacks_era_fit(models, cm, "pre-2022")
    factor, how = carried_severity(models, cm, "2022+")
    assert factor == pytest.approx(2.5 ** 0.5)
    assert "x1.58" in how and "severity 2.50" in how and "slope 0.50" in how and "4 circuits" in how
    assert new_era_reasons(models, cm, 2024) and not new_era_reasons(models, cm, 2019)
    # the all-circuit model itself never "lacks" its era
    assert not lacks_era_fit(models, models.global_, "2022+")


def test_early_in_a_new_era_nothing_is_carried():
    models, cm = _models({"a": 0.5, "b": 2.0, "x": 2.5}, {"a": 0.7, "b": 1.5}, "x")
    factor, how = carried_severity(models, cm, "2022+")
    assert factor == 1.0 and "2 circuits" in how and "too few" in how


def test_a_new_era_that_reverses_the_tracks_carries_nothing():
    olds = {"a": 0.5, "b": 0.8, "c": 1.5, "d": 2.0, "x": 2.5}
    models, cm = _models(olds, {k: 1.0 / v for k, v in olds.items() if k != "x"}, "x")
    factor, how = carried_severity(models, cm, "2022+")
    assert factor == 1.0 and "4 circuits" in how and "none carries" in how


def test_scaled_wear_scales_every_wear_term_and_nothing_else():
    t = {"SOFT": TyreModel("SOFT", coef_s=[0.04, 0.001], pace_offset_s=-0.3, n_laps=80)}
    out = scaled_wear(t, 1.5)
    assert out["SOFT"].coef_s == pytest.approx([0.06, 0.0015])
    assert out["SOFT"].pace_offset_s == -0.3 and out["SOFT"].n_laps == 80
    assert t["SOFT"].coef_s == [0.04, 0.001]  # the fitted model is not touched
    assert scaled_wear(t, 1.0) is t


@pytest.fixture(scope="module")
def env_without_monza_2022plus(tmp_path_factory):
    """The synthetic set with Monza's fits moved to the previous era: a circuit never raced with
    the season's cars (Monaco and Suzuka were wet in 2022: their 2023 answers are built this way)."""
    store, models = synthetic_env(tmp_path_factory.mktemp("newera"))
    models = copy.deepcopy(models)
    cm = models.circuits_["monza"]
    for attr in ("compounds_by_era", "tyre_codes_by_era"):
        by_era = getattr(cm, attr)
        by_era["pre-2022"] = by_era.pop("2022+")
    g = models.global_
    g.tyre_codes_by_era["pre-2022"] = copy.deepcopy(g.tyre_codes_by_era["2022+"])
    return store, models


def test_the_build_uses_the_eras_all_circuit_tyres_and_says_so(env_without_monza_2022plus):
    store, models = env_without_monza_2022plus
    cm = models.circuits_["monza"]
    tyres, fuel, used_global, carried = circuit_tyres_and_fuel(models, cm, 2023)
    pooled, *_ = circuit_tyres_and_fuel(models, models.global_, 2023)
    assert carried.startswith("monza: no race here with 2022+ cars") and not used_global
    for c in ("SOFT", "MEDIUM", "HARD"):  # three circuits: too few to carry a severity (factor 1)
        assert tyres[c].coef_s == pytest.approx(pooled[c].coef_s)
        assert tyres[c].pace_offset_s == pytest.approx(pooled[c].pace_offset_s)
    assert fuel == pytest.approx(cm.fuel_effect_s_per_lap)  # fuel stays the circuit's
    built = build_race(2023, "Monza", models=models, store=store)
    assert any(n.startswith("monza: no race here with 2022+ cars") for n in built.notes)
    assert any("No race at monza with 2022+ cars" in r for r in built.confidence_reasons)
    assert built.confidence != "high"
    # a circuit with its own fit of the era is built as before
    other = build_race(2023, "Bahrain", models=models, store=store)
    assert not any("no race here" in n for n in other.notes)
    assert not any("No race at" in r for r in other.confidence_reasons)
