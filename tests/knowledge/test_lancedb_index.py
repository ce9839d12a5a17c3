"""LanceDBIndex: nearest neighbours, metadata filters, idempotent upsert, clear failures."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from f1analyzer.config import get_settings
from f1analyzer.errors import BackendUnavailableError, InvalidRequestError
from f1analyzer.knowledge.index import LanceDBIndex, get_vector_index, lance_where, normalise_filters
from tests.knowledge.corpus import RACE_DOCS, unit_vectors

DIM = 16


@pytest.fixture
def index(tmp_path) -> LanceDBIndex:
    idx = LanceDBIndex(tmp_path / "lancedb", dim=DIM)
    idx.upsert(RACE_DOCS, unit_vectors(len(RACE_DOCS), DIM))
    return idx


def test_nearest_neighbour_is_the_document_itself(index):
    vectors = unit_vectors(len(RACE_DOCS), DIM)
    for doc, vec in zip(RACE_DOCS, vectors):
        top = index.query(vec, top_k=1)[0]
        assert top.id == doc.id
        assert top.score == pytest.approx(1.0, abs=1e-5)
        assert top.title == doc.title and top.text == doc.text
        assert top.metadata["drivers"] == list(doc.drivers)


@pytest.mark.parametrize("filters,expected", [
    ({"season": 2021}, {"race:2021:22"}),
    ({"season": [2018, 2021]}, {"race:2018:21", "race:2021:22"}),
    ({"circuit": "yas_marina"}, {"race:2018:21", "race:2021:22"}),
    ({"kind": "circuit"}, {"circuit:monza"}),
    ({"driver": "LEC"}, {"race:2019:14", "race:2022:07"}),
    ({"drivers": ["vet", "PER"]}, {"race:2018:21", "race:2022:07"}),
    ({"driver": "HAM", "circuit": "monza"}, {"race:2019:14"}),
    ({"event": "Monaco Grand Prix", "round": 7}, {"race:2022:07"}),
    ({"event": "Monaco Grand Prix", "round": 8}, set()),
])
def test_metadata_filters(index, filters, expected):
    query = unit_vectors(1, DIM, seed=99)[0]
    assert {h.id for h in index.query(query, top_k=10, filters=filters)} == expected


def test_filter_values_are_escaped_not_injected(index):
    where = lance_where(normalise_filters({"event": "x' OR '1'='1"}))
    assert where == "event = 'x'' OR ''1''=''1'"
    assert index.query(unit_vectors(1, DIM)[0], top_k=10, filters={"event": "x' OR '1'='1"}) == []


def test_unknown_filter_key_is_a_clear_error(index):
    with pytest.raises(InvalidRequestError, match="valid filters"):
        index.query(unit_vectors(1, DIM)[0], filters={"team": "Ferrari"})


def test_upsert_is_idempotent_and_updates_changed_documents(index):
    vectors = unit_vectors(len(RACE_DOCS), DIM)
    version_before = index._open(create=False).version
    assert index.upsert(RACE_DOCS, vectors) == 0
    assert index._open(create=False).version == version_before  # nothing rewritten
    assert index.count() == len(RACE_DOCS)

    changed = dataclasses.replace(RACE_DOCS[0], text=RACE_DOCS[0].text + " Updated.")
    assert index.upsert([changed], vectors[:1]) == 1
    assert index.count() == len(RACE_DOCS)
    stored = {d.id: d for d in index.documents()}
    assert stored[changed.id].text.endswith("Updated.")
    assert index.ids() == sorted(d.id for d in RACE_DOCS)


def test_wrong_vector_shape_is_refused(tmp_path):
    idx = LanceDBIndex(tmp_path / "db", dim=DIM)
    with pytest.raises(InvalidRequestError, match="shape"):
        idx.upsert(RACE_DOCS[:2], np.zeros((2, DIM + 1), dtype=np.float32))


def test_missing_index_query_raises_backend_unavailable(tmp_path):
    idx = LanceDBIndex(tmp_path / "never-built", dim=DIM)
    assert idx.count() == 0 and idx.ids() == []
    assert idx.healthy() is False
    with pytest.raises(BackendUnavailableError, match="has not been built"):
        idx.query(unit_vectors(1, DIM)[0])


def test_corrupted_index_raises_backend_unavailable(index, tmp_path):
    path = tmp_path / "lancedb"
    # destroy every file Lance wrote (manifests and data), keep the directory layout
    for f in path.rglob("*"):
        if f.is_file():
            f.write_bytes(b"\x00garbage\x00" * 8)
    fresh = LanceDBIndex(path, dim=DIM)
    with pytest.raises(BackendUnavailableError, match="corrupted"):
        fresh.query(unit_vectors(1, DIM)[0])
    assert fresh.healthy() is False
    fresh.delete_all()
    assert not path.exists()
    assert fresh.upsert(RACE_DOCS, unit_vectors(len(RACE_DOCS), DIM)) == len(RACE_DOCS)
    assert fresh.healthy() is True


def test_delete_all_empties_the_index(index):
    index.delete_all()
    assert index.count() == 0


def test_factory_uses_index_dir_from_settings():
    idx = get_vector_index(get_settings(), dim=DIM)
    assert isinstance(idx, LanceDBIndex)
    assert idx.path == get_settings().index_dir / "lancedb"
