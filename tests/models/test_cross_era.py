"""models/tyre_circuits.py: a circuit's wear severity and how much of it carries into a new car era."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from f1analyzer.models.tyre_circuits import MIN_CIRCUITS_BOTH_ERAS, cross_era_severity, wear_severity
from f1analyzer.models.tyres import TyreModel


def _codes(wear: dict, n_laps: int = 100) -> dict:
    return {c: TyreModel(c, coef_s=[w, 0.0], n_laps=n_laps) for c, w in wear.items()}


POOLED = {"old": _codes({"C2": 0.02, "C3": 0.03, "C4": 0.04}), "new": _codes({"C2": 0.05, "C3": 0.06, "C4": 0.08})}


def test_severity_is_the_lap_weighted_geometric_mean_of_wear_over_the_pooled_wear():
    own = {"C2": TyreModel("C2", coef_s=[0.04, 0.0], n_laps=300),   # 2x typical
           "C3": TyreModel("C3", coef_s=[0.03, 0.0], n_laps=100),   # 1x typical
           "C9": TyreModel("C9", coef_s=[0.9, 0.0], n_laps=500)}    # no pooled code: ignored
    assert wear_severity(own, POOLED["old"]) == pytest.approx(np.exp(0.75 * np.log(2.0)))
    # no laps, no positive wear, nothing pooled: unknown
    assert wear_severity({"C2": TyreModel("C2", coef_s=[0.04, 0.0], n_laps=0)}, POOLED["old"]) is None
    assert wear_severity({"C2": TyreModel("C2", coef_s=[-0.01, 0.0], n_laps=50)}, POOLED["old"]) is None
    assert wear_severity(own, None) is None and wear_severity(None, POOLED["old"]) is None


def _circuit(old_sev: float | None, new_sev: float | None):
    by_era = {}
    if old_sev is not None:
        by_era["old"] = _codes({c: float(t.coef_s[0]) * old_sev for c, t in POOLED["old"].items()})
    if new_sev is not None:
        by_era["new"] = _codes({c: float(t.coef_s[0]) * new_sev for c, t in POOLED["new"].items()})
    return SimpleNamespace(tyre_codes_by_era=by_era)


def test_the_slope_is_read_from_the_circuits_raced_in_both_eras():
    olds = [0.3, 0.6, 1.0, 1.8, 2.7]
    circuits = {f"c{i}": _circuit(s, s ** 0.6) for i, s in enumerate(olds)}
    circuits["new_only"] = _circuit(None, 3.0)    # no old fit: not a pair
    circuits["old_only"] = _circuit(5.0, None)
    slope, n = cross_era_severity(circuits, POOLED, "new", "old")
    assert n == len(olds) and slope == pytest.approx(0.6)
    # clipped to [0, 1]: a new era cannot make tracks more different than they were
    steep = {f"c{i}": _circuit(s, s ** 1.5) for i, s in enumerate(olds)}
    assert cross_era_severity(steep, POOLED, "new", "old")[0] == 1.0
    flipped = {f"c{i}": _circuit(s, 1.0 / s) for i, s in enumerate(olds)}
    assert cross_era_severity(flipped, POOLED, "new", "old")[0] == 0.0


def test_too_few_circuits_in_both_eras_carry_nothing():
    few = {f"c{i}": _circuit(s, s) for i, s in enumerate([0.5, 2.0, 3.0][:MIN_CIRCUITS_BOTH_ERAS - 1])}
    assert cross_era_severity(few, POOLED, "new", "old") == (0.0, MIN_CIRCUITS_BOTH_ERAS - 1)
    assert cross_era_severity({}, POOLED, "new", "old") == (0.0, 0)


def test_carried_severity_predicts_a_circuits_new_era_wear_best_on_the_bundled_fits():
    # leave one circuit out over the bundled set's circuits raced in both eras (no data dir needed)
    from f1analyzer.models.bundled import as_race_models, load_bundled_models
    from f1analyzer.models.tyre_circuits import cross_era_check

    r = cross_era_check(as_race_models(load_bundled_models()))
    assert r["circuits"] >= 15 and r["fits"] >= 40
    own, pooled, carried = (r[k]["mean_abs_log"] for k in ("own_earlier_era", "era_all_circuits", "carried_severity"))
    assert carried < pooled < own
    assert r["carried_severity"]["times"] == pytest.approx(np.exp(carried), abs=0.01)
