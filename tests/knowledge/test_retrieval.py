"""Hybrid retrieval (MiniLM + LanceDB + BM25) on a small corpus of race and rule documents."""

from __future__ import annotations

import pytest

from f1analyzer.knowledge.documents import rule_documents
from f1analyzer.knowledge.embeddings import MiniLMEmbedder
from f1analyzer.knowledge.index import LanceDBIndex
from f1analyzer.knowledge.query import parse_query
from f1analyzer.knowledge.retrieval import (
    CORPUS_FILE,
    KnowledgeBase,
    reciprocal_rank_fusion,
    tokenize,
)
from tests.knowledge.corpus import RACE_DOCS

CORPUS = rule_documents() + RACE_DOCS


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder(threads=1)


@pytest.fixture(scope="module")
def kb(embedder, tmp_path_factory) -> KnowledgeBase:
    root = tmp_path_factory.mktemp("kb")
    base = KnowledgeBase(embedder=embedder, index=LanceDBIndex(root / "lancedb"),
                         corpus_dir=root)
    report = base.build(CORPUS)
    assert report.written == len(CORPUS) and report.total == len(CORPUS)
    return base


def ids(hits) -> list[str]:
    return [h.id for h in hits]


def test_paraphrase_finds_the_safety_car_note(kb):
    hits = kb.search("why is stopping cheaper when the field is neutralised behind a pace car?",
                     top_k=3)
    assert hits[0].id == "rule:safety-car-pit-loss"


def test_abbreviation_in_question_matches_spelled_out_document(kb):
    assert ids(kb.search("VSC pit stop saving", top_k=2))[0] == "rule:virtual-safety-car"


def test_rare_keyword_is_found_by_bm25(kb):
    # "Hypersoft" appears in one race document only
    assert "race:2018:21" in ids(kb.search("Hypersoft", top_k=3))


def test_entities_in_the_question_boost_their_race(kb):
    hits = kb.search("How did Leclerc lose the lead at Monaco in 2022?", top_k=3)
    assert hits[0].id == "race:2022:07"
    hits = kb.search("What did Hamilton do in Abu Dhabi 2018?", top_k=3)
    assert hits[0].id == "race:2018:21"


def test_hard_filters_exclude_everything_else(kb):
    hits = kb.search("safety car strategy", top_k=10, filters={"season": 2021})
    assert ids(hits) == ["race:2021:22"]
    hits = kb.search("tyre rules", top_k=10, filters={"kind": "rule"})
    assert hits and all(h.metadata["kind"] == "rule" for h in hits)
    hits = kb.search("who won", top_k=10, filters={"driver": "PER"})
    assert ids(hits) == ["race:2022:07"]


def test_scores_are_fused_and_sorted(kb):
    hits = kb.search("red flag tyre change", top_k=5)
    assert hits[0].id == "rule:red-flag-tyre-change"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].snippet and hits[0].to_dict()["id"] == hits[0].id


def test_build_is_idempotent(kb):
    report = kb.build(CORPUS)
    assert report.written == 0 and report.unchanged == len(CORPUS)
    assert kb.count() == len(CORPUS)


def test_progress_callback_reports_batches(embedder, tmp_path):
    seen = []
    base = KnowledgeBase(embedder=embedder, index=LanceDBIndex(tmp_path / "db"),
                         corpus_dir=tmp_path)
    base.build(CORPUS, batch_size=5, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(5, 13), (10, 13), (13, 13)]


def test_bm25_corpus_is_rebuilt_from_the_index_when_missing(kb, embedder):
    (kb.corpus_path).unlink()
    reopened = KnowledgeBase(embedder=embedder, index=kb.index,
                             corpus_dir=kb.corpus_path.parent)
    assert "race:2018:21" in ids(reopened.search("Hypersoft", top_k=3))
    assert kb.corpus_path.name == CORPUS_FILE and kb.corpus_path.exists()


def test_reciprocal_rank_fusion_rewards_agreement():
    scores = reciprocal_rank_fusion([["a", "b", "c"], ["b", "a", "d"]], k=60)
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert scores["a"] == scores["b"] > scores["c"] > 0
    assert scores["c"] == scores["d"]


def test_tokenize_expands_and_normalises():
    assert tokenize("The SC came out; Pérez's tyres") == \
        ["safety", "car", "came", "out", "perez", "tyre"]


@pytest.mark.parametrize("text,seasons,drivers,circuit", [
    ("Why did Verstappen pit early at Monza in 2023?", (2023,), ("VER",), "monza"),
    ("HAM vs LEC at the Italian GP 2019 and 2020", (2019, 2020), ("HAM", "LEC"), "monza"),
    ("Checo Pérez in Jeddah", (), ("PER",), "jeddah"),
    ("What does the two-compound rule say?", (), (), None),
    ("Races in 1999 and 2017 are out of range", (), (), None),
])
def test_parse_query(text, seasons, drivers, circuit):
    parsed = parse_query(text)
    assert parsed.seasons == seasons
    assert parsed.drivers == drivers
    assert parsed.circuit == circuit


def test_a_build_by_another_process_is_picked_up(embedder, tmp_path):
    from f1analyzer.knowledge.documents import Document

    api = KnowledgeBase(embedder=embedder, index=LanceDBIndex(tmp_path / "db"),
                        corpus_dir=tmp_path)
    api.build(CORPUS)
    assert "race:2018:06" not in ids(api.search("MGU-K failure", top_k=3))
    cli = KnowledgeBase(embedder=embedder, index=LanceDBIndex(tmp_path / "db"),
                        corpus_dir=tmp_path)
    cli.build([Document(id="race:2018:06", kind="race", title="2018 Monaco Grand Prix",
                        text="Ricciardo won on the Ultrasoft and Supersoft despite an MGU-K "
                             "failure.", season=2018, round=6, circuit="monaco",
                        drivers=("RIC",))])
    assert api.corpus().search("MGU-K failure", 3, {}) == ["race:2018:06"]  # keyword side
    assert api.index.count() == len(CORPUS) + 1                             # dense side
    assert api.search("MGU-K failure", top_k=3)[0].id == "race:2018:06"
