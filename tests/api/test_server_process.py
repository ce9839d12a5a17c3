"""The real server process (uvicorn on 127.0.0.1): it starts, answers /health in the seed's shape
and stops cleanly."""

from __future__ import annotations

import httpx

from tests.helpers import api_server

COMPONENTS = {"data_collector", "vector_database", "strategy_generator", "ml_models"}


def test_health_shape_from_a_real_process(tmp_path):
    log = tmp_path / "server.log"
    with api_server({"F1A_HOME": str(tmp_path / "home")}, log_path=log) as base:
        r = httpx.get(f"{base}/health", timeout=10)
        openapi = httpx.get(f"{base}/openapi.json", timeout=10)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert {"status", "components"} <= set(body)  # extra keys (reasons, version) are allowed
    assert body["status"] in ("healthy", "degraded")
    assert set(body["components"]) == COMPONENTS
    assert all(isinstance(v, bool) for v in body["components"].values())
    # the store of an empty home opens and answers: the data collector works
    assert body["components"]["data_collector"] is True
    if not all(body["components"].values()):
        assert body["status"] == "degraded" and body["reasons"]
    assert openapi.status_code == 200 and "/health" in openapi.json()["paths"]
    assert "Traceback" not in log.read_text()
