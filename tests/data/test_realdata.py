"""The data layer on the real 2018–2024 lap files (F1_DATA_DIR; skipped when it is not set).

Nothing of the real data is copied into the repository: broken variants are written to tmp_path.
"""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pandas as pd
import pytest

from f1analyzer.data import RaceStore, load_race
from f1analyzer.data.ingest import ingest_files

pytestmark = pytest.mark.realdata


def snapshot(store: RaceStore) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(store.seasons_dir.iterdir())}


@pytest.fixture(scope="module")
def ingested(data_dir, tmp_path_factory):
    """Every season of F1_DATA_DIR/laps in one store (shared by the read-only tests)."""
    store = RaceStore(tmp_path_factory.mktemp("real") / "store")
    results = ingest_files([data_dir / "laps"], store)
    return store, results


def file_rows(path) -> int:
    return len(pd.read_csv(path, usecols=["Driver"]))


def test_every_season_ingested_counts_add_up(ingested, data_dir):
    store, results = ingested
    assert [r.season for r in results] == list(range(2018, 2025))
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    races = store.races()
    assert len(races) == 143
    for res in results:
        rows = file_rows(data_dir / "laps" / f"{res.season}.csv.gz")
        rep = res.report
        assert rep.rows_read == rows
        stored = races[races["season"] == res.season]
        assert int(stored["laps"].sum()) == rows - rep.rejected == len(store.laps(res.season))
        assert int(stored["rejected"].sum()) == rep.rejected
        assert rep.rejected < 0.005 * rows
    assert races.groupby("season").size().to_dict() == {
        2018: 21, 2019: 21, 2020: 17, 2021: 22, 2022: 22, 2023: 22, 2024: 18}
    # 2019+ events know their three C-numbers (from the allocation file next to the laps)
    modern = races[races["season"] >= 2019]
    assert modern["compounds"].map(len).eq(3).all()


def test_hungary_2021_lap_one_chaos_and_red_flag(ingested):
    store, _ = ingested
    race = load_race(2021, "Hungary", store=store)
    assert (race.round, race.circuit_key, race.total_laps) == (11, "hungaroring", 70)
    stops = race.pit_stops
    ham = stops[stops["driver"] == "HAM"]
    assert ham["lap"].tolist() == [2, 4, 19, 47]
    assert ham["stop_number"].tolist() == [1, 2, 3, 4]
    assert ham["compound_after"].tolist() == ["INTERMEDIATE", "MEDIUM", "HARD", "MEDIUM"]
    first = ham.iloc[0]
    assert first["under_red_flag"] and np.isnan(first["duration_s"])  # changed during the red flag
    assert not ham.iloc[1:]["under_red_flag"].any()
    assert ham.iloc[1:]["duration_s"].between(15, 40).all()
    # the red flag after the lap-1 pile-up: most of the field changed tyres during it
    red = stops[stops["lap"] == 2]
    assert len(red) >= 10 and red["under_red_flag"].all()
    st = race.stints[race.stints["driver"] == "HAM"]
    assert st[["stint", "compound", "start_lap", "end_lap"]].values.tolist() == [
        [1, "INTERMEDIATE", 1, 2], [2, "INTERMEDIATE", 3, 4], [3, "MEDIUM", 5, 19],
        [4, "HARD", 20, 47], [5, "MEDIUM", 48, 70]]
    # stints and stops always agree
    n_stints = race.stints.groupby("driver").size()
    n_stops = stops.groupby("driver").size().reindex(n_stints.index, fill_value=0)
    assert (n_stints == n_stops + 1).all()


def test_bahrain_2023_normal_two_stop_races(ingested):
    """Read by hand from laps/2023.csv.gz: VER in at the end of laps 14 and 36 (SOFT, SOFT, HARD),
    HAM at 12 and 30 (SOFT, HARD, HARD); every in-lap green, every stop ~20-30 s in the pit lane."""
    store, _ = ingested
    race = load_race(2023, 1, store=store)
    assert race.event == "Bahrain Grand Prix"
    stops = race.pit_stops.set_index("driver")
    ver, ham = stops.loc[["VER"]], stops.loc[["HAM"]]
    assert ver["lap"].tolist() == [14, 36] and ham["lap"].tolist() == [12, 30]
    assert ver["compound_before"].tolist() + ver["compound_after"].tolist()[-1:] == ["SOFT", "SOFT", "HARD"]
    assert ham["compound_before"].tolist() + ham["compound_after"].tolist()[-1:] == ["SOFT", "HARD", "HARD"]
    both = pd.concat([ver, ham])
    assert both["duration_s"].between(15, 35).all()
    assert not (both["under_sc"] | both["under_vsc"] | both["under_red_flag"]).any()
    assert race.results["driver"].iat[0] == "VER"
    codes = race.stints.set_index(["driver", "stint"]).loc["VER", "compound_code"].tolist()
    assert codes == ["C3", "C3", "C1"]


