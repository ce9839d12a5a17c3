"""The bundled demo races (issue 15): loaded into an empty store once, marked, removable, idempotent."""

from __future__ import annotations

import gzip

from f1analyzer.app.services import Services
from f1analyzer.backends.cache import MemoryCache
from f1analyzer.config import get_settings, reset_settings
from f1analyzer.data.demo import DEMO_DIR, DEMO_LAPS, load_demo, load_demo_if_empty, remove_demo
from f1analyzer.data.ingest import ingest_files
from f1analyzer.data.store import RaceStore
from tests.data.frames import season_frame, write_csv

DEMO_ROUNDS = [1, 8, 16, 18]


def _files(store: RaceStore) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for _, _, p in store.season_files(None)}


def test_demo_set_is_small_attributed_and_fastf1_shaped():
    total = sum(p.stat().st_size for p in DEMO_DIR.iterdir())
    assert total < 2_000_000
    assert "Armchair Strategist (Apache-2.0)" in (DEMO_DIR / "README.md").read_text()
    header = gzip.open(DEMO_LAPS, "rt").readline().strip().split(",")
    assert {"LapTime", "TyreLife", "Compound", "Stint", "TrackStatus", "Team"} <= set(header)


def test_load_marks_demo_and_is_idempotent(tmp_path):
    store = RaceStore(tmp_path / "store")
    assert load_demo(store) == [(2024, r) for r in DEMO_ROUNDS]
    races = store.races()
    assert races["round"].tolist() == DEMO_ROUNDS and races["demo"].all()
    assert races.set_index("round").loc[8, "compounds"] == ["C3", "C4", "C5"]
    first = _files(store)
    load_demo(store)
    assert _files(store) == first  # byte-identical: loading twice changes nothing


def test_remove_keeps_own_races_and_is_remembered(tmp_path):
    store = RaceStore(tmp_path / "store")
    load_demo(store)
    own = write_csv(season_frame({3: "Hungarian Grand Prix"}), tmp_path / "in" / "2024.csv.gz")
    assert ingest_files([own], store)[0].ok
    assert sorted(store.races()["round"]) == [1, 3, 8, 16, 18]
    assert remove_demo(store) == [(2024, r) for r in DEMO_ROUNDS]
    left = store.races()
    assert left["round"].tolist() == [3] and not left["demo"].any()
    assert len(store.laps(2024, 3)) > 0 and len(store.laps(2024, 8)) == 0
    assert remove_demo(store) == []  # idempotent
    # emptied on purpose: an empty store does not get them back on the next start...
    remove_demo(RaceStore(tmp_path / "other"))
    assert not load_demo_if_empty(RaceStore(tmp_path / "other"))
    # ...until `demo load`
    load_demo(RaceStore(tmp_path / "other"))
    assert RaceStore(tmp_path / "other").races()["demo"].all()


def test_services_load_demo_into_empty_store_only_when_enabled(monkeypatch):
    svc = Services.build(get_settings(), cache=MemoryCache())  # conftest: F1A_DEMO_ON_EMPTY=false
    assert svc.store.is_empty()
    monkeypatch.setenv("F1A_DEMO_ON_EMPTY", "true")
    reset_settings()
    svc = Services.build(get_settings(), cache=MemoryCache())
    assert svc.store.races()["round"].tolist() == DEMO_ROUNDS
