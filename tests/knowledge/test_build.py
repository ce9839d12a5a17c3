"""build_index: the entry point the CLI, training and the API re-index job call."""

from __future__ import annotations

from f1analyzer.config import get_settings
from f1analyzer.knowledge import build_index, get_knowledge_base, rule_documents


def test_build_index_from_settings_is_idempotent_and_searchable():
    settings = get_settings()
    calls = []
    first = build_index(settings, progress=lambda done, total: calls.append((done, total)))
    assert first.written == len(rule_documents()) and first.total == len(rule_documents())
    assert calls[-1] == (len(rule_documents()), len(rule_documents()))
    assert (settings.index_dir / "lancedb").is_dir()
    assert (settings.index_dir / "bm25_corpus.json").is_file()
    second = build_index(settings)
    assert second.written == 0 and second.unchanged == len(rule_documents())
    kb = get_knowledge_base(settings)
    assert kb is get_knowledge_base(settings)
    assert kb.search("free tyre change when the race is suspended", top_k=1)[0].id == \
        "rule:red-flag-tyre-change"
    assert build_index(settings, rebuild=True).written == len(rule_documents())
