"""Sprint laps as same-weekend tyre evidence (models/weekend.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from f1analyzer.models.tyres import TyreModel
from f1analyzer.models.weekend import MIN_SPRINT_LAPS, sprint_clean_laps, update_tyres_from_sprint

FUEL = 0.06


def prior() -> dict[str, TyreModel]:
    return {
        "SOFT": TyreModel("SOFT", coef_s=[0.08, 0.0], pace_offset_s=-0.5, pace_offset_se_s=0.05, coef_se_s=[0.01, 0.0]),
        "MEDIUM": TyreModel("MEDIUM", coef_s=[0.04, 0.0], coef_se_s=[0.01, 0.0]),
        "HARD": TyreModel("HARD", coef_s=[0.02, 0.0], pace_offset_s=0.4, pace_offset_se_s=0.05, coef_se_s=[0.01, 0.0]),
    }


def sprint(wear_s_per_lap: float, *, n_cars: int = 16, laps: int = 20, compound: str = "MEDIUM",
           seed: int = 0) -> pd.DataFrame:
    """Clean sprint laps with a known wear rate and the fuel effect FUEL."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_cars):
        pace = rng.normal(0, 0.4)
        for lap in range(2, laps + 1):
            age = lap - 1
            t = 90.0 + pace - FUEL * lap + wear_s_per_lap * age + rng.normal(0, 0.1)
            rows.append({"driver": f"D{i:02d}", "lap_number": lap, "lap_time_s": t, "compound": compound,
                         "tyre_age_laps": float(age), "stint": 1})
    return pd.DataFrame(rows)


def test_wear_moves_towards_the_sprint():
    tyres = prior()
    upd = update_tyres_from_sprint(tyres, sprint(0.12), fuel_effect_s_per_lap=FUEL)
    new = upd.tyres["MEDIUM"].coef_s[0]
    assert 0.04 < new < 0.12  # between the fit and the sprint: a precision-weighted update
    ch = upd.changes["MEDIUM"]["linear_s_per_lap"]
    assert ch["sprint"] == pytest.approx(0.12, abs=0.01)
    assert upd.tyres["MEDIUM"].coef_se_s[0] < np.hypot(0.01, 0.02)  # more certain than before
    assert upd.n_laps == 16 * 19
    assert set(upd.changes) == {"MEDIUM"}  # SOFT and HARD were not run
    assert upd.tyres["SOFT"].coef_s == tyres["SOFT"].coef_s
    assert tyres["MEDIUM"].coef_s[0] == 0.04  # the input is not modified
    assert "MEDIUM linear_s_per_lap" in upd.describe()


def test_more_sprint_laps_weigh_more():
    few = update_tyres_from_sprint(prior(), sprint(0.12, n_cars=4, laps=12), fuel_effect_s_per_lap=FUEL)
    many = update_tyres_from_sprint(prior(), sprint(0.12, n_cars=20, laps=24), fuel_effect_s_per_lap=FUEL)
    assert many.changes["MEDIUM"]["linear_s_per_lap"]["sprint_se"] < few.changes["MEDIUM"]["linear_s_per_lap"]["sprint_se"]
    assert many.tyres["MEDIUM"].coef_se_s[0] < few.tyres["MEDIUM"].coef_se_s[0]
    assert few.tyres["MEDIUM"].coef_s[0] > 0.04 and many.tyres["MEDIUM"].coef_s[0] > 0.04


def test_too_few_laps_change_nothing():
    small = sprint(0.2, n_cars=2, laps=MIN_SPRINT_LAPS // 2)
    upd = update_tyres_from_sprint(prior(), small, fuel_effect_s_per_lap=FUEL)
    assert upd.n_laps == 0 and upd.changes == {}
    assert upd.tyres["MEDIUM"].coef_s == prior()["MEDIUM"].coef_s
    assert update_tyres_from_sprint(prior(), pd.DataFrame(), fuel_effect_s_per_lap=FUEL).n_laps == 0


def test_wear_never_turns_negative():
    # a sprint whose laps got faster with age (track evolving faster than the fuel fit says)
    upd = update_tyres_from_sprint(prior(), sprint(-0.15), fuel_effect_s_per_lap=FUEL)
    assert upd.tyres["MEDIUM"].coef_s[0] > 0.0


def test_pace_offset_from_cars_that_ran_both_compounds():
    med = sprint(0.04, laps=12, seed=1)
    soft = sprint(0.04, laps=12, seed=1, compound="SOFT")
    soft["lap_number"] += 11  # run after the medium stint: 11 laps lighter
    soft["lap_time_s"] -= 1.2 + FUEL * 11  # and 1.2 s faster fresh this weekend
    soft["stint"] = 2
    upd = update_tyres_from_sprint(prior(), pd.concat([med, soft], ignore_index=True), fuel_effect_s_per_lap=FUEL)
    ch = upd.changes["SOFT"]["pace_offset_s"]
    # the soft's own wear is updated first (prior 0.08 s/lap, true 0.04): a small bias remains
    assert ch["sprint"] == pytest.approx(-1.2, abs=0.25)
    assert ch["sprint"] < upd.tyres["SOFT"].pace_offset_s < -0.5  # between the sprint and the fit


def test_sprint_clean_laps_of_a_wet_or_empty_sprint_are_empty():
    from f1analyzer.data.schema import LAP_COLUMNS, empty_frame

    assert sprint_clean_laps(empty_frame(LAP_COLUMNS)).empty
    wet = pd.DataFrame({"season": 2023, "round": 12, "driver": "AAA", "lap_number": range(1, 11), "lap_time_s": 120.0,
                        "compound": "INTERMEDIATE", "is_clean": False, "tyre_life_laps": 3.0})
    assert sprint_clean_laps(wet).empty
