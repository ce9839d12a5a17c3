"""Shared test factories: synthetic races, filled stores, fitted models, model sets, services.

One place for the builders several suites need (import from here; the old homes re-export them):

- :func:`strategy_laps` / :func:`strategy_env`: 20 cars, 3 events (Monza, Bahrain, Hungaroring)
  in 2022–2023 with known tyre wear; ``strategy_env(root)`` fills a store and fits RaceModels.
- :func:`training_laps` / :func:`fill_store`: 10 cars with simple stints (model training tests).
- :func:`season_frame`, :func:`race_frame`, :func:`write_csv`: FastF1-format lap files.
- :func:`model_set`: a :class:`ModelSet` around race models, with a version id.
- :func:`services`: the application's :class:`Services` for a home, optionally pinned to models.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from f1analyzer.app.services import Services
from f1analyzer.backends.cache import MemoryCache
from f1analyzer.config import Settings, settings_with_home
from f1analyzer.data.files import clean_mask
from f1analyzer.data.ingest import store_laps
from f1analyzer.data.schema import LAP_COLUMNS, conform
from f1analyzer.data.store import RaceStore
from f1analyzer.models.loading import ModelSet
from f1analyzer.models.race_models import RaceModels
from tests.data.frames import N_LAPS, race_frame, season_frame, write_csv  # noqa: F401 - re-exported
from tests.models.test_fit_race_models import make_race

#: the strategy suites' events: (round, event, circuit, base lap time s, safety car)
EVENTS = [(1, "Italian Grand Prix", "monza", 80.0, True), (2, "Bahrain Grand Prix", "bahrain", 92.0, False),
          (3, "Hungarian Grand Prix", "hungaroring", 78.0, True)]
SEASONS = (2022, 2023)


def strategy_laps(seed: int = 3) -> pd.DataFrame:
    """Canonical laps (+ ``event``) of the strategy suites' synthetic seasons."""
    rng = np.random.default_rng(seed)
    frames = []
    for season in SEASONS:
        for rnd, event, circuit, base, sc in EVENTS:
            df = make_race(rng, season, rnd, circuit, base, sc)
            df["event"] = event
            frames.append(df)
    laps = pd.concat(frames, ignore_index=True)
    laps["is_clean"] = clean_mask(laps)
    event = laps["event"]
    laps = conform(laps, LAP_COLUMNS)
    laps["event"] = event.to_numpy()
    return laps


def fill_store(store: RaceStore, laps: pd.DataFrame) -> None:
    """Store ``laps`` season by season (as an ingest would)."""
    for season, g in laps.groupby("season"):
        store_laps(store, g.reset_index(drop=True), season=int(season), source="synthetic")


def strategy_env(root: Path) -> tuple[RaceStore, RaceModels]:
    """A filled store under ``root`` and RaceModels fitted on all of it."""
    store = RaceStore(Path(root) / "store")
    fill_store(store, strategy_laps())
    models = RaceModels().fit(store.laps(), store.races(), store.pit_stops())
    return store, models


def model_set(race_models, version: str = "test-1") -> ModelSet:
    """A model set holding ``race_models`` (what the application hands the operations)."""
    return ModelSet(race_models=race_models, version=version, source="test")


def services(home: Path | Settings, models=None) -> Services:
    """The application's services for ``home`` (or these settings), with an in-memory cache;
    ``models`` (RaceModels or a ModelSet) pins the model set instead of following the registry."""
    settings = home if isinstance(home, Settings) else settings_with_home(home)
    return Services.build(settings, cache=MemoryCache(),
                          models=model_set(models) if isinstance(models, RaceModels) else models)


# ------------------------------------------------------------------------------ training laps
TRAINING_EVENTS = ["Italian Grand Prix", "Bahrain Grand Prix", "Hungarian Grand Prix"]
COMPOUND_OFF = {"SOFT": -0.6, "MEDIUM": 0.0, "HARD": 0.4}
DEG = {"SOFT": 0.12, "MEDIUM": 0.07, "HARD": 0.04}
DRIVERS = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG", "HHH", "III", "JJJ"]


def training_laps(seasons=(2021, 2022, 2023), rounds: int = 3, total_laps: int = 40, seed: int = 0) -> pd.DataFrame:
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
                        "season": season, "round": rnd, "event": TRAINING_EVENTS[(rnd - 1) % len(EVENTS)],
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
