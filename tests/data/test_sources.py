"""The LapSource interface and the files source."""

from __future__ import annotations

from f1analyzer.data.live import FastF1Source
from f1analyzer.data.sources import DEFAULT_SOURCES, Fetched, FileSource, LapSource

from .frames import season_frame, write_csv


def test_builtin_sources_satisfy_the_protocol(tmp_path):
    assert isinstance(FileSource([tmp_path]), LapSource)
    assert isinstance(FastF1Source(probe_url=None), LapSource)
    assert set(DEFAULT_SOURCES) == {"files", "fastf1"}
    assert DEFAULT_SOURCES["fastf1"](probe_url=None).name == "fastf1"


def test_file_source_fetch_filters_season_and_round(tmp_path):
    write_csv(season_frame(), tmp_path / "d" / "2023.csv.gz")
    write_csv(season_frame(), tmp_path / "d" / "2024.csv.gz")
    src = FileSource([tmp_path / "d"])
    assert src.name == "files"
    everything = src.fetch()
    assert len(everything) == 2 and all(isinstance(f, Fetched) for f in everything)
    [(laps, report)] = src.fetch(2024, round=2)
    assert report.season == 2024
    assert set(laps["round"]) == {2} and set(laps["event"]) == {"Saudi Arabian Grand Prix"}
    assert src.fetch(2019) == []


def test_file_source_with_forced_season(tmp_path):
    write_csv(season_frame(), tmp_path / "laps.csv")
    [(laps, report)] = FileSource([tmp_path / "laps.csv"], season=2021).fetch(2021)
    assert report.season == 2021 and (laps["season"] == 2021).all()
