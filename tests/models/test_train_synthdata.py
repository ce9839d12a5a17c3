"""Synthetic races for the model tests (no real data needed), and checks of the generator.

Lap time = base + driver offset + compound offset + deg × tyre age − fuel × lap + noise; SC laps
are slow, in-laps +3 s, out-laps +20 s. Each driver makes one or two stops around known laps.
Other model tests import :func:`synthetic_laps` and :func:`fill_store`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from f1analyzer.data.ingest import store_laps
from f1analyzer.data.schema import LAP_COLUMNS
from f1analyzer.data.store import RaceStore

EVENTS = ["Italian Grand Prix", "Bahrain Grand Prix", "Hungarian Grand Prix"]
COMPOUND_OFF = {"SOFT": -0.6, "MEDIUM": 0.0, "HARD": 0.4}
DEG = {"SOFT": 0.12, "MEDIUM": 0.07, "HARD": 0.04}
DRIVERS = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG", "HHH", "III", "JJJ"]


def synthetic_laps(seasons=(2021, 2022, 2023), rounds: int = 3, total_laps: int = 40, seed: int = 0) -> pd.DataFrame:
    """Canonical lap rows (``LAP_COLUMNS`` + ``event``) of synthetic races."""
    rng = np.random.default_rng(seed)
    rows = []
    for season in seasons:
        for rnd in range(1, rounds + 1):
            sc_start = int(rng.integers(10, total_laps - 8))
            sc_laps = set(range(sc_start, sc_start + 3)) if rng.random() < 0.5 else set()
            t_session = np.zeros(len(DRIVERS)) + 3600.0
            plans = []
            for _ in DRIVERS:
                if rng.random() < 0.6:
                    stops = [int(rng.integers(14, 24))]
                    comps = ["MEDIUM", "HARD"]
                else:
                    a = int(rng.integers(10, 16))
                    stops = [a, int(rng.integers(a + 10, a + 16))]
                    comps = ["SOFT", "MEDIUM", "HARD"]
                plans.append((stops, comps))
            offsets = rng.normal(0, 0.5, len(DRIVERS))
            for lap in range(1, total_laps + 1):
                times = []
                for i, drv in enumerate(DRIVERS):
                    stops, comps = plans[i]
                    stint = 1 + sum(lap > s for s in stops)
                    start = 1 if stint == 1 else stops[stint - 2] + 1
                    comp = comps[stint - 1]
                    age = lap - start + 1
                    t = (90.0 + offsets[i] + COMPOUND_OFF[comp] + DEG[comp] * age - 0.06 * lap
                         + rng.normal(0, 0.3))
                    status = "14" if lap in sc_laps else "1"
                    if lap in sc_laps:
                        t += 25.0
                    pit_in = lap in stops
                    pit_out = lap > 1 and (lap - 1) in stops
                    if pit_in:
                        t += 3.0
                    if pit_out:
                        t += 20.0
                    if lap == 1:
                        t += 8.0
                    times.append(t)
                    t_session[i] += t
                    rows.append({
                        "season": season, "round": rnd, "event": EVENTS[(rnd - 1) % len(EVENTS)],
                        "driver": drv, "driver_number": i + 1, "team": f"T{i // 2}", "lap_number": lap,
                        "lap_time_s": t if lap > 1 else np.nan, "session_time_s": t_session[i],
                        "stint": stint, "compound": comp, "compound_code": pd.NA,
                        "tyre_life_laps": float(age), "fresh_tyre": True, "pit_in": pit_in, "pit_out": pit_out,
                        "pit_in_time_s": t_session[i] - 1.0 if pit_in else np.nan,
                        "pit_out_time_s": t_session[i] - t + 21.0 if pit_out else np.nan,
                        "track_status": status, "position": 0, "is_accurate": True,
                    })
                order = np.argsort(t_session)
                pos = np.empty(len(DRIVERS), dtype=int)
                pos[order] = np.arange(1, len(DRIVERS) + 1)
                for i in range(len(DRIVERS)):
                    rows[-len(DRIVERS) + i]["position"] = int(pos[i])
    df = pd.DataFrame(rows)
    df["is_clean"] = ((df["track_status"] == "1") & ~df["pit_in"] & ~df["pit_out"] & df["lap_time_s"].notna()
                      & (df["lap_number"] > 1))
    for col, dtype in LAP_COLUMNS.items():
        df[col] = df[col].astype(dtype) if dtype != "bool" else df[col].astype(bool)
    return df


def fill_store(store: RaceStore, laps: pd.DataFrame) -> None:
    for season, g in laps.groupby("season"):
        store_laps(store, g, season=int(season), source="synthetic")


def test_synthetic_store_round_trip(tmp_path):
    store = RaceStore(tmp_path / "store")
    fill_store(store, synthetic_laps(seasons=(2022,), rounds=2))
    races = store.races()
    assert len(races) == 2 and set(races["circuit_key"]) == {"monza", "bahrain"}
    stops = store.pit_stops(2022)
    assert len(stops) >= len(DRIVERS) * 2
    assert store.laps(2022)["is_clean"].mean() > 0.7
