"""Validation of FastF1-format lap files: what is refused as a whole, what row by row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from f1analyzer.data.files import expand_paths, read_lap_file, season_from_name, to_canonical_laps
from f1analyzer.data.schema import LAP_COLUMNS, REQUIRED_FASTF1_COLUMNS
from f1analyzer.errors import DataValidationError

from .frames import N_LAPS, race_frame, write_csv


def test_clean_file_maps_every_row(tmp_path):
    path = write_csv(race_frame(), tmp_path / "2024.csv.gz")
    laps, report = read_lap_file(path)
    assert report.season == 2024
    assert report.rows_read == report.rows_kept == 3 * N_LAPS
    assert report.rejected == 0
    assert list(laps.columns) == [*LAP_COLUMNS, "event"]
    for col, dtype in LAP_COLUMNS.items():
        assert str(laps[col].dtype) == dtype, col
    assert set(laps["event"]) == {"Bahrain Grand Prix"}
    # Timedelta text of session times became seconds
    assert laps["session_time_s"].between(3600, 3600 + 20 * 2000).all()


def test_garbage_lap_times_rejected_row_by_row_good_rows_kept(tmp_path):
    df = race_frame()
    bad_rows = [4, 15, 22]
    df.loc[bad_rows, "LapTime"] = ["fast", "1:3x", "-3.0"]
    path = write_csv(df, tmp_path / "laps_2023.csv")
    laps, report = read_lap_file(path)
    assert report.rows_read == 30
    assert report.rejected == 3
    assert report.rows_kept == len(laps) == 27
    assert report.reasons == {"unparseable LapTime": 2, "non-positive LapTime": 1}
    # examples carry the file row (1-based after the header) and the offending value
    assert (bad_rows[0] + 2, "unparseable LapTime", "fast") in report.examples
    assert "fast" in report.summary() and "3 rejected" in report.summary()
    assert report.rejected_by_round == {1: 3}
    kept = set(zip(laps["driver"], laps["lap_number"]))
    for i in bad_rows:
        assert (df.at[i, "Driver"], int(float(df.at[i, "LapNumber"]))) not in kept


def test_empty_lap_time_is_kept_as_nan(tmp_path):
    laps, report = read_lap_file(write_csv(race_frame(), tmp_path / "2022.csv"))
    assert report.rejected == 0
    first = laps[laps["lap_number"] == 1]
    assert len(first) == 3 and first["lap_time_s"].isna().all()
    assert not first["is_clean"].any()


def test_missing_required_columns_refused_listing_them(tmp_path):
    df = race_frame().drop(columns=["LapTime", "Compound"])
    with pytest.raises(DataValidationError) as err:
        read_lap_file(write_csv(df, tmp_path / "2021.csv"))
    assert "LapTime" in err.value.message and "Compound" in err.value.message
    assert err.value.details["missing_columns"] == ["LapTime", "Compound"]
    assert "\n" not in err.value.message


def test_no_season_is_a_clear_error(tmp_path):
    path = write_csv(race_frame(), tmp_path / "laps.csv")
    assert season_from_name(path) is None
    with pytest.raises(DataValidationError, match="cannot tell the season; pass --season"):
        read_lap_file(path)
    laps, report = read_lap_file(path, season=2020)
    assert report.season == 2020 and (laps["season"] == 2020).all()


def test_timedelta_string_lap_time_of_raw_fastf1_format(tmp_path):
    df = race_frame()
    secs = pd.to_numeric(df["LapTime"].replace("", np.nan))
    df["LapTime"] = [str(pd.Timedelta(seconds=s)) if pd.notna(s) else "" for s in secs]
    assert df.at[1, "LapTime"].startswith("0 days 00:01:")
    laps, report = read_lap_file(write_csv(df, tmp_path / "2024.csv"))
    assert report.rejected == 0
    got = laps.set_index(["driver", "lap_number"])["lap_time_s"]
    assert got.loc[("AAA", 2)] == pytest.approx(90.0)
    assert got.loc[("AAA", 4)] == pytest.approx(112.0)


def test_truncated_gzip_refused(tmp_path):
    full = write_csv(race_frame(), tmp_path / "full_2024.csv.gz")
    cut = tmp_path / "cut_2024.csv.gz"
    cut.write_bytes(full.read_bytes()[: len(full.read_bytes()) // 2])
    with pytest.raises(DataValidationError, match="truncated or corrupt"):
        read_lap_file(cut)


def test_not_gzip_at_all_refused(tmp_path):
    bogus = tmp_path / "2024.csv.gz"
    bogus.write_bytes(b"this is not gzip")
    with pytest.raises(DataValidationError, match=str(bogus.name)):
        read_lap_file(bogus)


def test_header_only_file_refused(tmp_path):
    path = tmp_path / "2024.csv"
    path.write_text(",".join(REQUIRED_FASTF1_COLUMNS) + "\n")
    with pytest.raises(DataValidationError, match="no rows"):
        read_lap_file(path)


def test_duplicate_laps_reported_once_kept_once():
    df = pd.concat([race_frame(), race_frame().iloc[[5, 6]]], ignore_index=True)
    laps, report = to_canonical_laps(df, season=2024)
    assert report.reasons["duplicate lap"] == 2
    assert report.rejected == 2
    assert len(laps) == 30


def test_other_bad_cells_rejected_with_reason():
    df = race_frame()
    df.loc[0, "Driver"] = "verstappen"
    df.loc[1, "TrackStatus"] = "green"
    df.loc[2, "LapNumber"] = "0"
    df.loc[3, "TyreLife"] = "many"
    laps, report = to_canonical_laps(df, season=2024)
    assert report.rejected == 4
    assert set(report.reasons) == {"bad Driver (3-letter code expected)", "bad TrackStatus (digits expected)",
                                   "bad LapNumber", "bad TyreLife"}
    assert len(laps) == 26


def test_parquet_input(tmp_path):
    df = race_frame()
    path = tmp_path / "2019.parquet"
    df.to_parquet(path)
    laps, report = read_lap_file(path)
    assert report.rows_kept == 30 and (laps["season"] == 2019).all()


def test_expand_paths_folders_and_missing(tmp_path):
    write_csv(race_frame(), tmp_path / "d" / "2020.csv.gz")
    write_csv(race_frame(), tmp_path / "d" / "sub" / "2021.csv")
    (tmp_path / "d" / "notes.txt").write_text("x")
    files = expand_paths([tmp_path / "d"])
    assert [f.name for f in files] == ["2020.csv.gz", "2021.csv"]
    with pytest.raises(DataValidationError, match="no such file"):
        expand_paths([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataValidationError, match="no lap files found"):
        expand_paths([tmp_path / "empty"])

