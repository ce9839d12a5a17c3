"""PineconeIndex through the official pinecone SDK against the local fake Pinecone."""

from __future__ import annotations

import pytest

from f1analyzer.config import get_settings, reset_settings
from f1analyzer.errors import BackendUnavailableError
from f1analyzer.knowledge.documents import Document
from f1analyzer.knowledge.index import get_vector_index
from f1analyzer.knowledge.pinecone_index import PineconeIndex, pinecone_filter
from tests.fakes import FakePinecone
from tests.knowledge.corpus import RACE_DOCS, unit_vectors

DIM = 8
KEY = "pc-test-key"


def make_index(fake: FakePinecone, namespace: str = "ns-a", **kw) -> PineconeIndex:
    kw.setdefault("backoff_s", 0.01)
    return PineconeIndex(api_key=KEY, index_name="f1-test", namespace=namespace, dim=DIM,
                         cloud="gcp", region="europe-west4", controller_host=fake.url, **kw)


@pytest.fixture
def fake():
    with FakePinecone(api_key=KEY) as server:
        yield server


def many_docs(n: int) -> list[Document]:
    return [Document(id=f"race:2023:{i:03d}", kind="race", title=f"Race {i}", text=f"Text {i}.",
                     season=2018 + i % 7, round=i, drivers=("VER",) if i % 2 else ("HAM", "RUS"))
            for i in range(n)]


def test_creates_missing_serverless_index_once(fake):
    idx = make_index(fake)
    idx.upsert(RACE_DOCS, unit_vectors(len(RACE_DOCS), DIM))
    created = [r for r in fake.requests if r.method == "POST" and r.path == "/indexes"]
    assert len(created) == 1
    body = created[0].body
    assert body["name"] == "f1-test"
    assert body["deployment"] == {"deployment_type": "managed", "cloud": "gcp",
                                  "region": "europe-west4"}
    assert body["schema"]["fields"]["embedding"] == {"type": "dense_vector", "dimension": DIM,
                                                     "metric": "cosine"}
    # a second client finds the index and does not create it again
    make_index(fake).count()
    assert len([r for r in fake.requests if r.method == "POST" and r.path == "/indexes"]) == 1
    idx.close()


def test_upserts_in_batches_of_100_and_is_idempotent(fake):
    docs = many_docs(250)
    vectors = unit_vectors(250, DIM)
    idx = make_index(fake)
    assert idx.upsert(docs, vectors) == 250
    assert fake.upsert_batch_sizes() == [100, 100, 50]
    assert idx.count() == 250 and len(idx.ids()) == 250
    assert idx.upsert(docs, vectors) == 0  # nothing changed: nothing sent
    assert fake.upsert_batch_sizes() == [100, 100, 50]
    idx.close()


def test_query_with_filters_uses_pinecone_syntax(fake):
    idx = make_index(fake)
    vectors = unit_vectors(len(RACE_DOCS), DIM)
    idx.upsert(RACE_DOCS, vectors)
    hits = idx.query(vectors[2], top_k=3, filters={"driver": "VER", "season": [2021, 2022]})
    assert [h.id for h in hits][0] == "race:2021:22"
    assert {h.id for h in hits} == {"race:2021:22", "race:2022:07"}
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0].title == RACE_DOCS[2].title and hits[0].metadata["circuit"] == "yas_marina"
    sent = fake.calls("/documents/search")[-1].body
    assert sent["filter"] == {"$and": [{"drivers": {"$in": ["VER"]}},
                                       {"season": {"$in": [2021, 2022]}}]}
    assert [h.id for h in idx.query(vectors[4], top_k=5, filters={"kind": "circuit"})] == \
        ["circuit:monza"]
    idx.close()


def test_namespaces_are_isolated(fake):
    a, b = make_index(fake, "ns-a"), make_index(fake, "ns-b")
    a.upsert(RACE_DOCS, unit_vectors(len(RACE_DOCS), DIM))
    assert a.count() == len(RACE_DOCS)
    assert b.count() == 0 and b.ids() == []
    assert b.query(unit_vectors(1, DIM)[0], top_k=5) == []
    a.delete_all()
    assert a.count() == 0
    b.delete_all()  # an empty namespace: nothing to delete, no error
    a.close()
    b.close()


def test_documents_round_trip_for_the_keyword_index(fake):
    idx = make_index(fake)
    idx.upsert(RACE_DOCS, unit_vectors(len(RACE_DOCS), DIM))
    assert idx.documents() == sorted(RACE_DOCS, key=lambda d: d.id)
    idx.close()


def test_transient_errors_are_retried(fake):
    idx = make_index(fake, sdk_retries=0, retries=4)
    idx.upsert(RACE_DOCS[:1], unit_vectors(1, DIM))
    fake.fail_next.extend([503, 503])
    assert idx.count() == 1
    idx.close()


def test_persistent_outage_raises_backend_unavailable(fake):
    idx = make_index(fake, sdk_retries=1, retries=2)
    idx.upsert(RACE_DOCS[:1], unit_vectors(1, DIM))
    before = len(fake.calls("/describe_index_stats"))
    fake.fail_next.extend([503] * 20)
    with pytest.raises(BackendUnavailableError, match="Pinecone describe_index_stats failed"):
        idx.count()
    # the data-plane client always makes 1 try + 3 SDK retries (pinecone 10.2 passes no retry
    # config to Index); tenacity runs 2 such rounds
    assert len(fake.calls("/describe_index_stats")) - before == 8
    assert idx.healthy() is False
    idx.close()


def test_wrong_key_is_backend_unavailable(fake):
    idx = PineconeIndex(api_key="wrong", index_name="f1-test", dim=DIM, controller_host=fake.url,
                        backoff_s=0.01)
    with pytest.raises(BackendUnavailableError, match="Unauthorized|Invalid API Key"):
        idx.count()


def test_factory_builds_pinecone_from_settings(fake, monkeypatch):
    monkeypatch.setenv("F1A_VECTOR_BACKEND", "pinecone")
    monkeypatch.setenv("PINECONE_API_KEY", KEY)
    monkeypatch.setenv("PINECONE_CONTROLLER_HOST", fake.url)
    monkeypatch.setenv("F1A_PINECONE_INDEX", "from-settings")
    monkeypatch.setenv("F1A_PINECONE_NAMESPACE", "prod")
    reset_settings()
    idx = get_vector_index(get_settings(), dim=DIM)
    assert isinstance(idx, PineconeIndex)
    idx.upsert(RACE_DOCS[:2], unit_vectors(2, DIM))
    assert "from-settings" in fake.indexes
    assert set(fake.namespaces["prod"]) == {RACE_DOCS[0].id, RACE_DOCS[1].id}
    idx.close()


def test_missing_key_is_a_clear_error():
    with pytest.raises(BackendUnavailableError, match="PINECONE_API_KEY"):
        PineconeIndex(api_key="", index_name="x")


def test_filter_translation():
    assert pinecone_filter(None) is None
    assert pinecone_filter({"season": 2023}) == {"season": {"$eq": 2023}}
    assert pinecone_filter({"drivers": "ver"}) == {"drivers": {"$in": ["VER"]}}
