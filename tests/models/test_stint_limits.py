"""StintLimits: the longest sensible stint per circuit × era × compound, from constructed stints."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from f1analyzer.models.stint_limits import StintLimits

TOTAL = 50


def stint_laps(season, rnd, driver, plan, *, finish=True, prior=None):
    """Lap rows of one car: ``plan`` = [(compound, laps), ...]; ``prior`` = earlier laps per set."""
    rows, lap = [], 0
    for k, (comp, n) in enumerate(plan):
        before = (prior or {}).get(k, 0)
        for a in range(n):
            lap += 1
            rows.append({"season": season, "round": rnd, "driver": driver, "lap_number": lap, "compound": comp,
                         "tyre_life_laps": float(before + a + 1), "stint": k + 1, "fresh_tyre": before == 0})
    if not finish:
        rows = rows[: int(0.5 * len(rows))]
    return rows


def table(spec):
    """``spec`` = {(season, round, circuit): [(driver, plan, kwargs), ...]} → (laps, races)."""
    rows, races = [], []
    for (season, rnd, circuit), cars in spec.items():
        for drv, plan, kw in cars:
            rows += stint_laps(season, rnd, drv, plan, **kw)
        races.append({"season": season, "round": rnd, "circuit_key": circuit,
                      "total_laps": sum(n for _, n in cars[0][1])})
    return pd.DataFrame(rows), pd.DataFrame(races)


def many(circuit, season, first_round, soft_lengths):
    """One race per soft length: every car SOFT for that long, then HARD to the flag (50 laps)."""
    spec = {}
    for k, n in enumerate(soft_lengths):
        spec[(season, first_round + k, circuit)] = [(f"D{j}", [("SOFT", n), ("HARD", TOTAL - n)], {}) for j in range(2)]
    return spec


def test_limit_is_the_high_quantile_of_set_life_at_stint_end():
    softs = list(range(10, 30))  # 20 races x 2 cars
    laps, races = table(many("monza", 2023, 1, softs))
    lim = StintLimits(prior_stints=0).fit(laps, races)
    got = lim.predict("monza", "2022+")
    assert got["SOFT"]["value"] == int(round(np.quantile(np.repeat(softs, 2), lim.quantile)))
    assert got["SOFT"]["n"] == 40 and got["SOFT"]["spread"] > 0 and not got["SOFT"]["pooled"]
    assert got["HARD"]["value"] == int(round(np.quantile(np.repeat([TOTAL - n for n in softs], 2), lim.quantile)))
    assert got["SOFT"]["share"] == pytest.approx(got["SOFT"]["value"] / TOTAL, abs=0.02)


def test_laps_before_the_race_count_and_retired_cars_do_not():
    spec = {(2023, 1, "monza"): [
        ("A", [("SOFT", 10), ("HARD", 40)], {"prior": {0: 6}}),   # a qualifying set: 16 laps of life
        ("B", [("MEDIUM", 45), ("HARD", 5)], {"finish": False}),  # retired: its stints say nothing
        ("C", [("MEDIUM", 20), ("HARD", 30)], {}),
    ]}
    laps, races = table(spec)
    st = StintLimits.stint_table(laps, races)
    assert set(st["driver"]) == {"A", "C"}
    a = st[(st["driver"] == "A") & (st["compound"] == "SOFT")].iloc[0]
    assert (a["laps"], a["life_laps"]) == (10, 16.0) and not a["fresh"]


def test_thin_circuit_is_shrunk_to_the_all_circuit_share_of_its_distance():
    spec = many("monza", 2023, 1, [20] * 30)  # soft share 0.4 of the race everywhere else
    spec[(2023, 40, "vegas")] = [("D0", [("SOFT", 35), ("HARD", 15)], {})]
    laps, races = table(spec)
    # the 95th percentile, so the one long vegas stint stays out of the all-circuit share
    lim = StintLimits(prior_stints=10, quantile=0.95).fit(laps, races)
    got = lim.predict("vegas", "2022+")["SOFT"]
    assert 20 < got["value"] < 35 and got["pooled"]
    # a circuit never seen: the share of its distance, uncertain
    new = lim.predict("qatar_new", "2022+", total_laps=60)["SOFT"]
    assert new["n"] == 0 and new["pooled"] and new["value"] == pytest.approx(0.4 * 60, abs=2)
    assert new["spread"] > got["spread"] * 0.5


def test_eras_are_separate_and_capped_races_are_left_out():
    spec = {**many("losail", 2021, 1, [30] * 12), **many("losail", 2023, 20, [12] * 12)}
    laps, races = table(spec)
    lim = StintLimits(prior_stints=0).fit(laps, races)
    assert lim.predict("losail", "pre-2022")["SOFT"]["value"] == 30
    assert lim.predict("losail", "2022+")["SOFT"]["value"] == 12
    free = StintLimits(prior_stints=0, exclude_events=[(2023, "losail")]).fit(laps, races)
    assert "losail" not in free.limits_ or "2022+" not in free.limits_["losail"]


def test_round_trip_through_json():
    laps, races = table(many("monza", 2023, 1, list(range(10, 25))))
    lim = StintLimits(exclude_events=[(2023, "losail")]).fit(laps, races)
    back = StintLimits.from_dict(json.loads(json.dumps(lim.to_dict())))
    assert back.predict("monza", "2022+") == lim.predict("monza", "2022+")
    assert back.exclude_events == ((2023, "losail"),)


def test_race_models_carry_the_limits(tmp_path):
    from f1analyzer.models.race_models import RaceModels
    from tests.models.test_fit_race_models import synthetic_store_tables

    laps, races, stops = synthetic_store_tables()
    models = RaceModels().fit(laps, races, stops)
    monza = models.circuit("monza").max_stint_laps["2022+"]
    # the synthetic soft stints end between laps 12 and 19
    assert 12 <= monza["SOFT"]["value"] <= 19 and monza["SOFT"]["n"] > 0
    assert set(models.global_.max_stint_laps["2022+"]) == {"SOFT", "MEDIUM", "HARD"}
    models.save(tmp_path / "m.json")
    again = RaceModels.load(tmp_path / "m.json")
    assert again.circuit("monza").max_stint_laps == models.circuit("monza").max_stint_laps


@pytest.mark.realdata
def test_real_limits_are_plausible(tmp_path, data_dir):
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.store import RaceStore

    store = RaceStore(tmp_path / "store")
    for y in (2022, 2023, 2024):
        [res] = ingest_files([data_dir / "laps" / f"{y}.csv.gz"], store)
        assert res.ok
    lim = StintLimits(exclude_events=[(2023, "losail")]).fit(pd.DataFrame(store.laps()), store.races())
    total = lim.total_laps_
    for ck, eras in lim.limits_.items():
        for comp, v in eras["2022+"].items():
            assert 8 <= v["value"] <= total[ck] + 5, (ck, comp, v)
    # issue 11: Monza's soft is not a 31-lap tyre, Singapore's not a 39-lap one
    assert lim.predict("monza", "2022+")["SOFT"]["value"] < 31
    assert lim.predict("marina_bay", "2022+")["SOFT"]["value"] < 39
    # across circuits the harder compound runs longer
    soft = np.array([e["2022+"]["SOFT"]["value"] for e in lim.limits_.values()])
    hard = np.array([e["2022+"]["HARD"]["value"] for e in lim.limits_.values()])
    assert np.median(hard - soft) > 5


def test_a_single_stint_still_gives_a_finite_limit_that_saves():
    laps, races = table({(2023, 1, "monza"): [("A", [("SOFT", 20), ("HARD", 30)], {})]})
    lim = StintLimits().fit(laps, races)
    got = lim.predict("monza", "2022+")
    assert got["SOFT"]["value"] == 20 and got["SOFT"]["spread"] is not None
    json.dumps(lim.to_dict(), allow_nan=False)
