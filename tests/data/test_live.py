"""Live ingestion: FastF1 ``Session.laps`` frames → canonical laps → store, and the no-network path.

No test reaches the internet: FastF1 frames are built here with FastF1's dtypes, the calendar
comes from a local Ergast-shaped server, and the network failures are produced by pointing
the clients at a closed 127.0.0.1 port.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone

import pandas as pd
import pytest

from f1analyzer.data import RaceStore
from f1analyzer.data.jolpica import JolpicaClient
from f1analyzer.data.live import FastF1Source, check_reachable, ingest_live, laps_from_fastf1, load_fastf1_race
from f1analyzer.data.schema import LAP_COLUMNS
from f1analyzer.errors import DataValidationError, InvalidRequestError, NetworkUnavailableError
from tests.helpers import REPO, free_port

from .ergast_server import SCHEDULE_2024, ergast_server
from .frames import N_LAPS, fastf1_laps_frame, write_csv, race_frame

EVENTS = {1: "Bahrain Grand Prix", 2: "Saudi Arabian Grand Prix", 3: "Australian Grand Prix",
          4: "Japanese Grand Prix"}
AFTER_ROUND_3 = datetime(2024, 3, 30, tzinfo=timezone.utc)


class RecordingLoader:
    """A FastF1 stand-in for ``FastF1Source(load_race=...)``: FastF1-typed frames, calls recorded."""

    def __init__(self, broken: set[int] = frozenset()):
        self.calls: list[tuple[int, int]] = []
        self.broken = broken

    def __call__(self, season: int, rnd: int) -> tuple[pd.DataFrame, str]:
        self.calls.append((season, rnd))
        laps = fastf1_laps_frame(rnd)
        if rnd in self.broken:
            laps = laps.drop(columns=["TyreLife"])
        return laps, EVENTS[rnd]


#: the console script's entry point, run in a fresh interpreter
CLI = [sys.executable, "-c", "import sys; from f1analyzer.cli import main; sys.exit(main())"]


def closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}/static/"


def test_fastf1_frame_dtypes_are_fastf1s():
    import fastf1.core

    laps = fastf1.core.Laps(fastf1_laps_frame())
    for col, dtype in {"LapTime": "timedelta64[ns]", "Time": "timedelta64[ns]", "PitInTime": "timedelta64[ns]",
                       "LapNumber": "float64", "Stint": "float64", "Position": "float64"}.items():
        assert str(laps[col].dtype) == dtype, col


def test_fastf1_laps_mapped_to_canonical():
    import fastf1.core

    raw = fastf1.core.Laps(fastf1_laps_frame(round_=5))
    laps, report = laps_from_fastf1(raw, season=2024, round=5, event="Chinese Grand Prix")
    assert report.rejected == 0 and report.rows_kept == 3 * N_LAPS
    assert report.path == "fastf1:2024/5"
    assert list(laps.columns) == [*LAP_COLUMNS, "event"]
    assert (laps["round"] == 5).all() and (laps["season"] == 2024).all()
    assert set(laps["event"]) == {"Chinese Grand Prix"}
    # the same race read from the file format gives the same canonical laps
    from_file, _ = laps_from_fastf1(race_frame(5).drop(columns=["RoundNumber", "EventName"]),
                                    season=2024, round=5, event="Chinese Grand Prix")
    pd.testing.assert_frame_equal(laps, from_file)
    aaa = laps[laps["driver"] == "AAA"].set_index("lap_number")
    assert pd.isna(aaa.at[1, "lap_time_s"]) and aaa.at[2, "lap_time_s"] == pytest.approx(90.0)
    assert aaa.at[4, "pit_in"] and aaa.at[5, "pit_out"] and not aaa.at[5, "pit_in"]
    assert aaa.at[5, "tyre_life_laps"] == 1.0 and aaa.at[5, "fresh_tyre"]
    assert str(aaa.at[3, "driver_number"]) == "1" and aaa.at[3, "position"] == 1


def test_fastf1_garbage_rows_rejected():
    raw = fastf1_laps_frame()
    raw["Driver"] = raw["Driver"].astype(object)
    raw.loc[3, "Driver"] = None  # FastF1 leaves a driver out now and then
    laps, report = laps_from_fastf1(raw, season=2024, round=5, event="Chinese Grand Prix")
    assert report.rejected == 1 and len(laps) == 3 * N_LAPS - 1


def test_ingest_live_one_round(tmp_path):
    store = RaceStore(tmp_path / "store")
    loader = RecordingLoader()
    [res] = ingest_live(store, season=2024, round_=2, source=FastF1Source(load_race=loader, probe_url=None))
    assert res.ok and res.rounds == [2] and res.source == "fastf1:2024/2"
    assert loader.calls == [(2024, 2)]
    races = store.races(2024)
    assert races[["round", "event", "circuit_key", "source", "laps"]].values.tolist() == [
        [2, "Saudi Arabian Grand Prix", "jeddah", "fastf1", 3 * N_LAPS]]
    assert len(store.pit_stops(2024, 2)) == 2


def test_ingest_latest_fetches_only_completed_unstored_rounds(tmp_path):
    store = RaceStore(tmp_path / "store")
    loader = RecordingLoader()
    source = FastF1Source(load_race=loader, probe_url=None)
    with ergast_server({"/2024.json": [(200, {}, SCHEDULE_2024)]}) as (base, _):
        with JolpicaClient(base, max_attempts=1) as api:
            ingest_live(store, season=2024, round_=1, source=source)
            results = ingest_live(store, season=2024, latest=True, source=source, jolpica=api, now=AFTER_ROUND_3)
            assert [r.rounds for r in results] == [[2], [3]]
            assert store.races(2024)["round"].tolist() == [1, 2, 3]
            # the weekly run again: nothing new, nothing fetched
            assert ingest_live(store, latest=True, source=source, jolpica=api, now=AFTER_ROUND_3) == []
    assert loader.calls == [(2024, 1), (2024, 2), (2024, 3)]


def test_ingest_live_season_continues_past_a_bad_race(tmp_path):
    store = RaceStore(tmp_path / "store")
    source = FastF1Source(load_race=RecordingLoader(broken={2}), probe_url=None)
    seen = []
    with ergast_server({"/2024.json": [(200, {}, SCHEDULE_2024)]}) as (base, _):
        with JolpicaClient(base, max_attempts=1) as api:
            results = ingest_live(store, season=2024, source=source, jolpica=api, now=AFTER_ROUND_3,
                                  on_result=seen.append)
    assert [r.ok for r in results] == [True, False, True] and seen == results
    assert "missing required column(s): TyreLife" in results[1].error
    assert store.races(2024)["round"].tolist() == [1, 3]


def test_fastf1_source_fetch_whole_season(tmp_path):
    source = FastF1Source(load_race=RecordingLoader(), rounds=lambda season: [3, 4], probe_url=None)
    fetched = source.fetch(2024)
    assert [set(f.laps["round"]) for f in fetched] == [{3}, {4}]


def test_ingest_live_argument_errors(tmp_path):
    store = RaceStore(tmp_path / "store")
    source = FastF1Source(load_race=RecordingLoader(), probe_url=None)
    with pytest.raises(InvalidRequestError, match="--season"):
        ingest_live(store, source=source)
    with pytest.raises(InvalidRequestError, match="not both"):
        ingest_live(store, season=2024, round_=1, latest=True, source=source)


def test_no_network_fails_fast_with_one_line(tmp_path):
    url = closed_url()
    with pytest.raises(NetworkUnavailableError) as err:
        check_reachable(url, timeout_s=2.0)
    msg = err.value.message
    assert msg.startswith(f"cannot reach F1 live timing at {url}") and "\n" not in msg
    assert "f1analyzer ingest $F1_DATA_DIR/laps" in msg


def test_no_network_leaves_store_untouched(tmp_path):
    store = RaceStore(tmp_path / "store")
    write_csv(race_frame(), tmp_path / "2024.csv")
    from f1analyzer.data.ingest import ingest_files

    ingest_files([tmp_path / "2024.csv"], store)
    before = (store.root / "seasons" / "2024.parquet").read_bytes()
    loader = RecordingLoader()
    source = FastF1Source(load_race=loader, probe_url=closed_url(), timeout_s=2.0)
    with pytest.raises(NetworkUnavailableError):
        ingest_live(store, latest=True, source=source)
    assert loader.calls == []
    assert (store.root / "seasons" / "2024.parquet").read_bytes() == before


def test_real_fastf1_without_network_raises_network_error(tmp_path, monkeypatch):
    """FastF1 itself (no stand-in), with every request sent to a closed local proxy."""
    proxy = f"http://127.0.0.1:{free_port()}"
    for var in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(var, proxy)
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises((NetworkUnavailableError, DataValidationError)) as err:
        load_fastf1_race(2024, 5, cache_dir=tmp_path / "ff1")
    assert isinstance(err.value, NetworkUnavailableError), err.value.message


@pytest.mark.parametrize("args", [["--live", "--season", "2024", "--round", "5"], ["--latest"]])
def test_cli_without_network_exits_nonzero_with_one_line(tmp_path, args):
    proxy = f"http://127.0.0.1:{free_port()}"  # nothing listens: every request is refused at once
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy",)}
    env.update(HTTPS_PROXY=proxy, HTTP_PROXY=proxy, F1A_HOME=str(tmp_path / "home"))
    proc = subprocess.run([*CLI, "ingest", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: cannot reach F1 live timing")
    assert not (tmp_path / "home" / "store" / "seasons").exists()
