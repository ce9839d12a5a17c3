"""Sprints as a session of their weekend: stored apart, idempotent, race queries unaffected."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from f1analyzer.cli import app
from f1analyzer.data import RaceStore, load_race
from f1analyzer.data.ingest import ingest_files, session_from_path
from f1analyzer.data.sql import run_sql
from f1analyzer.errors import InvalidRequestError, NotFoundError

from .frames import N_LAPS, race_frame, season_frame, write_csv

ROUNDS = {1: "Bahrain Grand Prix", 2: "Saudi Arabian Grand Prix", 3: "Austrian Grand Prix"}


def snapshot(root) -> dict[str, bytes]:
    d = root / "seasons"
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())} if d.is_dir() else {}


def sprint_frame() -> pd.DataFrame:
    """A shorter sprint on the round-3 weekend (same columns as a Grand Prix file)."""
    df = race_frame(3, "Austrian Grand Prix")
    return df[df["LapNumber"].astype(float) <= 8].assign(LapTime=lambda d: d["LapTime"].where(d["LapTime"] == "", "91.000"))


@pytest.fixture
def files(tmp_path):
    race = write_csv(season_frame(ROUNDS), tmp_path / "data" / "laps" / "2023.csv.gz")
    sprint = write_csv(sprint_frame(), tmp_path / "data" / "sprint" / "2023.csv.gz")
    return race, sprint


@pytest.fixture
def store(tmp_path) -> RaceStore:
    return RaceStore(tmp_path / "store")


def test_session_is_told_by_the_path(tmp_path):
    assert session_from_path(tmp_path / "sprint" / "2023.csv.gz") == "sprint"
    assert session_from_path(tmp_path / "x" / "2023_sprint.csv") == "sprint"
    assert session_from_path(tmp_path / "laps" / "2023.csv.gz") == "race"


def test_sprint_is_stored_as_a_session_of_its_weekend(store, files):
    race, sprint = files
    results = ingest_files([race.parent.parent], store)  # the whole data folder
    assert [(r.session, r.rounds) for r in results] == [("race", [1, 2, 3]), ("sprint", [3])]
    assert sorted(p.name for p in store.seasons_dir.iterdir()) == ["2023.parquet", "2023.sprint.parquet"]
    sprints = store.races(session="sprint")
    assert sprints[["round", "event", "circuit_key", "session", "total_laps"]].values.tolist() == [
        [3, "Austrian Grand Prix", "red_bull_ring", "sprint", 8]]
    both = store.races(session=None)
    # a weekend in the order it was run: the sprint, then its Grand Prix
    assert list(zip(both["round"], both["session"])) == [(1, "race"), (2, "race"), (3, "sprint"), (3, "race")]
    laps = store.laps(2023, 3, session="sprint")
    assert len(laps) == 3 * 8 and set(laps["session"]) == {"sprint"}
    assert set(store.stints(2023, 3, session="sprint")["session"]) == {"sprint"}
    assert len(store.laps(2023, 3, session=None)) == 3 * N_LAPS + 3 * 8
    assert store.seasons() == [2023] and store.seasons("sprint") == [2023]
    sprint_race = load_race(2023, "Austria", store=store, session="sprint")
    assert (sprint_race.round, sprint_race.total_laps, len(sprint_race.results)) == (3, 8, 3)


def test_race_queries_are_unaffected_by_sprints(store, files, tmp_path):
    race, sprint = files
    ingest_files([race], store)
    before = {name: getattr(store, name)() for name in ("races", "laps", "stints", "pit_stops")}
    ingest_files([sprint], store)
    for name, df in before.items():
        assert getattr(store, name)().equals(df), name
        assert set(getattr(store, name)()["session"]) == {"race"}
    race3 = load_race(2023, 3, store=store)
    assert race3.total_laps == N_LAPS and len(race3.laps) == 3 * N_LAPS


def test_sprint_ingest_is_idempotent_and_leaves_races_alone(store, files):
    race, sprint = files
    ingest_files([race, sprint], store)
    before = snapshot(store.root)
    ingest_files([sprint], store)
    ingest_files([race.parent.parent], store)
    assert snapshot(store.root) == before
    # the sprint again with one car fewer replaces only the sprint file
    df = sprint_frame()
    smaller = write_csv(df[df["Driver"] != "CCC"], sprint.parent / "2023_r3.csv")
    # a third of the sprint's laps gone: refused unless told to replace (issue 13, item 6)
    (refused,) = ingest_files([smaller], store)
    assert not refused.ok and "--replace" in refused.error
    assert snapshot(store.root) == before
    ingest_files([smaller], store, replace=True)
    after = snapshot(store.root)
    assert after["2023.parquet"] == before["2023.parquet"]
    assert after["2023.sprint.parquet"] != before["2023.sprint.parquet"]
    assert int(store.races(session="sprint")["drivers"].iat[0]) == 2


def test_explicit_session_and_bad_session(store, files, tmp_path):
    _, sprint = files
    elsewhere = write_csv(sprint_frame(), tmp_path / "other" / "2023.csv")
    [res] = ingest_files([elsewhere], store, session="sprint")
    assert res.ok and res.session == "sprint" and store.races().empty
    with pytest.raises(InvalidRequestError, match="unknown session"):
        ingest_files([elsewhere], store, session="qualifying")
    with pytest.raises(InvalidRequestError, match="unknown session"):
        store.laps(session="fp1")
    with pytest.raises(NotFoundError):
        load_race(2024, 3, store=store, session="sprint")


def test_store_written_before_sessions_reads_as_races(store, files):
    race, _ = files
    ingest_files([race], store)
    path = store.seasons_dir / "2023.parquet"
    table = pq.read_table(path)
    old = table.drop_columns(["session"])  # the shape of a file written before sprints existed
    pq.write_table(pa.Table.from_pandas(old.to_pandas(), preserve_index=False).replace_schema_metadata(table.schema.metadata), path)
    fresh = RaceStore(store.root)
    assert set(fresh.laps()["session"]) == {"race"} and len(fresh.races()) == 3
    assert run_sql(fresh, "SELECT DISTINCT session FROM laps")["session"].tolist() == ["race"]


def test_sql_and_cli_show_the_session(files, f1a_home):
    race, sprint = files
    st = RaceStore(f1a_home / "store")
    ingest_files([race, sprint], st)
    counts = run_sql(st, "SELECT session, count(*) AS n FROM laps GROUP BY 1 ORDER BY 1")
    assert counts.to_dict("records") == [{"session": "race", "n": 9 * N_LAPS}, {"session": "sprint", "n": 24}]
    for table in ("races", "stints", "pit_stops"):
        assert "session" in run_sql(st, f"SELECT * FROM {table} LIMIT 1").columns
    runner = CliRunner()
    out = runner.invoke(app, ["races", "--json", "--session", "sprint"])
    assert out.exit_code == 0, out.output
    assert [(r["round"], r["session"]) for r in json.loads(out.stdout)] == [(3, "sprint")]
    out = runner.invoke(app, ["races", "--json"])
    assert [r["session"] for r in json.loads(out.stdout)] == ["race", "race", "sprint", "race"]
