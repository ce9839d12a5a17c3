"""The Parquet store: atomic replacement, idempotent re-ingest, race lookup."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from f1analyzer.data import RaceStore, load_race
from f1analyzer.data.ingest import ingest_files
from f1analyzer.data.schema import RACE_COLUMNS, STORE_LAP_COLUMNS
from f1analyzer.errors import DataNotLoadedError, NotFoundError

from .frames import N_LAPS, race_frame, season_frame, write_csv

ROUNDS = {1: "Bahrain Grand Prix", 2: "Saudi Arabian Grand Prix", 3: "Australian Grand Prix",
          4: "Styrian Grand Prix", 5: "Austrian Grand Prix"}


def snapshot(root) -> dict[str, bytes]:
    """Every file under the store's seasons folder, by name → bytes."""
    d = root / "seasons"
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())} if d.is_dir() else {}


@pytest.fixture
def store(tmp_path) -> RaceStore:
    return RaceStore(tmp_path / "store")


@pytest.fixture
def season_file(tmp_path):
    return write_csv(season_frame(ROUNDS), tmp_path / "in" / "2020.csv.gz")


def test_ingest_then_query(store, season_file):
    [res] = ingest_files([season_file], store)
    assert res.ok and res.season == 2020 and res.rounds == [1, 2, 3, 4, 5]
    races = store.races()
    assert list(races.columns) == list(RACE_COLUMNS)
    assert races["round"].tolist() == [1, 2, 3, 4, 5]
    assert races["laps"].tolist() == [3 * N_LAPS] * 5
    assert races["drivers"].tolist() == [3] * 5 and races["total_laps"].tolist() == [N_LAPS] * 5
    assert races["circuit_key"].tolist() == ["bahrain", "jeddah", "albert_park", "red_bull_ring", "red_bull_ring"]
    assert races["source"].unique().tolist() == ["2020.csv.gz"]
    laps = store.laps(2020, 3)
    assert list(laps.columns) == list(STORE_LAP_COLUMNS) and len(laps) == 3 * N_LAPS
    assert len(store.stints(2020, 3)) == 5 and len(store.pit_stops(2020, 3)) == 2
    assert store.seasons() == [2020] and not store.is_empty()


def test_reingest_is_byte_identical(store, season_file):
    ingest_files([season_file], store)
    before = snapshot(store.root)
    races, laps = store.races(), store.laps()
    ingest_files([season_file], store)
    assert snapshot(store.root) == before
    assert store.races().equals(races)
    assert store.laps().equals(laps)


def test_reingest_of_one_round_replaces_only_that_round(store, season_file, tmp_path):
    ingest_files([season_file], store)
    other = store.laps(2020, 2)
    # round 1 again, now with one car fewer
    df = race_frame(1, "Bahrain Grand Prix")
    write_csv(df[df["Driver"] != "CCC"], tmp_path / "r1" / "2020_r1.csv")
    # a third of round 1's laps gone: refused unless told to replace (issue 13, item 6)
    [res] = ingest_files([tmp_path / "r1" / "2020_r1.csv"], store)
    assert not res.ok and "would drop more than 10%" in res.error and res.rounds == []
    assert store.races(2020).set_index("round").loc[1, "drivers"] == 3
    [res] = ingest_files([tmp_path / "r1" / "2020_r1.csv"], store, replace=True)
    assert res.rounds == [1]
    races = store.races(2020).set_index("round")
    assert races.loc[1, "drivers"] == 2 and races.loc[2, "drivers"] == 3
    assert store.laps(2020, 2).equals(other)
    assert len(store.races(2020)) == 5


def test_failure_while_writing_leaves_the_old_file_intact(store, season_file, tmp_path, monkeypatch):
    ingest_files([season_file], store)
    before = snapshot(store.root)
    newer = write_csv(season_frame({1: "Bahrain Grand Prix"}).assign(Team="Changed"), tmp_path / "x" / "2020.csv")
    real_write = pq.write_table

    def half_written(table, where, **kw):
        real_write(table.slice(0, 5), where, **kw)  # a partial file appears on disk ...
        raise OSError("disk full")  # ... then the write dies

    monkeypatch.setattr(pq, "write_table", half_written)
    with pytest.raises(OSError, match="disk full"):
        ingest_files([newer], store)
    monkeypatch.undo()
    assert snapshot(store.root) == before  # no temp file left, old file byte-identical
    assert set(store.laps(2020)["team"]) == {"Alpha", "Bravo", "Charlie"}


