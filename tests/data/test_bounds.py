"""Bad data cannot hide (issue 13, item 6): physical bounds on every lap column, every rejected
row counted by reason where the user looks, shrinking files refused unless told to replace, and
reads that cannot block or balloon (item 9: FIFOs, devices, size limits)."""

from __future__ import annotations

import gzip
import os
import threading

import pandas as pd
import pytest

from f1analyzer.data.files import read_lap_file, read_raw, to_canonical_laps
from f1analyzer.data.ingest import ingest_files
from f1analyzer.data.schema import LAP_BOUNDS
from f1analyzer.data.store import RaceStore, ShrinkRefusedError, check_lap_bounds
from f1analyzer.errors import DataValidationError

from .frames import N_LAPS, race_frame, season_frame, write_csv


@pytest.fixture
def store(tmp_path) -> RaceStore:
    return RaceStore(tmp_path / "store")


def test_1e308_and_inf_lap_times_are_rejected_and_counted_per_race(store, tmp_path):
    df = season_frame()
    df.loc[5, "LapTime"] = "1e308"   # round 1
    df.loc[6, "LapTime"] = "inf"     # round 1
    df.loc[45, "LapTime"] = "12.5"   # round 2: shorter than any lap anywhere
    (res,) = ingest_files([write_csv(df, tmp_path / "2023.csv")], store)
    assert res.ok, res.error
    out_of_range = "LapTime out of range (30–3600 s)"
    assert res.report.reasons == {out_of_range: 3}
    laps = store.laps(2023)
    assert laps["lap_time_s"].max() < 3600 and len(laps) == 3 * 3 * N_LAPS - 3
    races = store.races(2023).set_index("round")
    assert races.loc[1, "rejected"] == 2 and races.loc[1, "rejected_reasons"] == {out_of_range: 2}
    assert races.loc[2, "rejected"] == 1 and races.loc[3, "rejected_reasons"] == {}


@pytest.mark.parametrize("column,value,reason", [
    ("RoundNumber", "41", "bad RoundNumber"),
    ("RoundNumber", "31", "bad RoundNumber"),
    ("LapNumber", "101", "bad LapNumber"),
    ("LapNumber", "2.5", "bad LapNumber"),
    ("Position", "31.0", "bad Position"),
    ("Position", "0", "bad Position"),
    ("Stint", "16", "bad Stint"),
    ("TyreLife", "1e9", "bad TyreLife"),
    ("DriverNumber", "150", "bad DriverNumber"),
    ("Time", "400 days 00:00:00", "Time out of range (0–21600 s)"),
    ("PitInTime", "-5.0", "PitInTime out of range (0–21600 s)"),
    ("PitOutTime", "1e308", "PitOutTime out of range (0–21600 s)"),
    ("TrackStatus", "123456789", "bad TrackStatus (at most 8 digits)"),
    ("LapTime", "-1e308", "non-positive LapTime"),
])
def test_every_bounded_column_rejects_values_outside_its_range(column, value, reason):
    df = race_frame()
    df[column] = df[column].astype(object)
    df.loc[4, column] = value
    laps, report = to_canonical_laps(df, season=2023)
    assert report.reasons == {reason: 1}, report.reasons
    assert report.rejected == 1 and len(laps) == len(df) - 1


def test_bounds_cover_every_numeric_lap_column():
    numeric = {"round", "lap_number", "lap_time_s", "session_time_s", "pit_in_time_s",
               "pit_out_time_s", "stint", "tyre_life_laps", "position", "driver_number"}
    assert set(LAP_BOUNDS) == numeric


def test_rows_of_no_race_are_kept_as_the_seasons_rejections_not_lost(store, tmp_path):
    """The 330,422 rows with round > 40 used to vanish: ``rejected: 0`` everywhere."""
    df = pd.concat([season_frame(), race_frame(41, "Nowhere Grand Prix")], ignore_index=True)
    (res,) = ingest_files([write_csv(df, tmp_path / "2023.csv.gz")], store)
    assert res.ok and res.report.rejected == 3 * N_LAPS
    assert res.report.to_dict()["rejected_by_round"] == {"unknown": {"bad RoundNumber": 3 * N_LAPS}}
    assert store.rejections() == [{"season": 2023, "session": "race", "source": "2023.csv.gz",
                                   "rows": 3 * N_LAPS, "reasons": {"bad RoundNumber": 3 * N_LAPS}}]
    # a clean re-ingest of the same file name clears that record
    ingest_files([write_csv(season_frame(), tmp_path / "2023.csv.gz")], store)
    assert store.rejections() == []


