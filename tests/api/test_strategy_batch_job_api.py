"""``POST /admin/strategy/batch``: a batch past ``/strategy/batch``'s cap runs as an admin job on
the batch executor and answers what ``/strategy/batch`` answers; the in-request cap's 422 names it."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from f1analyzer.api.main import create_app
from f1analyzer.config import Settings
from tests.factories import model_set, services, strategy_env

KEY = "admin-key"
H = {"X-API-Key": KEY}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    home = tmp_path_factory.mktemp("sbatch_api")
    _, models = strategy_env(home)
    settings = Settings(home=home, index_on_start=False, api_keys=KEY, rate_limit_enabled=False,
                        executor="serial")
    app = create_app(settings, services=services(settings, model_set(models, version="synthetic-1")))
    with TestClient(app) as c:
        yield c


def _request(k: int) -> dict:
    return {"season": 2023, "event": ["Monza", "Bahrain"][k % 2], "driver": f"D{1 + k % 10:02d}",
            "n_sims": 20, "top_k": 1}


def test_a_large_batch_runs_as_a_job_and_answers_like_the_small_one(client):
    big = [_request(k) for k in range(12)]
    r = client.post("/strategy/batch", json={"requests": big})
    assert r.status_code == 422, r.text
    assert "POST /admin/strategy/batch" in r.json()["error"]["message"]
    assert client.post("/admin/strategy/batch", json={"requests": big}).status_code == 401

    r = client.post("/admin/strategy/batch", json={"requests": big}, headers=H)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["kind"] == "strategy_batch"
    deadline = time.monotonic() + 120
    while True:
        rec = client.get(job["status_url"], headers=H).json()
        if rec["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert rec["status"] == "succeeded", rec
    res = rec["result"]
    assert res["count"] == 12 and res["races"] == 2 and res["failed"] == [] and res["executor"] == "serial"
    assert [a["driver"] for a in res["results"]] == [q["driver"] for q in big]

    small = client.post("/strategy/batch", json={"requests": big[:3]}).json()["results"]
    for got, want in zip(res["results"][:3], small):
        assert got["strategies"] == want["strategies"]
