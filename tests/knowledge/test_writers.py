"""Document writers: facts from the race store, race/circuit/season passages, the bundle."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from f1analyzer.data.ingest import ingest_files
from f1analyzer.data.store import RaceStore
from f1analyzer.knowledge import collect_documents
from f1analyzer.knowledge.documents import rule_documents
from f1analyzer.knowledge.writers import (
    circuit_documents,
    race_document,
    race_facts,
    season_documents,
    write_documents,
)
from f1analyzer.knowledge.writers_bundled import (
    BUNDLED_KNOWLEDGE,
    PrecomputedEmbedder,
    bundled_documents,
    bundled_facts,
    bundled_vectors,
    text_key,
    write_bundle,
)
from f1analyzer.models.bundled import load_bundled_models

LAP_S = 80.0


def _laps(plan: dict[str, dict], n_laps: int, sc_laps=(), red_laps=()) -> pd.DataFrame:
    """Synthetic laps: ``plan[driver] = {"order": [position per lap], "stints": [(compound,
    first, last)], "team": ...}``; a pit stop ends each stint but the last."""
    rows = []
    for drv, p in plan.items():
        last_lap = p.get("laps", n_laps)
        for lap in range(1, last_lap + 1):
            stint_i = next(i for i, (_, a, b) in enumerate(p["stints"]) if a <= lap <= b)
            comp, first, last = p["stints"][stint_i]
            pit_in = lap == last and stint_i < len(p["stints"]) - 1
            pit_out = lap == first and stint_i > 0
            t = lap * LAP_S + p["order"][lap - 1] * 0.5
            status = "1" + ("4" if lap in sc_laps else "") + ("5" if lap in red_laps else "")
            rows.append({
                "season": 2023, "round": 1, "driver": drv, "driver_number": 1, "team": p["team"],
                "lap_number": lap, "lap_time_s": LAP_S if lap > 1 else np.nan,
                "session_time_s": 1000 + t, "stint": stint_i + 1, "compound": comp,
                "compound_code": pd.NA, "tyre_life_laps": float(lap - first + 1),
                "fresh_tyre": True, "pit_in": pit_in, "pit_out": pit_out,
                "pit_in_time_s": 1000 + t - 5 if pit_in else np.nan,
                "pit_out_time_s": 1000 + t - LAP_S + 15 if pit_out else np.nan,
                "track_status": status, "position": p["order"][lap - 1], "is_accurate": True,
                "is_clean": lap > 1 and not pit_in and not pit_out,
            })
    return pd.DataFrame(rows)


@pytest.fixture
def synthetic_store(tmp_path) -> RaceStore:
    n = 12
    plan = {
        # AAA runs second, pits first on lap 4 and comes out ahead of BBB (pits on lap 5)
        "AAA": {"team": "Alpha", "order": [2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1],
                "stints": [("MEDIUM", 1, 4), ("HARD", 5, n)]},
        "BBB": {"team": "Beta", "order": [1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2],
                "stints": [("MEDIUM", 1, 5), ("HARD", 6, n)]},
        "CCC": {"team": "Gamma", "order": [3, 3, 3], "laps": 3,
                "stints": [("SOFT", 1, 3)]},
    }
    laps = _laps(plan, n, sc_laps=(8, 9))
    store = RaceStore(tmp_path / "store")
    races = [{"season": 2023, "round": 1, "event": "Bahrain Grand Prix", "circuit_key": "bahrain",
              "total_laps": n, "compounds": ["HARD", "MEDIUM", "SOFT"], "laps": len(laps),
              "drivers": 3, "rejected": 0, "source": "test"}]
    store.write_races(2023, races, laps)
    return store


def test_race_facts_find_stints_phases_retirements_and_the_undercut(synthetic_store):
    (f,) = race_facts(synthetic_store)
    assert (f["season"], f["round"], f["circuit"]) == (2023, 1, "bahrain")
    assert [r[1] for r in f["results"]] == ["AAA", "BBB", "CCC"]
    assert [r[4] for r in f["results"]] == [True, True, False]
    assert f["stints"]["AAA"] == [["MEDIUM", 1, 4], ["HARD", 5, 12]]
    assert [s[0] for s in f["stops"]["BBB"]] == [5]
    assert f["phases"] == {"sc": [[8, 9]], "vsc": [], "red": []}
    assert f["moves"] == [{"kind": "undercut", "driver": "AAA", "rival": "BBB", "driver_lap": 4,
                           "rival_lap": 5, "from_position": 2, "to_position": 1}]
    json.dumps(f)  # plain data


def test_race_document_states_the_facts_with_a_stable_id(synthetic_store):
    doc = race_document(race_facts(synthetic_store)[0])
    assert doc.id == "race:2023:01" and doc.kind == "race"
    assert (doc.season, doc.round, doc.event, doc.circuit) == (2023, 1, "Bahrain Grand Prix",
                                                               "bahrain")
    assert set(doc.drivers) == {"AAA", "BBB", "CCC"}
    text = doc.text
    assert text.startswith("AAA won the 2023 Bahrain Grand Prix")
    assert "one-stop" in text and "the Safety Car on laps 8–9" in text
    assert "AAA undercut BBB: pitted on lap 4 from P2" in text
    assert "Retirements: CCC after 3 laps" in text
    assert "Medium (laps 1–4) → Hard (laps 5–12), stopping on lap 4" in text


def test_circuit_and_season_documents(synthetic_store):
    facts = race_facts(synthetic_store)
    models = load_bundled_models()
    (circuit,) = [d for d in circuit_documents(facts, models) if d.id == "circuit:bahrain"]
    cm = models.circuit("bahrain")
    assert f"{cm.pit_loss_s:.1f} s" in circuit.text
    assert "Soft degrades" in circuit.text and "Safety Car risk" in circuit.text
    assert "Overtaking is" in circuit.text
    assert "2023 AAA (one-stop, Medium → Hard)" in circuit.text
    (season,) = season_documents(facts)
    assert season.id == "season:2023" and season.season == 2023
    assert "Wins per driver: AAA 1" in season.text
    assert "1 of 1 races had a Safety Car" in season.text
    ids = [d.id for d in write_documents(facts, models)]
    assert len(ids) == len(set(ids)) and "race:2023:01" in ids and "season:2023" in ids


def test_collect_documents_uses_the_bundle_when_the_store_is_empty(tmp_path):
    docs = collect_documents(store=RaceStore(tmp_path / "empty"))
    ids = {d.id for d in docs}
    assert {d.id for d in rule_documents()} <= ids
    assert {"race:2021:11", "circuit:monza", "season:2021"} <= ids
    assert len(ids) == len(docs)


def test_stored_races_replace_the_bundled_ones(synthetic_store):
    docs = {d.id: d for d in collect_documents(store=synthetic_store)}
    assert docs["race:2023:01"].text.startswith("AAA won")  # from the store
    assert "race:2021:11" in docs  # other races still from the bundle


def test_bundle_is_small_attributed_and_has_vectors_for_every_document():
    assert BUNDLED_KNOWLEDGE.stat().st_size < 2_000_000
    with gzip.open(BUNDLED_KNOWLEDGE, "rt", encoding="utf-8") as fh:
        payload = json.load(fh)
    assert "Armchair Strategist" in payload["attribution"]
    assert payload["races"] == len(bundled_facts()) >= 140
    assert "lap_time_s" not in json.dumps(payload["facts"][0])
    docs = bundled_documents()
    vectors = bundled_vectors()
    for d in docs + rule_documents():
        v = vectors[text_key(d.embedding_text())]
        assert v.shape == (384,) and abs(float(np.linalg.norm(v)) - 1) < 1e-3


def test_write_bundle_is_deterministic(tmp_path, synthetic_store):
    facts = race_facts(synthetic_store)
    docs = write_documents(facts, None)
    vectors = np.eye(len(docs), 8, dtype=np.float32)
    a = write_bundle(tmp_path / "a.json.gz", facts, docs, {"races": 1}, vectors=vectors)
    b = write_bundle(tmp_path / "b.json.gz", facts, docs, {"races": 1}, vectors=vectors)
    assert a.read_bytes() == b.read_bytes()
    table = bundled_vectors(a)
    assert set(table) == {text_key(d.embedding_text()) for d in docs}


class _CountingEmbedder:
    dim = 384

    def __init__(self):
        self.texts: list[str] = []

    def encode(self, texts):
        self.texts += list(texts)
        return np.ones((len(texts), self.dim), dtype=np.float32) / np.sqrt(self.dim)


def test_precomputed_embedder_only_embeds_unknown_texts():
    base = _CountingEmbedder()
    known = rule_documents()[0].embedding_text()
    emb = PrecomputedEmbedder(base)
    out = emb.encode([known, "something new", known])
    assert base.texts == ["something new"]
    np.testing.assert_allclose(out[0], bundled_vectors()[text_key(known)])
    emb.encode(["a single query"])  # queries always go to the base embedder
    assert base.texts[-1] == "a single query"


@pytest.mark.realdata
def test_real_races_are_written_from_the_store(data_dir, tmp_path):
    store = RaceStore(tmp_path / "store")
    ingest_files([data_dir / "laps" / "2021.csv.gz"], store)
    facts = {(f["season"], f["round"]): f for f in race_facts(store)}
    hungary = race_document(facts[(2021, 11)])
    assert hungary.text.startswith("Ocon (OCO) won the 2021 Hungarian Grand Prix")
    assert "a red flag on lap 2" in hungary.text
    assert "stopping on laps 2 during the red flag, 4, 19 and 47" in hungary.text  # Hamilton
    bahrain = race_document(facts[(2021, 1)])
    assert "Hamilton undercut Verstappen: pitted on lap 13 from P2" in bahrain.text
    assert "Retirements: " in bahrain.text and "Alonso after 32 laps" in bahrain.text
    assert "Verstappen after" not in bahrain.text  # missing last laps are not retirements
    (season,) = season_documents(list(facts.values()))
    assert "Wins per driver: Verstappen 10, Hamilton 8" in season.text
