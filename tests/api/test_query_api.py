"""POST /query through the real app: answers, caching, validation, 503s, LLM metrics."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from f1analyzer.api.main import create_app
from f1analyzer.config import get_settings, reset_settings
from tests.fakes.llm_api import FakeAnthropic, Reply


def _wait_for_index(app) -> None:
    status = app.state.f1a.services.index
    status.thread.join(120)
    assert status.status == "ready", status.error


@pytest.fixture
def client():
    app = create_app()
    with TestClient(app) as c:
        _wait_for_index(app)
        yield c


def test_query_answers_with_cited_sources(client):
    r = client.post("/query", json={"query": "Who won the 2021 Hungarian Grand Prix?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"answer", "sources", "provider", "cached", "latency_ms",
                         "fallback_reason"}
    assert len(body["sources"]) == 5
    first = body["sources"][0]
    assert first["id"] == "race:2021:11" and first["kind"] == "race"
    assert (first["season"], first["round"], first["event"]) == (2021, 11,
                                                                 "Hungarian Grand Prix")
    assert first["snippet"] and first["title"] and first["score"] > 0
    assert "Ocon" in body["answer"] and "[1]" in body["answer"]
    assert body["provider"] == "offline" and body["fallback_reason"] is None
    assert body["cached"] is False


def test_same_question_is_answered_from_the_cache(client):
    payload = {"query": "How much time does a pit stop cost at Monza?", "top_k": 3}
    first = client.post("/query", json=payload).json()
    again = client.post("/query", json={**payload, "query": "  how much time does a pit stop "
                                                             "cost at monza "}).json()
    assert first["cached"] is False and again["cached"] is True
    assert again["sources"] == first["sources"] and first["sources"][0]["id"] == "circuit:monza"
    metrics = client.get("/metrics").text
    assert 'f1a_cache_hits_total{namespace="query"}' in metrics


def test_filters_restrict_the_sources(client):
    r = client.post("/query", json={"query": "pit stops", "top_k": 10,
                                    "filters": {"season": 2021, "event": "Italian GP",
                                                "driver": "ricciardo"}})
    assert r.status_code == 200, r.text
    assert [s["id"] for s in r.json()["sources"]] == ["race:2021:14"]
    r = client.post("/query", json={"query": "pit loss", "filters": {"event": "Monza"}})
    assert {s["id"].split(":")[0] for s in r.json()["sources"]} <= {"race", "circuit"}
    assert all(s["event"] in (None, "Italian Grand Prix") for s in r.json()["sources"])


@pytest.mark.parametrize("payload", [
    {"query": ""}, {"top_k": 3}, {"query": "x", "top_k": 0}, {"query": "x", "top_k": 21},
    {"query": "x", "filters": {"team": "Ferrari"}}, {"query": "x", "filters": {"season": "soon"}},
    {"query": "x", "extra": 1},
])
def test_invalid_requests_are_422(client, payload):
    r = client.post("/query", json=payload)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"


def test_unknown_event_or_driver_is_404_with_suggestions(client):
    r = client.post("/query", json={"query": "x", "filters": {"event": "Hungarin Grand Prix"}})
    assert r.status_code == 404
    assert "Hungarian Grand Prix" in r.json()["error"]["details"]["suggestions"]
    r = client.post("/query", json={"query": "x", "filters": {"driver": "Verstapen"}})
    assert r.status_code == 404


def test_missing_index_is_503_with_what_to_do():
    app = create_app()
    client = TestClient(app)  # no lifespan: nothing builds the index
    r = client.post("/query", json={"query": "Who won in Monaco?"})
    assert r.status_code == 503
    err = r.json()["error"]
    assert err["code"] == "backend_unavailable" and "f1analyzer index" in err["message"]


def test_corrupted_index_is_503(client):
    index_dir = Path(get_settings().index_dir)
    for f in (index_dir / "lancedb").rglob("*"):
        if f.is_file():
            f.write_bytes(b"not a lance file")
    corpus = index_dir / "bm25_corpus.json"
    corpus.write_text("{broken", encoding="utf-8")  # a rewritten corpus makes the app reload
    r = client.post("/query", json={"query": "Who won the 2022 Monaco Grand Prix?"})
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "backend_unavailable"
    assert "index" in r.json()["error"]["message"]


def test_llm_answers_count_tokens(monkeypatch):
    with FakeAnthropic(default=Reply("The race was decided in the pits [1].", input_tokens=321,
                                     output_tokens=17)) as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        monkeypatch.setenv("F1A_ANTHROPIC_MODEL", "claude-sonnet-4-5")
        reset_settings()
        app = create_app()
        with TestClient(app) as c:
            _wait_for_index(app)
            body = c.post("/query", json={"query": "Why did Perez win Monaco 2022?"}).json()
            metrics = c.get("/metrics").text
    assert body["provider"] == "anthropic" and body["fallback_reason"] is None
    assert body["answer"] == "The race was decided in the pits [1]."
    line = next(x for x in metrics.splitlines() if x.startswith("f1a_llm_tokens_total{")
                and 'provider="anthropic"' in x and 'direction="input"' in x)
    assert float(line.rsplit(" ", 1)[1]) >= 321


def test_query_batch_embeds_new_questions_together(client):
    # phrasings no other test asks, so the process-wide query-embedding cache has neither
    questions = ["Which driver took victory at the 2021 Hungarian Grand Prix?",
                 "How many seconds does one pit stop cost at Monza?"]
    r = client.post("/query/batch", json={"queries": [{"query": q, "top_k": 3} for q in questions]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 2 and len(body["results"]) == 2
    assert body["embedded"] == 2
    assert body["results"][0]["sources"][0]["id"] == "race:2021:11"
    assert body["results"][1]["sources"][0]["id"] == "circuit:monza"
    # the same questions again: answered from the caches, nothing new to embed
    again = client.post("/query/batch", json={"queries": [{"query": q, "top_k": 3} for q in questions]}).json()
    assert again["embedded"] == 0
    assert [x["answer"] for x in again["results"]] == [x["answer"] for x in body["results"]]
    bad = client.post("/query/batch", json={"queries": []})
    assert bad.status_code == 422 and "queries" in bad.json()["error"]["message"]
