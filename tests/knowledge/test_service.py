"""answer_query (the /query, CLI and Lambda entry point), index-on-start and health checks."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from f1analyzer.backends.cache import MemoryCache
from f1analyzer.config import get_settings
from f1analyzer.data.store import RaceStore
from f1analyzer.errors import BackendUnavailableError, InvalidRequestError, NotFoundError
from f1analyzer.knowledge import get_knowledge_base
from f1analyzer.knowledge.documents import rule_documents
from f1analyzer.knowledge.embeddings import MiniLMEmbedder
from f1analyzer.knowledge.index import LanceDBIndex
from f1analyzer.knowledge.retrieval import KnowledgeBase
from f1analyzer.app.knowledge import (
    answer_query,
    ensure_index_async,
    narration_ok,
    normalise_query,
    query_filters,
    require_index_ready,
    vector_database_ok,
)
from f1analyzer.narration.strategy import narrate_strategy, narrator_input
from tests.knowledge.corpus import RACE_DOCS

CORPUS = rule_documents() + RACE_DOCS


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> KnowledgeBase:
    root = tmp_path_factory.mktemp("kb_service")
    base = KnowledgeBase(embedder=MiniLMEmbedder(threads=1),
                         index=LanceDBIndex(root / "lancedb"), corpus_dir=root)
    base.build(CORPUS)
    return base


def test_query_filters_accept_events_circuits_codes_and_surnames():
    assert query_filters({"season": "2021", "event": "Hungarian GP", "driver": "hamilton"}) == \
        {"season": 2021, "event": "Hungarian Grand Prix", "driver": "HAM"}
    assert query_filters({"event": "Monza", "driver": "ver"}) == {"circuit": "monza",
                                                                 "driver": "VER"}
    assert query_filters({"event": "styrian", "season": None}) == {"event": "Styrian Grand Prix"}
    assert query_filters(None) == {}


def test_query_filters_refuse_unknowns_with_suggestions():
    with pytest.raises(NotFoundError) as err:
        query_filters({"event": "Monzza Grand Prix"})
    assert "Italian Grand Prix" in err.value.message or err.value.details["suggestions"]
    with pytest.raises(NotFoundError) as err:
        query_filters({"driver": "Hamiltn"})
    assert "hamilton" in err.value.details["suggestions"]
    with pytest.raises(InvalidRequestError):
        query_filters({"team": "Ferrari"})
    with pytest.raises(InvalidRequestError):
        query_filters({"season": "last year"})


def test_answer_has_sources_and_citations(kb):
    out = answer_query({"query": "How did Verstappen win Abu Dhabi 2021?", "top_k": 3}, kb=kb)
    assert out["sources"][0]["id"] == "race:2021:22"
    src = out["sources"][0]
    assert set(src) == {"id", "kind", "season", "round", "event", "title", "score", "snippet"}
    assert (src["kind"], src["season"], src["round"]) == ("race", 2021, 22)
    assert "[1]" in out["answer"] and out["provider"] == "offline"
    assert out["fallback_reason"] is None and out["cached"] is False
    assert out["latency_ms"] >= 0


def test_filters_are_hard(kb):
    out = answer_query({"query": "safety car", "top_k": 5, "filters": {"season": 2018}}, kb=kb)
    assert [s["id"] for s in out["sources"]] == ["race:2018:21"]
    out = answer_query({"query": "strategy", "top_k": 5, "filters": {"driver": "Perez"}}, kb=kb)
    assert [s["id"] for s in out["sources"]] == ["race:2022:07"]


def test_answers_are_cached_by_normalised_request(kb):
    cache = MemoryCache()
    first = answer_query({"query": "Why is a stop cheaper under the Safety Car?"}, kb=kb, cache=cache)
    again = answer_query({"query": "  why is a stop cheaper under the safety car "}, kb=kb, cache=cache)
    assert first["cached"] is False and again["cached"] is True
    assert again["answer"] == first["answer"] and again["sources"] == first["sources"]
    other = answer_query({"query": "why is a stop cheaper under the safety car", "top_k": 2}, kb=kb,
                         cache=cache)
    assert other["cached"] is False
    assert normalise_query("  Who  won? ") == "who won"


@pytest.mark.parametrize("kwargs", [{"query": "  "}, {"query": "x", "top_k": 0},
                                    {"query": "x", "top_k": 21}, {"query": "x" * 1001}])
def test_bad_requests(kb, kwargs):
    with pytest.raises(InvalidRequestError):
        answer_query(kwargs, kb=kb)


def test_missing_index_is_a_clear_backend_error(tmp_path):
    kb = KnowledgeBase(embedder=MiniLMEmbedder(threads=1),
                       index=LanceDBIndex(tmp_path / "lancedb"), corpus_dir=tmp_path)
    with pytest.raises(BackendUnavailableError) as err:
        answer_query({"query": "who won?"}, kb=kb)
    assert "f1analyzer index" in err.value.message


def _state():
    settings = get_settings()
    return SimpleNamespace(settings=settings, store=RaceStore(settings.store_dir), index=None)


def test_index_is_built_in_the_background_and_health_follows():
    state = _state()
    assert narration_ok(state) is True
    assert vector_database_ok(state) is False  # nothing built yet
    thread = ensure_index_async(state)
    assert ensure_index_async(state) is thread  # one build at a time
    status = state.index
    thread.join(120)
    assert status.status == "ready", status.error
    assert status.report["written"] == status.report["total"] > 150  # bundled + rule documents
    require_index_ready(state)
    assert vector_database_ok(state) is True
    out = answer_query({"query": "Who won the 2021 Hungarian Grand Prix?"}, settings=state.settings)
    assert out["sources"][0]["id"] == "race:2021:11"
    # a second start finds the index and builds nothing
    again = _state()
    ensure_index_async(again).join(120)
    assert again.index.report is None


def test_building_index_answers_a_clear_503_and_is_unhealthy():
    state = _state()
    from f1analyzer.app.knowledge import IndexStatus

    state.index = IndexStatus(status="building")
    with pytest.raises(BackendUnavailableError) as err:
        require_index_ready(state)
    assert "being built" in err.value.message
    assert vector_database_ok(state) is False


def test_narration_check_fails_without_the_llm_key(monkeypatch):
    monkeypatch.setenv("F1A_LLM_PROVIDER", "anthropic")
    from f1analyzer.config import reset_settings

    reset_settings()
    assert narration_ok(_state()) is False


RESULT = {
    "season": 2021, "round": 14, "event": "Italian Grand Prix", "circuit_key": "monza",
    "driver": "RIC", "grid": 2, "total_laps": 53,
    "strategies": [
        {"rank": 1, "strategy": "M-22-H", "stops": 1, "compounds": ["MEDIUM", "HARD"],
         "pit_laps": [22], "pit_windows": [[20, 25]], "expected_position": 2.4,
         "position_p10": 1.0, "position_p50": 2.0, "position_p90": 4.0,
         "position_histogram": {"1": 0.3, "2": 0.4}},
        {"rank": 2, "strategy": "S-15-M-35-H", "stops": 2, "compounds": ["SOFT", "MEDIUM", "HARD"],
         "pit_laps": [15, 35], "pit_windows": [[13, 17], [33, 37]], "expected_position": 3.1,
         "position_p10": 2.0, "position_p50": 3.0, "position_p90": 5.0},
    ],
}


def test_narrator_input_maps_the_generate_result():
    facts = narrator_input(RESULT)
    # older result shapes map to today's names ("P10" is never read as tenth place)
    assert facts["strategies"][0]["position_10th_percentile"] == 1.0
    assert "position_histogram" not in facts["strategies"][0]
    assert facts["event"] == "Italian Grand Prix" and facts["grid"] == 2


def test_narrate_strategy_cites_the_circuit_and_rules():
    kb = get_knowledge_base(get_settings())
    state = _state()
    ensure_index_async(state, warm=False).join(120)
    cache = MemoryCache()
    out = narrate_strategy(RESULT, get_settings(), kb=kb, cache=cache)
    assert set(out) >= {"narrative", "sources", "provider", "fallback_reason"}
    ids = [s["id"] for s in out["sources"]]
    assert ids[:3] == ["circuit:monza", "rule:two-compound", "rule:safety-car-pit-loss"]
    assert out["provider"] == "offline" and out["fallback_reason"] is None
    assert "one-stop (Medium → Hard), pitting on lap 22" in out["narrative"]
    assert "two-compound rule requires [2]" in out["narrative"]
    assert narrate_strategy(RESULT, get_settings(), kb=kb, cache=cache)["narrative"] == \
        out["narrative"]


def test_pre_race_narration_cites_nothing_from_that_race_or_later(kb):
    """Problem 5 of issue 11: a pre-race answer for 2021 round 14 cites no document of that race
    or a later one, and no circuit profile (it summarises every season, later ones included)."""
    result = {**RESULT, "model": {"data_used": {"cutoff": {"season": 2021, "round": 14},
                                                "models_fitted_on": "seasons 2018-2020 + 2021 rounds 1-13"}}}
    out = narrate_strategy(result, get_settings(), kb=kb)
    got = [(s["id"], s.get("season"), s.get("round")) for s in out["sources"]]
    assert got and all(i.startswith(("rule:", "race:")) for i, _, _ in got)
    assert all((se, rd) < (2021, 14) for i, se, rd in got if i.startswith("race:"))
    assert "race:2019:14" in [i for i, _, _ in got]  # earlier races stay citable
    assert "saw seasons 2018-2020 + 2021 rounds 1-13 only" in out["narrative"]
    # without a cutoff the circuit profile is cited, but not its fitted numbers
    free = narrate_strategy(RESULT, get_settings(), kb=kb)
    monza = next(s for s in free["sources"] if s["id"] == "circuit:monza")
    assert "24 s" not in monza["snippet"] and "24 s" not in free["narrative"]


def test_narrate_strategy_without_an_index_still_explains():
    out = narrate_strategy(RESULT, get_settings())
    assert out["sources"] == [] and out["provider"] == "offline"
    assert out["fallback_reason"].startswith("knowledge base unavailable")
    assert "pitting on lap 22" in out["narrative"]
