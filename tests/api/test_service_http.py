"""Production HTTP behaviour of the real server: error shapes, body limit, request ids, CORS,
metrics and structured logs (uvicorn subprocess on 127.0.0.1)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.helpers import api_server, service_env

KEY = "s3cret-key-for-tests"
ORIGIN = "https://dash.example"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("http_home")
    log_path = home / "server.log"
    env = service_env(home, API_KEYS=f"{KEY},other-key", F1A_MAX_BODY_BYTES=4096,
                      F1A_CORS_ORIGINS=ORIGIN)
    with api_server(env, log_path=log_path) as url:
        yield url, log_path


def assert_error_shape(r: httpx.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code
    assert "Traceback" not in r.text and 'File "' not in r.text
    return body


def test_unknown_path_is_json_404(server):
    url, _ = server
    assert_error_shape(httpx.get(f"{url}/no/such/path"), 404, "not_found")


def test_wrong_method_is_json_405(server):
    url, _ = server
    assert_error_shape(httpx.delete(f"{url}/health"), 405, "method_not_allowed")


def test_malformed_json_is_json_422_without_trace(server):
    url, _ = server
    r = httpx.post(f"{url}/admin/ingest", content=b'{"paths": [', headers={
        "X-API-Key": KEY, "content-type": "application/json"})
    body = assert_error_shape(r, 422, "validation_error")
    assert "JSON" in body["error"]["message"]


def test_body_over_limit_by_content_length_is_413(server):
    url, _ = server
    r = httpx.post(f"{url}/admin/ingest", content=b"x" * 10_000,
                   headers={"X-API-Key": KEY, "content-type": "application/json"})
    body = assert_error_shape(r, 413, "payload_too_large")
    assert body["error"]["details"]["max_body_bytes"] == 4096


def test_chunked_body_over_limit_is_413(server):
    url, _ = server

    def chunks():
        for _ in range(10):
            yield b"[" * 1000

    r = httpx.post(f"{url}/admin/ingest", content=chunks(),
                   headers={"X-API-Key": KEY, "content-type": "application/json"})
    assert_error_shape(r, 413, "payload_too_large")


def test_request_id_is_echoed_or_generated(server):
    url, _ = server
    r = httpx.get(f"{url}/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    generated = httpx.get(f"{url}/health").headers["x-request-id"]
    assert len(generated) == 32
    bad = httpx.get(f"{url}/health", headers={"X-Request-ID": "no spaces <allowed>"})
    assert bad.headers["x-request-id"] != "no spaces <allowed>"
    # errors carry it too
    assert httpx.get(f"{url}/nope", headers={"X-Request-ID": "rid-404"}).headers["x-request-id"] == "rid-404"


def test_cors_allows_configured_origin_only(server):
    url, _ = server
    pre = httpx.options(f"{url}/races", headers={"Origin": ORIGIN,
                                                 "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == ORIGIN
    other = httpx.get(f"{url}/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_metrics_use_route_templates(server):
    url, _ = server
    httpx.get(f"{url}/races/2024/Monza")
    httpx.get(f"{url}/some/random/path/123")
    r = httpx.get(f"{url}/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'f1a_http_requests_total{method="GET",route="/races/{season}/{event}"' in text
    assert 'route="<unmatched>"' in text and "/some/random/path" not in text
    assert "f1a_http_request_duration_seconds_bucket" in text
    for name in ("f1a_cache_hits_total", "f1a_llm_tokens_total", "f1a_simulations_total",
                 "f1a_rate_limited_total"):
        assert f"# TYPE {name} counter" in text, name


def test_access_log_is_json_with_request_fields_and_no_key(server):
    url, log_path = server
    httpx.get(f"{url}/races", headers={"X-Request-ID": "log-check-1", "X-API-Key": KEY})
    httpx.get(f"{url}/races", headers={"Authorization": f"Bearer {KEY}"})
    httpx.post(f"{url}/admin/reindex", headers={"X-API-Key": "wrong-" + KEY})
    deadline = time.monotonic() + 10
    line = None
    while time.monotonic() < deadline and line is None:
        for raw in log_path.read_text().splitlines():
            if '"log-check-1"' in raw:
                line = json.loads(raw)
        time.sleep(0.1)
    assert line is not None
    assert line["request_id"] == "log-check-1"
    assert line["route"] == "/races" and line["status"] == 200 and line["method"] == "GET"
    assert isinstance(line["latency_ms"], float)
    assert line["level"] == "info" and line["logger"] == "f1analyzer.access"
    assert line["time"].endswith("Z") and "T" in line["time"]
    text = log_path.read_text()
    assert KEY not in text
    # every line is one JSON object (uvicorn's and library lines included)
    for raw in text.splitlines():
        if raw.strip():
            json.loads(raw)


def test_openapi_documents_admin_security(server):
    url, _ = server
    spec = httpx.get(f"{url}/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("name") == "X-API-Key" for s in schemes.values())
    assert "/metrics" in spec["paths"] and "/admin/jobs/{job_id}" in spec["paths"]
