"""build_index: the entry point the CLI, training and the API re-index job call."""

from __future__ import annotations

from f1analyzer.config import get_settings
from f1analyzer.knowledge import build_index, collect_documents, get_knowledge_base


def test_build_index_from_settings_is_idempotent_and_searchable():
    settings = get_settings()
    calls = []
    n = len(collect_documents(settings))  # rule notes + the bundled race/circuit/season docs
    first = build_index(settings, progress=lambda done, total: calls.append((done, total)))
    assert first.written == n and first.total == n
    assert calls[-1] == (n, n)
    assert (settings.index_dir / "lancedb").is_dir()
    assert (settings.index_dir / "bm25_corpus.json").is_file()
    second = build_index(settings)
    assert second.written == 0 and second.unchanged == n
    kb = get_knowledge_base(settings)
    assert kb is get_knowledge_base(settings)
    assert kb.search("free tyre change when the race is suspended", top_k=1)[0].id == \
        "rule:red-flag-tyre-change"
    assert build_index(settings, rebuild=True).written == n
