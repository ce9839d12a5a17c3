"""Physical ordering of the dry compounds (simulation.tyre_sanity) and its use in build.py."""

from __future__ import annotations

import numpy as np
import pytest

from f1analyzer.models.tyres import TyreModel
from f1analyzer.simulation.scenario.build import ordered_compounds, pace_step_for, tyre_se
from f1analyzer.simulation.scenario.compounds import circuit_tyres_and_fuel
from f1analyzer.simulation.core.params import CompoundParams
from f1analyzer.simulation.scenario.tyre_sanity import (
    SAFETY_NET_PACE_STEP_S,
    isotonic,
    order_compounds,
    ordering_violations,
    typical_pace_step_s,
)


def cp(name, off, lin, cliff=None, slope=0.0, quad=0.0):
    return CompoundParams(name, off, lin, quad, cliff, slope)


def se(**kw):
    """se(SOFT=(0.1, 0.01), ...) -> {compound: {pace_offset_s, linear_s_per_lap}}."""
    return {c: {"pace_offset_s": a, "linear_s_per_lap": b} for c, (a, b) in kw.items()}


# ------------------------------------------------------------------------------ isotonic
def test_isotonic_pav_matches_weighted_means():
    np.testing.assert_allclose(isotonic([1.0, 2.0, 3.0]), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(isotonic([2.0, 1.0], [1.0, 3.0]), [1.25, 1.25])
    np.testing.assert_allclose(isotonic([0.02, 0.056, 0.051], [1, 2, 4], increasing=False),
                               [(0.02 + 2 * 0.056 + 4 * 0.051) / 7] * 3)
    # a minimum step: fit to values shifted by step * rank, then shifted back
    np.testing.assert_allclose(isotonic([0.0, 0.0, 0.0], min_step=0.2), [-0.2, 0.0, 0.2])
    np.testing.assert_allclose(isotonic([0.1, 0.0, 0.5], min_step=0.2, fixed=1), [-0.2, 0.0, 0.5])


# ------------------------------------------------------------------------------ order_compounds
def test_already_ordered_is_unchanged():
    params = {"SOFT": cp("SOFT", -0.5, 0.09, 20, 0.2), "MEDIUM": cp("MEDIUM", 0.0, 0.06, 28, 0.1),
              "HARD": cp("HARD", 0.4, 0.04), "WET": cp("WET", 8.0, 0.03)}
    record = []
    out = order_compounds(params, se=se(SOFT=(0.1, 0.01), MEDIUM=(0.0, 0.01), HARD=(0.1, 0.01)),
                          min_pace_step_s=0.25, inherit_cliffs=False, record=record)
    assert record == [] and out == params
    assert all(out[c] is params[c] for c in params)
    assert ordering_violations(out, min_pace_step_s=0.25) == []


def test_pace_violation_ordered_with_minimum_step_and_reference_fixed():
    params = {"SOFT": cp("SOFT", 0.01, 0.05), "MEDIUM": cp("MEDIUM", 0.0, 0.04), "HARD": cp("HARD", 0.08, 0.03)}
    record = []
    out = order_compounds(params, min_pace_step_s=0.23, record=record)
    assert [out[c].pace_offset_s for c in ("SOFT", "MEDIUM", "HARD")] == pytest.approx([-0.23, 0.0, 0.23])
    assert {(a.compound, a.param) for a in record} == {("SOFT", "pace_offset_s"), ("HARD", "pace_offset_s")}
    soft = next(a for a in record if a.compound == "SOFT")
    assert (soft.before, soft.after, soft.reason) == (pytest.approx(0.01), pytest.approx(-0.23), "pace_order")
    assert "SOFT fresh pace" in soft.describe()
    assert ordering_violations(params, min_pace_step_s=0.23) and not ordering_violations(out, min_pace_step_s=0.23)


def test_pace_without_reference_moves_the_poorly_measured_value_more():
    params = {"SOFT": cp("SOFT", 0.3, 0.05), "MEDIUM": cp("MEDIUM", 0.0, 0.04), "HARD": cp("HARD", 0.5, 0.03)}
    out = order_compounds(params, se=se(SOFT=(0.4, 0.01), MEDIUM=(0.05, 0.01), HARD=(0.1, 0.01)),
                          min_pace_step_s=0.2, reference=None)
    assert out["MEDIUM"].pace_offset_s - out["SOFT"].pace_offset_s == pytest.approx(0.2)
    assert abs(out["SOFT"].pace_offset_s - 0.3) > 10 * abs(out["MEDIUM"].pace_offset_s - 0.0)
    assert out["HARD"] is params["HARD"]


def test_wear_violation_pooled_by_precision():
    # Monza 2022+-like: SOFT 0.020 +- 0.010 wears less than MEDIUM 0.056 +- 0.007 (HARD well below both)
    params = {"SOFT": cp("SOFT", -0.3, 0.020), "MEDIUM": cp("MEDIUM", 0.0, 0.056), "HARD": cp("HARD", 0.3, 0.030)}
    errs = se(SOFT=(0.2, 0.010), MEDIUM=(0.0, 0.007), HARD=(0.1, 0.005))
    record = []
    out = order_compounds(params, se=errs, min_pace_step_s=0.2, record=record)
    ws, wm = 1 / 0.010**2, 1 / 0.007**2
    pooled = (ws * 0.020 + wm * 0.056) / (ws + wm)
    assert out["SOFT"].linear_s_per_lap == pytest.approx(pooled)
    assert out["MEDIUM"].linear_s_per_lap == pytest.approx(pooled)
    assert out["HARD"] is params["HARD"]  # already the least-wearing: untouched
    # the better-measured MEDIUM moved less than the SOFT
    assert abs(out["MEDIUM"].linear_s_per_lap - 0.056) < abs(out["SOFT"].linear_s_per_lap - 0.020)
    assert {a.reason for a in record} == {"wear_order"}
    # swap the precisions: now the SOFT stays closer to its fit
    flip = order_compounds(params, se=se(SOFT=(0.2, 0.002), MEDIUM=(0.0, 0.02), HARD=(0.1, 0.005)),
                           min_pace_step_s=0.2)
    assert abs(flip["SOFT"].linear_s_per_lap - 0.020) < abs(flip["MEDIUM"].linear_s_per_lap - 0.056)
    assert flip["SOFT"].linear_s_per_lap >= flip["MEDIUM"].linear_s_per_lap >= flip["HARD"].linear_s_per_lap


def test_three_way_wear_violation_and_quadratic_kept():
    params = {"SOFT": cp("SOFT", -0.3, 0.02), "MEDIUM": cp("MEDIUM", 0.0, 0.04, quad=0.001),
              "HARD": cp("HARD", 0.3, 0.06)}
    out = order_compounds(params, min_pace_step_s=0.2)  # equal weights: all to the mean
    assert [out[c].linear_s_per_lap for c in params] == pytest.approx([0.04] * 3)
    assert out["MEDIUM"].quadratic_s_per_lap2 == 0.001


def test_cliff_ordering():
    # a harder compound's cliff never before a softer one's; slopes kept as fitted
    params = {"SOFT": cp("SOFT", -0.3, 0.05, 25, 0.2), "MEDIUM": cp("MEDIUM", 0.0, 0.04, 18, 0.1),
              "HARD": cp("HARD", 0.3, 0.03, 30, 0.3)}
    record = []
    out = order_compounds(params, min_pace_step_s=0.2, record=record)
    assert [out[c].cliff_lap for c in params] == [25, 25, 30]
    assert [out[c].cliff_slope_s_per_lap for c in params] == [0.2, 0.1, 0.3]
    assert [(a.compound, a.param, a.reason) for a in record] == [("MEDIUM", "cliff_lap", "cliff_order")]
    assert "MEDIUM cliff (lap 18) before SOFT's" in ordering_violations(params)[0]


def test_softer_compound_inherits_a_harder_cliff():
    # Hockenheim-like: only the HARD has a fitted cliff
    params = {"SOFT": cp("SOFT", -0.3, 0.05), "MEDIUM": cp("MEDIUM", 0.0, 0.04), "HARD": cp("HARD", 0.3, 0.0, 20, 0.36)}
    out = order_compounds(params, min_pace_step_s=0.2)
    assert [(out[c].cliff_lap, out[c].cliff_slope_s_per_lap) for c in params] == [(20, 0.36)] * 3
    assert ordering_violations(params, cliffs_complete=True)
    assert not ordering_violations(out, min_pace_step_s=0.2, cliffs_complete=True)
    kept = order_compounds(params, min_pace_step_s=0.2, inherit_cliffs=False)
    assert kept["SOFT"].cliff_lap is None and kept["HARD"].cliff_lap == 20
    # a softer compound with its own cliff keeps it; only the harder one's lap may move
    mixed = {**params, "MEDIUM": cp("MEDIUM", 0.0, 0.04, 16, 0.2)}
    out = order_compounds(mixed, min_pace_step_s=0.2)
    assert [out[c].cliff_lap for c in params] == [16, 16, 20]
    assert out["SOFT"].cliff_slope_s_per_lap == 0.2


def test_partial_and_missing_se():
    params = {"SOFT": cp("SOFT", 0.2, 0.01), "MEDIUM": cp("MEDIUM", 0.0, 0.05)}
    out = order_compounds(params, se={"SOFT": {"pace_offset_s": None}}, min_pace_step_s=0.2)
    assert out["SOFT"].pace_offset_s == pytest.approx(-0.2)
    assert out["SOFT"].linear_s_per_lap == out["MEDIUM"].linear_s_per_lap == pytest.approx(0.03)
    single = {"MEDIUM": cp("MEDIUM", 0.0, 0.05)}
    assert order_compounds(single, min_pace_step_s=0.2) == single


def test_typical_pace_step():
    fits = [{"SOFT": -0.4, "MEDIUM": 0.0, "HARD": 0.3}, {"SOFT": 0.1, "MEDIUM": 0.0, "HARD": 0.25},
            {"SOFT": -0.2, "MEDIUM": 0.0, "HARD": -0.1}]
    # ordered steps: 0.4, 0.3, 0.25, 0.2 -> median 0.275 (the disordered 0.1 and 0.1 are ignored)
    assert typical_pace_step_s(fits) == pytest.approx(0.275)
    assert typical_pace_step_s([{"SOFT": -0.05, "MEDIUM": 0.0, "HARD": 0.05}] * 3) == pytest.approx(0.2)  # floor
    assert typical_pace_step_s([], fallback={"SOFT": -0.3, "MEDIUM": 0.0, "HARD": 0.3}) == pytest.approx(0.3)
    assert typical_pace_step_s([{"SOFT": -3.0, "MEDIUM": 0.0, "HARD": 3.0}] * 3) == pytest.approx(0.6)  # cap


def test_tyre_se_from_fits():
    own = TyreModel("SOFT", coef_s=[0.02, 0.0], coef_se_s=[0.01, 0.0], pace_offset_s=0.01, pace_offset_se_s=0.18)
    ref = TyreModel("MEDIUM", coef_s=[0.05, 0.0], coef_se_s=[0.007, 0.0])
    glob = TyreModel("HARD", coef_s=[0.04, 0.0], coef_se_s=[0.0, 0.0], pace_offset_s=0.2, own_fit=False)
    out = tyre_se({"SOFT": own, "MEDIUM": ref, "HARD": glob})
    assert out["SOFT"] == {"pace_offset_s": 0.18, "linear_s_per_lap": 0.01}
    assert out["MEDIUM"] == {"pace_offset_s": None, "linear_s_per_lap": 0.007}
    assert out["HARD"]["pace_offset_s"] >= 0.3 and out["HARD"]["linear_s_per_lap"] >= 0.05


# ------------------------------------------------------------------------------ build.py
def test_built_race_is_ordered_and_says_so(tmp_path):
    from tests.simulation.test_build import synthetic_env
    from f1analyzer.simulation.scenario.build import build_race

    store, models = synthetic_env(tmp_path)
    step = pace_step_for(models, models.era_of(2023))
    # a pooled compound fit carries its own steps: the safety net only asks for strict order
    assert step == SAFETY_NET_PACE_STEP_S
    for event in ("Monza", "Bahrain", "Hungaroring", "Suzuka"):
        built = build_race(2023, event, models=models, store=store)
        comp = built.params.compounds
        assert ordering_violations(comp, min_pace_step_s=step, cliffs_complete=True) == [], event
        assert comp["MEDIUM"].pace_offset_s == pytest.approx(
            circuit_tyres_and_fuel(models, models.circuits_.get(built.circuit_key, models.global_), 2023)[0]["MEDIUM"].pace_offset_s)
        noted = [n for n in built.notes if n.startswith("tyre fit adjusted for physical ordering at")]
        assert bool(noted) == bool(built.tyre_adjustments)
        reasons = [r for r in built.confidence_reasons if "not physically ordered" in r]
        assert bool(reasons) == bool(built.tyre_adjustments)
        if built.tyre_adjustments:
            assert built.circuit_key in noted[0] and built.circuit_key in reasons[0]
            assert built.confidence != "high"
        # the wet compounds pass through
        assert comp["WET"].pace_offset_s == 8.0


# ------------------------------------------------------------------------------ real data
@pytest.fixture(scope="module")
def bundled():
    from f1analyzer.models.bundled import as_race_models, load_bundled_models

    return as_race_models(load_bundled_models())


@pytest.mark.realdata
def test_every_bundled_circuit_is_ordered(bundled):
    models = bundled
    adjusted = 0
    for era, season in (("pre-2022", 2019), ("2022+", 2024)):
        step = pace_step_for(models, era)
        pooled = bool(models.global_.tyre_codes_by_era.get(era))
        assert step == SAFETY_NET_PACE_STEP_S if pooled else 0.2 <= step <= 0.4, era
        for key, cm in models.circuits_.items():
            tyres, _, _, _ = circuit_tyres_and_fuel(models, cm, season)
            comp, record = ordered_compounds(models, tyres, season)
            assert ordering_violations(comp, min_pace_step_s=step, cliffs_complete=True) == [], (key, era)
            assert comp["MEDIUM"].pace_offset_s == pytest.approx(tyres["MEDIUM"].pace_offset_s)
            adjusted += bool(record)
            # nothing is moved further than needed: values that were ordered stay within the fit range
            for c, p in comp.items():
                fitted = [max(float(t.coef_s[0]), 0.0) for t in tyres.values()]
                assert min(fitted) - 1e-9 <= p.linear_s_per_lap <= max(fitted) + 1e-9, (key, c)
    assert adjusted > 0


@pytest.mark.realdata
def test_monza_2024_top_strategy_is_a_sensible_one_stop(tmp_path, data_dir, bundled):
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.store import RaceStore
    from f1analyzer.simulation.scenario.build import build_race
    from f1analyzer.app.strategy import generate_strategy

    store = RaceStore(tmp_path / "store")
    [res] = ingest_files([data_dir / "laps" / "2024.csv.gz"], store)
    assert res.ok
    built = build_race(2024, "Monza", models=bundled, store=store)
    comp = built.params.compounds
    assert comp["SOFT"].pace_offset_s < comp["MEDIUM"].pace_offset_s < comp["HARD"].pace_offset_s
    assert comp["SOFT"].linear_s_per_lap >= comp["MEDIUM"].linear_s_per_lap >= comp["HARD"].linear_s_per_lap
    noted = any(n.startswith("tyre fit adjusted for physical ordering at monza") for n in built.notes)
    assert noted == bool(built.tyre_adjustments)

    out = generate_strategy({"season": 2024, "event": "Monza", "driver": "LEC", "n_sims": 200, "seed": 0},
                            models=bundled, store=store, narrate=lambda r: r)
    # the answer is built on as-of models (the races before Monza), not on ``bundled``: its own
    # note and its confidence reasons must agree on whether the safety net moved anything
    assert (any("physical ordering at monza" in n for n in out["notes"])
            == any("not physically ordered" in r for r in out["confidence_reasons"]))
    top = out["strategies"][0]
    assert top["stops"] == 1
    edges = [0, *top["pit_laps"], out["total_laps"]]
    stints = list(zip(top["compounds"], np.diff(edges).tolist()))
    assert any(c in ("MEDIUM", "HARD") and n > 15 for c, n in stints), top["strategy"]
