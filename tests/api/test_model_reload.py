"""``POST /admin/train`` then ``/strategy/generate``: every worker serves the new model set.

Real uvicorn processes on a synthetic store: one worker (the worker that ran the job reloads at
once), and two workers sharing Redis (the other worker follows the registry's version id).
"""

from __future__ import annotations

import shutil

import httpx
import pytest

from f1analyzer.config import settings_with_home
from f1analyzer.data.store import RaceStore
from tests.api.test_service_admin import wait_job
from tests.helpers import api_server, redis_server, service_env, wait_until
from tests.factories import fill_store, training_laps

KEY = "reload-key"
GENERATE = {"season": 2023, "event": "Monza", "n_sims": 10, "top_k": 1}


def _home(tmp_path):
    home = tmp_path / "home"
    fill_store(RaceStore(settings_with_home(home).store_dir), training_laps(seasons=(2022, 2023), rounds=2))
    return home


def _version(url: str) -> str:
    r = httpx.post(f"{url}/strategy/generate", json=GENERATE, timeout=120)
    assert r.status_code == 200, r.text
    return r.json()["model"]["version"]


def _train(url: str) -> str:
    h = {"X-API-Key": KEY}
    r = httpx.post(f"{url}/admin/train", json={"start_year": 2022, "end_year": 2023, "quick": True}, headers=h)
    assert r.status_code == 202, r.text
    rec = wait_job(url, r.json()["job_id"], h, timeout_s=600)
    assert rec["status"] == "succeeded", rec
    assert rec["result"]["serving"] == rec["result"]["version"]
    return rec["result"]["version"]


@pytest.mark.slow
def test_one_worker_serves_the_new_model_set_right_after_training(tmp_path):
    env = service_env(_home(tmp_path), API_KEYS=KEY, F1A_INDEX_ON_START="false")
    with api_server(env) as url:
        before = _version(url)
        new = _train(url)
        assert new != before
        assert _version(url) == new  # no wait: the worker that trained reloaded


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_two_workers_sharing_redis_both_serve_the_new_model_set(tmp_path):
    with redis_server() as (redis_url, _proc):
        env = service_env(_home(tmp_path), API_KEYS=KEY, F1A_INDEX_ON_START="false", REDIS_URL=redis_url)
        with api_server(env, workers=2) as url:
            before = _version(url)
            new = _train(url)  # the job runs in one worker; its record is read from either
            assert new != before

            def all_serve_new() -> bool:
                # several requests spread over both workers; each answers with the set it serves
                return all(_version(url) == new for _ in range(8))

            assert wait_until(all_serve_new, timeout_s=60, interval_s=0.5)
