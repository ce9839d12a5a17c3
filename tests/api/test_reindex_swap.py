"""``/admin/reindex`` repairs a deleted or corrupted index while the server serves (issue 13,
item 8): a real uvicorn process, its index built at start-up from the bundled documents."""

from __future__ import annotations

import shutil

import httpx
import pytest

from tests.api.test_service_admin import wait_job
from tests.helpers import api_server, service_env, wait_until

KEY = "reindex-key"
H = {"X-API-Key": KEY}
QUESTION = {"query": "Why is a pit stop cheaper under the safety car?", "top_k": 3}


def _query(url: str) -> httpx.Response:
    return httpx.post(f"{url}/query", json=QUESTION, timeout=120)


def _index_ready(url: str) -> bool:
    return httpx.get(f"{url}/health", timeout=30).json()["components"]["vector_database"]


def _reindex(url: str) -> dict:
    r = httpx.post(f"{url}/admin/reindex", headers=H, timeout=30)
    assert r.status_code == 202, r.text
    return wait_job(url, r.json()["job_id"], H, timeout_s=600)


@pytest.mark.slow
def test_reindex_repairs_a_deleted_then_a_corrupted_index_while_serving(tmp_path):
    home = tmp_path / "home"
    index_dir = home / "index"
    with api_server(service_env(home, API_KEYS=KEY), timeout_s=180) as url:
        assert wait_until(lambda: _index_ready(url), timeout_s=600, interval_s=1.0)
        assert _query(url).status_code == 200

        shutil.rmtree(index_dir)  # deleted under the running server
        during = _query(url)
        assert during.status_code in (200, 503), during.text  # old data in memory, or a clear 503
        rec = _reindex(url)
        assert rec["status"] == "succeeded", rec
        assert rec["result"]["rebuilt"] is True and rec["result"]["total"] > 0
        answer = _query(url)
        assert answer.status_code == 200 and answer.json()["sources"], answer.text
        assert wait_until(lambda: _index_ready(url), timeout_s=30)

        # every data file of the vector table overwritten with junk
        junked = [f for f in (index_dir / "lancedb").rglob("*.lance") if f.is_file()]
        assert junked
        for f in junked:
            f.write_bytes(b"\0" * 64)
        rec = _reindex(url)
        assert rec["status"] == "succeeded", rec
        assert rec["result"]["reused_vectors"] == 0  # nothing of the corrupt index was trusted
        assert _query(url).status_code == 200
        assert wait_until(lambda: _index_ready(url), timeout_s=30)
    leftovers = [p.name for p in home.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == [] and (index_dir / "lancedb").is_dir()