def test_a_season_outside_the_supported_range_is_refused_whole(tmp_path):
    for year in (1999, 2099):
        with pytest.raises(DataValidationError, match="outside the supported range"):
            read_lap_file(write_csv(race_frame(), tmp_path / f"{year}.csv"))


def test_the_store_refuses_laps_outside_the_bounds_even_from_a_buggy_source(store):
    laps, _ = to_canonical_laps(race_frame(), season=2023)
    laps.loc[3, "lap_time_s"] = 1e308
    with pytest.raises(DataValidationError, match="lap_time_s outside"):
        check_lap_bounds(laps, "season 2023")


def test_a_shrinking_file_is_refused_unless_replace(store, tmp_path):
    """A partly broken file used to replace a good season (18,337 → 13,073 laps)."""
    ingest_files([write_csv(season_frame(), tmp_path / "a" / "2023.csv")], store)
    before = (store.seasons_dir / "2023.parquet").read_bytes()
    broken = season_frame()
    broken.loc[broken["LapNumber"].astype(float) > 6, "LapTime"] = "1e308"  # 40 % of every race
    path = write_csv(broken, tmp_path / "b" / "2023.csv")
    (res,) = ingest_files([path], store)
    assert not res.ok and res.rounds == []
    assert "would drop more than 10% of the stored laps of season 2023 (90 → 54 laps" in res.error
    assert "--replace" in res.error
    assert (store.seasons_dir / "2023.parquet").read_bytes() == before
    # a share just inside the setting is accepted as it is
    (ok,) = ingest_files([path], store, max_drop_share=0.5)
    assert ok.ok and len(store.laps(2023)) == 54
    ingest_files([write_csv(season_frame(), tmp_path / "a" / "2023.csv")], store)
    (forced,) = ingest_files([path], store, replace=True)
    assert forced.ok and len(store.laps(2023)) == 54
    with pytest.raises(ShrinkRefusedError):  # the store's own check, for every writer
        laps, _ = to_canonical_laps(race_frame(1)[lambda d: d["Driver"] == "AAA"], season=2023)
        from f1analyzer.data.ingest import store_laps

        store_laps(store, laps, season=2023, source="x", max_drop_share=0.1)


def _read_in_thread(path, **kw):
    """read_raw in a thread joined with a deadline: a regression (blocking read) fails the test
    instead of hanging it."""
    out: dict = {}

    def run():
        try:
            out["value"] = read_raw(path, **kw)
        except Exception as exc:  # noqa: BLE001 - handed to the test
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout=20)
    assert not t.is_alive(), f"reading {path} blocked"
    return out


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "2023.csv"
    os.mkfifo(fifo)
    out = _read_in_thread(fifo)
    assert isinstance(out.get("error"), DataValidationError)
    assert "a FIFO, not a regular file" in out["error"].message


def test_a_symlink_to_a_device_is_refused(tmp_path):
    link = tmp_path / "2023.csv"
    link.symlink_to("/dev/zero")
    out = _read_in_thread(link)
    assert "a device, not a regular file" in out["error"].message
    # the admin API opens resolved paths without following a (swapped-in) symlink at all
    good = write_csv(race_frame(), tmp_path / "real" / "2023.csv")
    alias = tmp_path / "alias.csv"
    alias.symlink_to(good)
    assert "symlink" in _read_in_thread(alias, follow_symlinks=False)["error"].message


def test_size_limits_count_decompressed_bytes(tmp_path):
    """A small .csv.gz may inflate to gigabytes: the limit counts the bytes after decompression."""
    path = tmp_path / "2023.csv.gz"
    header = ",".join(race_frame().columns) + "\n"
    with gzip.open(path, "wt") as fh:
        fh.write(header)
        fh.write(("x," * 19 + "x\n") * 200_000)  # 8 MB of CSV in a few KB
    assert path.stat().st_size < 100_000
    out = _read_in_thread(path, max_bytes=1_000_000)
    assert "more than 1 MB of lap data (after decompression)" in out["error"].message
    small = write_csv(race_frame(), tmp_path / "s" / "2023.csv")
    assert "over the 0 MB limit" in _read_in_thread(small, max_bytes=100)["error"].message


@pytest.mark.realdata
def test_the_bounds_reject_nothing_of_the_real_2018_2024_data(data_dir):
    """Bounds that are physical, not tight: every real row (red-flag laps of 2,526 s, 87-lap
    races, 4.5-hour sessions) passes."""
    files = sorted((data_dir / "laps").glob("*.csv.gz")) + sorted((data_dir / "sprint").glob("*.csv.gz"))
    assert files
    for path in files:
        _, report = read_lap_file(path)
        assert report.rejected == 0, report.summary()
