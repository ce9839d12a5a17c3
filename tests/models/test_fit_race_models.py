"""RaceModels recovers known parameters from synthetic races (no real data needed).

Lap time = base + driver pace + fuel × laps to go + compound offset + wear(tyre age) + noise.
In-laps cost +5 s and out-laps +17 s (pit loss 22 s). HARD has a cliff at 20 laps at circuit
"monza"; "bahrain" is linear. Some races have a Safety Car.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from f1analyzer.data.derive import derive_tables
from f1analyzer.data.files import clean_mask
from f1analyzer.data.schema import LAP_COLUMNS, conform
from f1analyzer.errors import NotFittedError, NotFoundError
from f1analyzer.models import RaceModels, TyreModel
from f1analyzer.models.safety_car import fit_neutralisation

FUEL_S_PER_LAP = 0.06
OFFSET_S = {"SOFT": -0.5, "MEDIUM": 0.0, "HARD": 0.4}
SLOPE_S = {"SOFT": 0.10, "MEDIUM": 0.06, "HARD": 0.03}
CLIFF = {"monza": (20, 0.30)}  # HARD only
PIT_IN_S, PIT_OUT_S = 5.0, 17.0
TOTAL_LAPS = 50
DRIVERS = [f"D{i:02d}" for i in range(20)]


def wear_s(circuit: str, compound: str, age: np.ndarray) -> np.ndarray:
    out = SLOPE_S[compound] * age
    if compound == "HARD" and circuit in CLIFF:
        lap, slope = CLIFF[circuit]
        out = out + slope * np.maximum(age - lap, 0)
    return out


def make_race(rng, season: int, rnd: int, circuit: str, base_s: float, sc: bool) -> pd.DataFrame:
    pace = rng.normal(0, 0.5, len(DRIVERS))
    sc_laps = set(range(30, 34)) if sc else set()
    rows = []
    session = np.full(len(DRIVERS), 1000.0)
    plans = []
    for _ in DRIVERS:
        first = str(rng.choice(["SOFT", "MEDIUM", "HARD"]))
        second = "HARD" if first != "HARD" else "MEDIUM"
        stop = int(rng.integers(12, 20)) if first == "SOFT" else int(rng.integers(14, 34))
        plans.append((first, second, stop))
    for lap in range(1, TOTAL_LAPS + 1):
        for i, drv in enumerate(DRIVERS):
            first, second, stop = plans[i]
            comp, age, stint = (first, lap - 1, 1) if lap <= stop else (second, lap - stop - 1, 2)
            t = (base_s + pace[i] + FUEL_S_PER_LAP * (TOTAL_LAPS - lap) + OFFSET_S[comp]
                 + float(wear_s(circuit, comp, np.array([age]))[0]) + rng.normal(0, 0.15))
            if lap == 1:
                t += 4.0 + 0.2 * i
            if lap == stop:
                t += PIT_IN_S
            if lap == stop + 1:
                t += PIT_OUT_S
            if lap in sc_laps:
                t = base_s * 1.4 + rng.normal(0, 0.3)
            session[i] += t
            rows.append({
                "season": season, "round": rnd, "driver": drv, "driver_number": i + 1, "team": f"T{i // 2}",
                "lap_number": lap, "lap_time_s": t, "session_time_s": session[i], "stint": stint,
                "compound": comp, "compound_code": {"SOFT": "C4", "MEDIUM": "C3", "HARD": "C2"}[comp],
                "tyre_life_laps": age + 1, "fresh_tyre": True, "pit_in": lap == stop, "pit_out": lap == stop + 1,
                "pit_in_time_s": session[i] - 2.0 if lap == stop else np.nan,
                "pit_out_time_s": session[i] - t + 15.0 if lap == stop + 1 else np.nan,
                "track_status": "4" if lap in sc_laps else "1", "position": 0, "is_accurate": True,
            })
    df = pd.DataFrame(rows)
    df["position"] = df.groupby("lap_number")["session_time_s"].rank(method="first").astype(int)
    return df


def synthetic_store_tables(seed: int = 1):
    rng = np.random.default_rng(seed)
    frames, races = [], []
    plan = [("monza", 80.0, 8), ("bahrain", 92.0, 6), ("vegas", 95.0, 1)]
    rnd = 0
    for circuit, base, n in plan:
        for k in range(n):
            rnd += 1
            season = 2022 + k % 2
            # monza: every race has a Safety Car; bahrain: every other; vegas: none
            sc = circuit == "monza" or (circuit == "bahrain" and k % 2 == 0)
            frames.append(make_race(rng, season, rnd, circuit, base, sc))
            races.append({"season": season, "round": rnd, "event": f"{circuit} GP", "circuit_key": circuit,
                          "total_laps": TOTAL_LAPS, "compounds": ["C2", "C3", "C4"], "laps": 0, "drivers": 20,
                          "rejected": 0, "source": "synthetic"})
    laps = pd.concat(frames, ignore_index=True)
    laps["is_clean"] = clean_mask(laps)
    laps = conform(laps, LAP_COLUMNS)
    laps, _, pit_stops = derive_tables(laps)
    return laps, pd.DataFrame(races), pit_stops


@pytest.fixture(scope="module")
def fitted():
    laps, races, stops = synthetic_store_tables()
    return RaceModels().fit(laps, races, stops), laps, races


def test_fuel_effect_and_linear_deg_recovered(fitted):
    models, _, _ = fitted
    bah = models.circuit("bahrain")
    assert bah.fuel_effect_s_per_lap == pytest.approx(FUEL_S_PER_LAP, abs=0.01)
    for c in ("SOFT", "MEDIUM", "HARD"):
        m = bah.compounds[c]
        assert m.curve == "linear"
        assert m.coef_s[0] == pytest.approx(SLOPE_S[c], abs=0.015), c
        assert m.pace_offset_s == pytest.approx(OFFSET_S[c], abs=0.15), c
        assert m.coef_se_s[0] > 0
    assert bah.compounds["SOFT"].codes == {"C4": bah.compounds["SOFT"].n_laps}


def test_cliff_detected(fitted):
    hard = fitted[0].circuit("monza").compounds["HARD"]
    assert hard.curve == "cliff"
    assert hard.cliff_lap == pytest.approx(20, abs=3)
    assert hard.cliff_slope_s == pytest.approx(0.30, abs=0.1)
    # the fitted curve follows the true one over a long stint
    ages = np.arange(0, 31)
    assert np.max(np.abs(hard.deg_s(ages) - wear_s("monza", "HARD", ages))) < 0.5


def test_expected_lap_time_consistent(fitted):
    bah = fitted[0].circuit("bahrain")
    t = bah.expected_lap_time_s(["SOFT", "HARD"], [0, 10], [TOTAL_LAPS, 1], driver_delta_s=0.5)
    assert t.shape == (2,)
    assert t[0] == pytest.approx(bah.base_lap_time_s + bah.compounds["SOFT"].pace_offset_s + 0.5)
    # mid-field car on fresh MEDIUM at race end ≈ base lap of the generator (driver paces have median ≈ 0)
    assert bah.base_lap_time_s == pytest.approx(92.0, abs=0.4)


def test_pit_loss_recovered(fitted):
    models = fitted[0]
    for key in ("monza", "bahrain"):
        cm = models.circuit(key)
        assert cm.pit_loss_s == pytest.approx(PIT_IN_S + PIT_OUT_S, abs=1.0)
        assert cm.n_pit_stops > 50
        assert 0 < cm.pit_loss_sd_s < 2


def test_safety_car_probability_with_shrinkage(fitted):
    models = fitted[0]
    g = models.global_.sc.p_at_least_one
    assert g == pytest.approx(11 / 15)
    monza, vegas = models.circuit("monza").sc, models.circuit("vegas").sc
    m = models.shrinkage_races
    assert monza.p_at_least_one == pytest.approx((8 + m * g) / (8 + m))
    assert vegas.p_at_least_one == pytest.approx((0 + m * g) / (1 + m))
    assert vegas.shrunk and not monza.shrunk
    assert sum(monza.count_probs) == pytest.approx(1.0)
    assert sum(monza.start_fraction_hist) == pytest.approx(1.0)
    # SC starts on lap 30 of 50 → the 6th tenth of the race; lasts 4 laps
    assert int(np.argmax(monza.start_fraction_hist)) == 5
    assert max(monza.duration_laps_probs, key=monza.duration_laps_probs.get) == 4


def test_fit_neutralisation_without_prior_is_empirical():
    periods = pd.DataFrame({"start_fraction": [0.05, 0.55, 0.56], "laps": [3, 4, 4]})
    m = fit_neutralisation(np.array([0, 1, 2, 0]), periods)
    assert m.p_at_least_one == pytest.approx(0.5)
    assert m.count_probs == pytest.approx([0.5, 0.25, 0.25, 0.0])
    assert m.mean_count == pytest.approx(0.75)
    assert m.duration_laps_probs == pytest.approx({3: 1 / 3, 4: 2 / 3})


def test_pace_tables_and_driver_pace(fitted):
    models, laps, _ = fitted
    assert set(models.pace_.columns) == {"season", "round", "driver", "team", "pace_delta_s"}
    assert len(models.team_pace_) > 0
    first = models.pace_[(models.pace_["season"] == 2022) & (models.pace_["round"] == 1)]
    assert abs(first["pace_delta_s"].median()) < 1e-9
    before = models.driver_pace(2022, round=1)
    assert before == {}  # nothing known before the first race
    after = models.driver_pace(2022, round=4)
    assert set(after) == set(DRIVERS)


def test_start_overtaking_retirement_in_range(fitted):
    for cm in fitted[0].circuits_.values():
        assert 0 <= cm.retirement_prob < 0.2
        assert 0.1 <= cm.overtake_threshold_s <= 5.0
        assert len(cm.positions_gained_by_grid) == 20
        assert cm.first_lap_loss_s > 0
    held = fitted[0].global_.held_gap_by_era
    assert held and all(len(q) == 10 and q[0] > 0 and np.all(np.diff(q) >= 0) for q in held.values())


def test_round_trip_to_dict_and_file(fitted, tmp_path):
    models = fitted[0]
    d = models.to_dict()
    assert d["format"] == 1
    text = json.dumps(d, allow_nan=False)
    back = RaceModels.from_dict(json.loads(text))
    assert back.to_dict() == d
    a, b = models.circuit("monza"), back.circuit("monza")
    ages = np.arange(40)
    for c in a.compounds:
        np.testing.assert_allclose(a.compounds[c].delta_s(ages), b.compounds[c].delta_s(ages), atol=1e-4)
    assert b.sc.duration_laps_probs.keys() == a.sc.duration_laps_probs.keys()
    models.save(tmp_path / "rm.json")
    assert RaceModels.load(tmp_path / "rm.json").data_hash_ == models.data_hash_


def test_lookup_and_not_fitted(fitted):
    models = fitted[0]
    assert models.circuit("Italian Grand Prix").key == "monza"
    assert models.circuit("_all") is models.global_
    with pytest.raises(NotFoundError) as exc:
        models.circuit("monzza")
    assert "monza" in exc.value.details["suggestions"]
    with pytest.raises(NotFittedError):
        RaceModels().circuit("monza")


def test_tyre_model_delta_vectorised():
    m = TyreModel("SOFT", "cliff", [0.1, 0.0], 10.0, 0.5, -0.4)
    ages = np.array([[0, 10], [12, 20]])
    out = m.delta_s(ages)
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, [[-0.4, 0.6], [0.8 + 1.0, 1.6 + 5.0]])


def test_parameters_fit_the_simulator(fitted):
    from f1analyzer.simulation.core.params import CompoundParams, NeutralisationParams

    monza = fitted[0].circuit("monza")
    for name, tm in monza.compounds.items():
        cp = CompoundParams(**tm.simulator_params())
        cp.validate()
        if tm.curve == "linear" and tm.coef_s[0] > 0:
            np.testing.assert_allclose(cp.lap_delta_s(np.arange(30)), tm.delta_s(np.arange(30)))
    sc = NeutralisationParams(**monza.sc.simulator_params())
    sc.validate("sc")
    assert sum(sc.count_probs) == pytest.approx(1.0)
    assert sc.duration_laps_probs[3] == pytest.approx(monza.sc.duration_laps_probs[4])


def test_fits_a_single_race_without_failing():
    rng = np.random.default_rng(7)
    laps = make_race(rng, 2023, 1, "monza", 80.0, sc=False)
    laps["is_clean"] = clean_mask(laps)
    laps, _, stops = derive_tables(conform(laps, LAP_COLUMNS))
    races = pd.DataFrame([{"season": 2023, "round": 1, "event": "Italian Grand Prix", "circuit_key": "monza",
                           "total_laps": TOTAL_LAPS, "compounds": []}])
    models = RaceModels().fit(laps, races, stops)
    cm = models.circuit("monza")
    assert set(cm.compounds) == {"SOFT", "MEDIUM", "HARD"}
    assert cm.sc.p_at_least_one == 0.0  # no SC anywhere: the prior is zero too
    assert RaceModels.from_dict(models.to_dict()).circuit("monza").pit_loss_s == pytest.approx(cm.pit_loss_s)