def test_reingest_changes_nothing(ingested, data_dir):
    store, _ = ingested
    before = snapshot(store)
    races = store.races()
    ingest_files([data_dir / "laps" / "2021.csv.gz", data_dir / "laps" / "2024.csv.gz"], store)
    assert snapshot(store) == before
    assert store.races().equals(races)


def test_truncated_real_file_refused_store_unchanged(ingested, data_dir, tmp_path):
    store, _ = ingested
    before = snapshot(store)
    src = (data_dir / "laps" / "2022.csv.gz").read_bytes()
    cut = tmp_path / "2022.csv.gz"
    cut.write_bytes(src[: len(src) // 3])
    [res] = ingest_files([cut], store)
    assert not res.ok
    assert res.error.startswith(f"{cut}: file is truncated or corrupt")
    assert "nothing from it was stored" in res.error
    assert snapshot(store) == before


def test_missing_column_real_file_refused_store_unchanged(ingested, data_dir, tmp_path):
    store, _ = ingested
    before = snapshot(store)
    df = pd.read_csv(data_dir / "laps" / "2020.csv.gz", dtype=str, keep_default_na=False)
    broken = tmp_path / "2020.csv.gz"
    df.drop(columns=["Stint"]).to_csv(broken, index=False)
    [res] = ingest_files([broken], store)
    assert not res.ok and "missing required column(s): Stint" in res.error
    assert snapshot(store) == before


def test_garbage_cells_rejected_row_by_row_rest_stored(data_dir, tmp_path):
    df = pd.read_csv(data_dir / "laps" / "2019.csv.gz", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(7)
    timed = np.flatnonzero(df["LapTime"].to_numpy() != "")
    bad = np.sort(rng.choice(timed, size=6, replace=False))
    df.loc[bad, "LapTime"] = ["1:2x.3", "fast", "###", "NaNx", "1e", "--"]
    path = tmp_path / "2019.csv.gz"
    df.to_csv(path, index=False)
    shutil.copy(data_dir / "compound_selection.toml", tmp_path / "compound_selection.toml")
    store = RaceStore(tmp_path / "store")
    [res] = ingest_files([path], store)
    rep = res.report
    assert res.ok and rep.rejected == 6 and rep.reasons == {"unparseable LapTime": 6}
    assert [e[0] for e in rep.examples] == [int(i) + 2 for i in bad[:5]]
    assert len(store.laps(2019)) == len(df) - 6
    races = store.races(2019)
    expected = pd.Series(df.loc[bad, "RoundNumber"].astype(int)).value_counts()
    got = races.set_index("round")["rejected"]
    assert got[got > 0].sort_index().to_dict() == expected.sort_index().to_dict()
    kept = store.laps(2019).set_index(["round", "driver", "lap_number"]).index
    for i in bad:
        key = (int(df.at[i, "RoundNumber"]), df.at[i, "Driver"], int(float(df.at[i, "LapNumber"])))
        assert key not in kept


def test_raw_fastf1_file_agrees_with_the_season_file(ingested, data_dir, tmp_path):
    store, _ = ingested
    raw_store = RaceStore(tmp_path / "raw_store")
    raw = data_dir / "raw" / "fastf1_laps_2024_r1-r11.csv.gz"
    with gzip.open(raw, "rt") as fh:
        assert "Sector1Time" in fh.readline()  # the full FastF1 column set
    [res] = ingest_files([raw], raw_store)
    assert res.ok and res.season == 2024 and res.rounds == list(range(1, 12))
    assert res.report.rejected == 0
    got = raw_store.laps(2024)
    want = store.laps(2024)
    want = want[want["round"] <= 11].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)
    pd.testing.assert_frame_equal(raw_store.pit_stops(2024), store.pit_stops(2024).query("round <= 11").reset_index(drop=True))
    r_raw = raw_store.races(2024).drop(columns=["source"])
    r_file = store.races(2024).query("round <= 11").drop(columns=["source"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(r_raw, r_file)
