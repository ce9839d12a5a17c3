"""The index is rebuilt aside and swapped in (issue 13, item 8): the served index answers during
the build, a stopped build leaves it untouched, and the swap is one step."""

from __future__ import annotations

import pytest

from f1analyzer.app.knowledge import rebuild_index_aside
from f1analyzer.config import Settings
from f1analyzer.errors import JobStopped
from f1analyzer.knowledge.build import build_index, get_knowledge_base
from f1analyzer.knowledge.index import swap_in

QUESTION = "why is a pit stop cheaper under the safety car"


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    s = Settings(home=tmp_path_factory.mktemp("aside_home"), embedding_threads=1)
    build_index(s)
    return s


def _asides(s: Settings) -> list[str]:
    return sorted(p.name for p in s.index_dir.parent.iterdir() if p.name.endswith(".tmp"))


def test_the_served_index_answers_during_the_rebuild_and_the_new_one_after(settings):
    served_before = get_knowledge_base(settings)
    seen: list = []

    def check():  # runs between the rebuild's steps; records the first one with the new index aside
        if not seen and _asides(settings):
            seen.append((_asides(settings), [h.id for h in get_knowledge_base(settings).search(QUESTION, 3)]))

    report = rebuild_index_aside(settings, check=check)
    assert seen, "check() never ran while the new index was being built"
    asides, hits = seen[0]
    assert len(asides) == 1 and asides[0].startswith(".index.build-")
    assert hits  # the old index answered mid-build
    assert report["rebuilt"] and report["reused_vectors"] == report["total"]  # unchanged docs
    assert _asides(settings) == []
    served_after = get_knowledge_base(settings)
    assert served_after is not served_before  # this process serves the swapped-in files
    assert [h.id for h in served_after.search(QUESTION, 3)] == hits


def test_a_stopped_rebuild_leaves_the_served_index_as_it_was(settings):
    files_before = sorted(p.relative_to(settings.index_dir) for p in settings.index_dir.rglob("*"))
    calls: list[int] = []

    def check():
        calls.append(1)
        if len(calls) == 2:
            raise JobStopped("cancelled")

    with pytest.raises(JobStopped):
        rebuild_index_aside(settings, check=check)
    assert _asides(settings) == []
    assert sorted(p.relative_to(settings.index_dir) for p in settings.index_dir.rglob("*")) == files_before
    assert get_knowledge_base(settings).search(QUESTION, 3)


def test_swap_in_exchanges_directories(tmp_path):
    live, built = tmp_path / "index", tmp_path / ".index.build-1-0123abcd.tmp"
    live.mkdir()
    (live / "old").write_text("old")
    built.mkdir()
    (built / "new").write_text("new")
    swap_in(built, live)
    assert (live / "new").read_text() == "new" and not (live / "old").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]
    fresh = tmp_path / ".index.build-2-0123abcd.tmp"
    fresh.mkdir()
    (fresh / "x").write_text("x")
    swap_in(fresh, tmp_path / "missing")  # no index yet: a plain rename
    assert (tmp_path / "missing" / "x").exists()
