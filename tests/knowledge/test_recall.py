"""Retrieval quality on tests/knowledge/questions.json: recall@5 ≥ 0.9, MRR reported.

Two knowledge bases: the documents shipped with the package (runs without any data: a fresh
install) and the documents written from the real race store (``realdata``). Questions naming a
season, race or driver must find that race's document in the top 5, every one of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from f1analyzer.config import get_settings
from f1analyzer.data.ingest import ingest_files
from f1analyzer.data.store import RaceStore
from f1analyzer.knowledge import build_index, get_knowledge_base
from f1analyzer.app.knowledge import retrieval_metrics

QUESTIONS = json.loads((Path(__file__).with_name("questions.json")).read_text(encoding="utf-8"))
MIN_RECALL = 0.9


def test_question_set_is_large_and_well_formed():
    qs = QUESTIONS["questions"]
    assert len(qs) >= 40
    kinds = {q["kind"] for q in qs}
    assert kinds == {"race", "circuit", "season", "rule"}
    for q in qs:
        assert q["question"].strip() and q["relevant"]
        assert all(r.split(":")[0] == q["kind"] for r in q["relevant"])


def _check(kb, capsys, label: str) -> None:
    metrics = retrieval_metrics(kb, QUESTIONS["questions"], k=5)
    with capsys.disabled():
        print(f"\n[{label}] recall@5 = {metrics['recall_at_k']:.3f}, MRR = {metrics['mrr']:.3f} "
              f"over {metrics['questions']} questions; misses: {metrics['misses']}")
    assert metrics["recall_at_k"] >= MIN_RECALL, metrics["misses"]
    race_misses = [m for m in metrics["misses"] if m["relevant"][0].startswith("race:")]
    assert not race_misses, race_misses


def test_recall_on_the_bundled_documents(capsys):
    """A fresh install (empty store) answers from the shipped documents."""
    settings = get_settings()
    report = build_index(settings)
    assert report.total > 180
    _check(get_knowledge_base(settings), capsys, "bundled")


@pytest.mark.realdata
@pytest.mark.slow
def test_recall_on_documents_written_from_the_store(data_dir, capsys):
    settings = get_settings()
    store = RaceStore(settings.store_dir)
    results = ingest_files(sorted((data_dir / "laps").glob("*.csv.gz")), store)
    assert all(r.ok for r in results)
    report = build_index(settings, store=store)
    assert report.total > 180
    second = build_index(settings, store=store)
    assert second.written == 0  # stable ids and texts: re-running adds nothing
    _check(get_knowledge_base(settings), capsys, "store")