def test_refused_file_leaves_store_as_it_was(store, season_file, tmp_path):
    ingest_files([season_file], store)
    before = snapshot(store.root)
    broken = write_csv(season_frame().drop(columns=["TyreLife"]), tmp_path / "b" / "2020.csv")
    cut = tmp_path / "b" / "2020_cut.csv.gz"
    cut.write_bytes(season_file.read_bytes()[:200])
    results = ingest_files([broken, cut], store)
    assert [r.ok for r in results] == [False, False]
    assert "TyreLife" in results[0].error and "truncated or corrupt" in results[1].error
    assert snapshot(store.root) == before


def test_rejected_rows_counted_per_round(store, tmp_path):
    df = season_frame(ROUNDS)
    idx = df.index[(df["RoundNumber"] == "2") & (df["LapNumber"] == "5.0")]
    df.loc[idx, "LapTime"] = "garbage"
    [res] = ingest_files([write_csv(df, tmp_path / "2021.csv")], store)
    assert res.ok and res.report.rejected == 3
    races = store.races(2021).set_index("round")
    assert races.loc[2, "rejected"] == 3 and races.loc[2, "laps"] == 27
    assert races["rejected"].sum() == 3


def test_find_race_by_round_name_circuit_location(store, season_file):
    ingest_files([season_file], store)
    assert store.find_race(2020, 3)["event"] == "Australian Grand Prix"
    assert store.find_race(2020, "3")["round"] == 3
    assert store.find_race(2020, "Saudi Arabian Grand Prix")["round"] == 2
    assert store.find_race(2020, "saudi arabian")["round"] == 2
    assert store.find_race(2020, "albert_park")["round"] == 3
    assert store.find_race(2020, "Melbourne")["round"] == 3
    assert store.find_race(2020, "Sakhir")["round"] == 1
    assert store.find_race(2020, "Styrian Grand Prix")["round"] == 4


def test_find_race_ambiguous_circuit_lists_both(store, season_file):
    ingest_files([season_file], store)
    with pytest.raises(NotFoundError) as err:
        store.find_race(2020, "Spielberg")
    assert "4: Styrian Grand Prix" in err.value.message and "5: Austrian Grand Prix" in err.value.message
    assert err.value.details["suggestions"] == ["Styrian Grand Prix", "Austrian Grand Prix"]


def test_find_race_unknown_gives_suggestions(store, season_file):
    ingest_files([season_file], store)
    with pytest.raises(NotFoundError) as err:
        store.find_race(2020, "Bahrein Grand Prix")
    assert "Did you mean: Bahrain Grand Prix" in err.value.message
    assert "Bahrain Grand Prix" in err.value.details["suggestions"]
    assert "1: Bahrain Grand Prix" in err.value.details["options"]
    with pytest.raises(NotFoundError):
        store.find_race(2020, 9)


def test_find_race_of_missing_season(store, season_file):
    with pytest.raises(DataNotLoadedError, match="f1analyzer ingest"):
        store.find_race(2020, 1)
    ingest_files([season_file], store)
    with pytest.raises(DataNotLoadedError, match="Stored seasons: 2020"):
        store.find_race(2019, 1)


def test_empty_store_answers_empty_tables(store):
    assert store.is_empty()
    assert store.races().empty and list(store.races().columns) == list(RACE_COLUMNS)
    assert store.laps().empty and store.stints().empty and store.pit_stops().empty


def test_load_race_domain_object(store, season_file):
    ingest_files([season_file], store)
    race = load_race(2020, "Bahrain", store=store)
    assert (race.season, race.round, race.circuit_key, race.total_laps) == (2020, 1, "bahrain", N_LAPS)
    assert type(race.laps).__name__ == "Laps"
    chained = race.laps.pick_drivers("aaa").pick_clean()
    assert type(chained).__name__ == "Laps" and set(chained["driver"]) == {"AAA"}
    assert chained["is_clean"].all() and len(chained) > 0
    assert len(race.laps.pick_stint(2)) == N_LAPS - 4 + N_LAPS - 3
    assert race.drivers == ["AAA", "BBB", "CCC"]
    assert race.results["finished"].all()
    assert not race.is_wet()


def test_a_corrupt_season_file_is_isolated_until_replaced(store, season_file, tmp_path):
    from f1analyzer.errors import DataCorruptError

    ingest_files([season_file], store)
    other = write_csv(season_frame(ROUNDS).assign(Year=2021), tmp_path / "in" / "2021.csv.gz")
    ingest_files([other], store)
    path = store.seasons_dir / "2020.parquet"
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    assert store.races()["season"].unique().tolist() == [2021]  # the readable season still answers
    assert list(store.unreadable()) == [(2020, "race")]
    with pytest.raises(DataCorruptError, match="season 2020.*Re-ingest"):
        store.laps(2020)
    path.write_bytes(good)  # repaired: a new file (new mtime) is read again
    import os

    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert sorted(store.races()["season"].unique().tolist()) == [2020, 2021]
    assert store.unreadable() == {}
