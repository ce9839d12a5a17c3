"""`f1analyzer sql`: read-only DuckDB queries over the store."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from f1analyzer.cli import app, main
from f1analyzer.data import RaceStore
from f1analyzer.data.ingest import ingest_files
from f1analyzer.data.sql import run_sql
from f1analyzer.errors import DataNotLoadedError, InvalidRequestError

from .frames import N_LAPS, season_frame, write_csv

ROUNDS = {1: "Bahrain Grand Prix", 2: "Saudi Arabian Grand Prix"}


@pytest.fixture
def store(f1a_home, tmp_path) -> RaceStore:
    st = RaceStore(f1a_home / "store")
    [res] = ingest_files([write_csv(season_frame(ROUNDS), tmp_path / "in" / "2020.csv.gz")], st)
    assert res.ok
    return st


def test_queries_every_table(store):
    laps = run_sql(store, "SELECT round, count(*) AS n FROM laps GROUP BY 1 ORDER BY 1")
    assert laps.to_dict("records") == [{"round": 1, "n": 3 * N_LAPS}, {"round": 2, "n": 3 * N_LAPS}]
    races = run_sql(store, "SELECT event FROM races ORDER BY round")
    assert races["event"].tolist() == list(ROUNDS.values())
    stops = run_sql(store, "SELECT count(*) AS n FROM pit_stops")
    assert int(stops["n"].iat[0]) == len(store.pit_stops())
    stints = run_sql(store, "SELECT count(*) AS n FROM stints")
    assert int(stints["n"].iat[0]) == len(store.stints())


@pytest.mark.parametrize("query", ["DROP VIEW laps", "SELECT 1; DROP VIEW laps",
                                   "COPY laps TO 'x.csv'", "INSERT INTO races VALUES (1)"])
def test_only_read_only_statements(store, query):
    before = sorted(p.read_bytes() for p in (store.seasons_dir).iterdir())
    with pytest.raises(InvalidRequestError, match="read-only"):
        run_sql(store, query)
    assert sorted(p.read_bytes() for p in (store.seasons_dir).iterdir()) == before


def test_bad_sql_and_empty_store_are_clear(store, tmp_path):
    with pytest.raises(InvalidRequestError, match="SQL error: .*nope"):
        run_sql(store, "SELECT nope FROM laps")
    with pytest.raises(DataNotLoadedError, match="ingest"):
        run_sql(RaceStore(tmp_path / "empty"), "SELECT 1")


def test_cli_json_and_exit_codes(store, capsys):
    res = CliRunner().invoke(app, ["sql", "SELECT driver, count(*) AS n FROM laps WHERE round = 1 GROUP BY 1 ORDER BY 1", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert len(rows) == 3 and all(r["n"] == N_LAPS for r in rows)
    assert main(["sql", "DELETE FROM laps"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Only one read-only statement") and err.count("\n") == 1
