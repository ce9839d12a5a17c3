"""Compound allocations: relative names (SOFT/MEDIUM/HARD) → the event's C-numbers."""

from __future__ import annotations

import pytest

from f1analyzer.data import RaceStore
from f1analyzer.data.compounds import code_for, find_allocation_file, load_allocation
from f1analyzer.data.ingest import ingest_files
from f1analyzer.errors import DataValidationError

from .frames import race_frame, season_frame, write_csv

ALLOCATION_TOML = """
# a comment, like the real file
[2018]
1  = ["ULTRASOFT","SUPERSOFT","SOFT"]
2  = ["SUPERSOFT","SOFT","MEDIUM"]

[2019]
1 = ["C1","C2","C3"]
2 = ["C3","C2","C4"]
3 = ["C2","C3"]
"""


@pytest.fixture
def alloc_file(tmp_path):
    p = tmp_path / "alloc" / "compound_selection.toml"
    p.parent.mkdir()
    p.write_text(ALLOCATION_TOML)
    return p


def test_load_allocation_orders_hardest_first(alloc_file):
    alloc = load_allocation(alloc_file)
    # 2018: listed softest first by name → reordered hardest first
    assert alloc[(2018, 1)] == ["SOFT", "SUPERSOFT", "ULTRASOFT"]
    assert alloc[(2018, 2)] == ["MEDIUM", "SOFT", "SUPERSOFT"]
    # 2019+: C-numbers sorted, lowest (hardest) first
    assert alloc[(2019, 1)] == ["C1", "C2", "C3"]
    assert alloc[(2019, 2)] == ["C2", "C3", "C4"]
    # a round without three compounds is ignored
    assert (2019, 3) not in alloc


def test_code_for():
    assert code_for("SOFT", ["C1", "C2", "C3"]) == "C3"
    assert code_for("HARD", ["C1", "C2", "C3"]) == "C1"
    assert code_for("MEDIUM", ["SOFT", "SUPERSOFT", "ULTRASOFT"]) == "SUPERSOFT"
    assert code_for("INTERMEDIATE", ["C1", "C2", "C3"]) == "INTERMEDIATE"
    assert code_for("WET", []) == "WET"
    assert code_for("UNKNOWN", ["C1", "C2", "C3"]) is None
    assert code_for("SOFT", []) is None


def test_unreadable_allocation_file(tmp_path):
    bad = tmp_path / "compound_selection.toml"
    bad.write_text("[2019\n1 = ")
    with pytest.raises(DataValidationError, match="not a readable compound selection file"):
        load_allocation(bad)
    with pytest.raises(DataValidationError):
        load_allocation(tmp_path / "missing.toml")


def test_ingest_with_compounds_file_sets_codes(tmp_path, alloc_file):
    store = RaceStore(tmp_path / "store")
    f = write_csv(season_frame({1: "Australian Grand Prix", 2: "Bahrain Grand Prix"}), tmp_path / "in" / "2019.csv")
    [res] = ingest_files([f], store, compounds_file=alloc_file)
    assert res.ok
    races = store.races(2019).set_index("round")
    assert races.loc[1, "compounds"] == ["C1", "C2", "C3"]
    assert races.loc[2, "compounds"] == ["C2", "C3", "C4"]
    laps = store.laps(2019, 2)
    codes = laps.groupby("compound")["compound_code"].unique().map(list).to_dict()
    assert codes == {"HARD": ["C2"], "MEDIUM": ["C3"], "SOFT": ["C4"]}
    stints = store.stints(2019, 2)
    assert set(stints.loc[stints["compound"] == "SOFT", "compound_code"]) == {"C4"}


def test_allocation_found_next_to_the_files(tmp_path, alloc_file):
    f = write_csv(race_frame(1, "Australian Grand Prix"), alloc_file.parent / "laps" / "2019.csv")
    assert find_allocation_file([f]) == alloc_file
    store = RaceStore(tmp_path / "store")
    ingest_files([f], store)
    assert store.races(2019)["compounds"].tolist() == [["C1", "C2", "C3"]]


def test_codes_in_file_win_and_give_compounds_without_allocation(tmp_path):
    df = race_frame(1, "Bahrain Grand Prix")
    df["CompoundName"] = df["Compound"].map({"SOFT": "C3", "MEDIUM": "C2", "HARD": "C1"})
    store = RaceStore(tmp_path / "store")
    ingest_files([write_csv(df, tmp_path / "2023.csv")], store)
    assert store.races(2023)["compounds"].tolist() == [["C1", "C2", "C3"]]


def test_no_allocation_leaves_codes_missing(tmp_path):
    store = RaceStore(tmp_path / "store")
    ingest_files([write_csv(race_frame(), tmp_path / "2022.csv")], store)
    assert store.races(2022)["compounds"].tolist() == [[]]
    assert store.laps(2022)["compound_code"].isna().all()
