"""Documents and the sporting-rule reference notes."""

from __future__ import annotations

import dataclasses

import pytest

from f1analyzer.knowledge.documents import Document, rule_documents


def test_rule_notes_are_stable_unique_and_cover_the_strategy_rules():
    docs = rule_documents()
    ids = [d.id for d in docs]
    assert len(docs) == 8 and len(set(ids)) == 8
    assert all(i.startswith("rule:") and d.kind == "rule" for i, d in zip(ids, docs))
    assert {"rule:two-compound", "rule:safety-car-pit-loss", "rule:virtual-safety-car",
            "rule:drs", "rule:pit-lane-speed-and-loss", "rule:red-flag-tyre-change",
            "rule:parc-ferme-and-tyre-allocation"} <= set(ids)
    assert [d.content_hash for d in docs] == [d.content_hash for d in rule_documents()]
    for d in docs:
        assert 40 <= len(d.text.split()) <= 150, d.id
        assert "  " not in d.text and "\n" not in d.text


def test_metadata_leaves_out_missing_values_and_upper_cases_drivers():
    doc = Document(id="race:2023:14", kind="race", title="t", text="x", season=2023, round=14,
                   event="Italian Grand Prix", circuit="monza", drivers=["ver", "Per"])
    assert doc.metadata == {"kind": "race", "season": 2023, "round": 14,
                            "event": "Italian Grand Prix", "circuit": "monza",
                            "drivers": ["VER", "PER"]}
    assert rule_documents()[0].metadata == {"kind": "rule", "drivers": []}


def test_content_hash_changes_with_content():
    doc = rule_documents()[0]
    assert dataclasses.replace(doc, text=doc.text + "!").content_hash != doc.content_hash


@pytest.mark.parametrize("kwargs", [{"id": ""}, {"id": "rule:é"}, {"kind": "blog"}])
def test_invalid_documents_are_refused(kwargs):
    base = {"id": "rule:x", "kind": "rule", "title": "t", "text": "x"}
    with pytest.raises(ValueError):
        Document(**{**base, **kwargs})
