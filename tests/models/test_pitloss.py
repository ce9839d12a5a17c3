"""Pit loss under SC/VSC measured against pre-neutralisation gaps (models/pitloss.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from f1analyzer.models import pitloss

GREEN_S = 22.0


def _race(season: int, rnd: int, rng, *, stop_loss_s: float, kind: str, n_cars: int = 20,
          n_laps: int = 20, neutral_from: int = 10):
    """Laps of a race where the leader boxes on the first neutralised lap (``neutral_from``).

    Cars run 2.5 s apart; the stop costs ``stop_loss_s`` against those gaps, so every car
    less than the loss behind gets ahead; then the field bunches (gaps halve).
    """
    status = "4" if kind == "sc" else "6"
    rows = []
    drivers = [f"D{i:02d}" for i in range(n_cars)]
    loss = stop_loss_s + rng.normal(0.0, 0.5)
    for lap in range(1, n_laps + 1):
        for i, d in enumerate(drivers):
            gap = 2.5 * i
            if lap > neutral_from:
                gap = gap / 2  # the queue forms; order is kept
            t = lap * 90.0 + gap
            if d == "D00" and lap > neutral_from:
                # rejoins behind the cars whose pre-neutralisation gap was below the loss
                ahead = [j for j in range(1, n_cars) if 2.5 * j < loss]
                t = lap * 90.0 + (2.5 * max(ahead) / 2 + 0.3 if ahead else 0.0)
            rows.append({
                "season": season, "round": rnd, "driver": d, "lap_number": lap, "session_time_s": t,
                "pit_in": d == "D00" and lap == neutral_from, "pit_out": d == "D00" and lap == neutral_from + 1,
                "track_status": status if neutral_from <= lap <= neutral_from + 2 else "1",
            })
    laps = pd.DataFrame(rows)
    stop = {"season": season, "round": rnd, "driver": "D00", "lap": neutral_from, "kind": kind,
            "loss_s": np.nan, "pit_lane_time_s": np.nan}
    return laps, stop


def _synthetic(n_races: int, sc_loss_s: float, vsc_loss_s: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    laps, stops = [], []
    for r in range(n_races):
        kind = "sc" if r % 2 == 0 else "vsc"
        lp, st = _race(2023, r + 1, rng, stop_loss_s=sc_loss_s if kind == "sc" else vsc_loss_s, kind=kind)
        laps.append(lp)
        stops.append(st)
    return pd.concat(laps, ignore_index=True), pd.DataFrame(stops)


def test_pairs_compare_with_the_gaps_before_the_neutralisation():
    laps, stops = _synthetic(2, 11.0, 14.0)
    pairs = pitloss.neutral_pairs(laps, stops)
    assert set(pairs["kind"]) == {"sc", "vsc"}
    one = pairs[pairs["round"] == 1].sort_values("gap_s")
    # pre-neutralisation gaps, not the bunched ones
    assert one["gap_s"].iloc[0] == pytest.approx(2.5)
    # cars less than the loss behind got ahead, the others did not
    assert one.loc[one["gap_s"] < 10.0, "ahead"].all()
    assert not one.loc[one["gap_s"] > 12.0, "ahead"].any()


def test_stops_on_later_neutralised_laps_are_not_measured():
    rng = np.random.default_rng(1)
    laps, stop = _race(2023, 1, rng, stop_loss_s=11.0, kind="sc")
    laps.loc[laps["lap_number"] == 9, "track_status"] = "14"  # the SC was already out on lap 9
    assert pitloss.neutral_pairs(laps, pd.DataFrame([stop])).empty


def test_pooled_ratios_recover_sc_and_vsc_losses():
    laps, stops = _synthetic(40, 11.0, 14.0)
    pairs = pitloss.neutral_pairs(laps, stops)
    pairs["circuit_key"] = "x"
    pooled = pitloss.pooled_ratios(pairs, {"x": GREEN_S})
    assert pooled["constrained"] == []
    # the loss lies between the last gap passed and the first one kept: within a 2.5 s car gap
    assert pooled["sc_ratio"] * GREEN_S == pytest.approx(11.0, abs=1.5)
    assert pooled["vsc_ratio"] * GREEN_S == pytest.approx(14.0, abs=1.5)
    assert pooled["sc_ratio"] < pooled["vsc_ratio"] < 1.0


def test_summarise_shrinks_a_thin_circuit_to_the_pooled_ratio():
    laps, stops = _synthetic(40, 11.0, 14.0)
    pairs = pitloss.neutral_pairs(laps, stops)
    pairs["circuit_key"] = "x"
    pooled = pitloss.pooled_ratios(pairs, {"x": GREEN_S})
    green = pd.DataFrame({"kind": ["green"] * 30, "loss_s": np.full(30, 20.0), "pit_lane_time_s": 18.0})
    glob = {"pit_loss_s": GREEN_S, "pit_loss_sd_s": 1.0}
    # a circuit with one SC stop costing 19 s keeps close to the pooled ratio times its green loss
    thin_laps, thin_stop = _race(2024, 1, np.random.default_rng(3), stop_loss_s=19.0, kind="sc")
    thin = pitloss.neutral_pairs(thin_laps, pd.DataFrame([thin_stop]))
    out = pitloss.summarise(green, glob, pooled=pooled, pairs=thin)
    assert out["pit_loss_s"] == pytest.approx(20.0 * 30 / 35 + GREEN_S * 5 / 35)
    assert pooled["sc_ratio"] * out["pit_loss_s"] < out["pit_loss_sc_s"] < 0.7 * out["pit_loss_s"]
    assert out["pit_loss_sc_s"] < out["pit_loss_vsc_s"] < out["pit_loss_s"]
    assert out["pit_loss_constrained"] == []


def test_a_constraint_still_applied_is_recorded():
    laps, stops = _synthetic(40, 15.0, 10.0)  # VSC cheaper than SC: not physical
    pairs = pitloss.neutral_pairs(laps, stops)
    pairs["circuit_key"] = "x"
    pooled = pitloss.pooled_ratios(pairs, {"x": GREEN_S})
    assert pooled["sc_ratio"] == pytest.approx(pooled["vsc_ratio"])
    assert any("VSC set equal to SC" in s for s in pooled["constrained"])
    green = pd.DataFrame({"kind": ["green"] * 10, "loss_s": np.full(10, GREEN_S), "pit_lane_time_s": 18.0})
    out = pitloss.summarise(green, pooled=pooled)
    assert out["pit_loss_constrained"] == pooled["constrained"]


@pytest.mark.realdata
def test_real_sc_cheaper_than_vsc_cheaper_than_green(data_dir, tmp_path_factory):
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.store import RaceStore

    store = RaceStore(tmp_path_factory.mktemp("store"))
    assert all(r.ok for r in ingest_files([data_dir / "laps"], store))
    races = store.races()
    circuit_of = races.set_index(["season", "round"])["circuit_key"].astype(str)
    glob, by_circuit = pitloss.fit_circuits(store.laps(), store.pit_stops(), circuit_of)
    assert glob["pit_loss_sc_s"] < glob["pit_loss_vsc_s"] < glob["pit_loss_s"]
    for key, pit in by_circuit.items():
        assert pit["pit_loss_sc_s"] < pit["pit_loss_vsc_s"] < pit["pit_loss_s"], key
        assert pit["pit_loss_constrained"] == [], key
        if pit["n_sc_stops"] >= 3:
            assert pit["pit_loss_sc_s"] <= 0.7 * pit["pit_loss_s"], key
