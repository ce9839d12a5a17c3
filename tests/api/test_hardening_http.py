"""The smaller API findings of #13 item 10: no server paths in public messages, X-Forwarded-For
only from configured proxies, strict request types (no ``true`` for a number, no fullwidth
round digits, seasons in the supported range, unknown fields refused), 409 with its own code for
a full job queue, the app's own security headers, ``/metrics`` behind a token when one is set,
and a slow request body cut off with 408."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from f1analyzer.api.errors import scrub_paths
from f1analyzer.api.main import create_app
from f1analyzer.app.requests import SUPPORTED_SEASONS
from f1analyzer.config import Settings
from tests.helpers import (
    REPO,
    api_server,
    free_port,
    service_env,
    stop_process,
    wait_for_http,
)

GENERATE = {"season": 2024, "event": "Monza", "driver": "LEC", "grid": 4, "top_k": 1, "n_sims": 20}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("hardening_home")
    env = service_env(home, F1A_INDEX_ON_START="false", F1A_BODY_READ_TIMEOUT_S="1")
    with api_server(env) as url:
        yield url, home


@pytest.fixture
def client(tmp_path):
    app = create_app(Settings(home=tmp_path, index_on_start=False, api_keys="admin-key",
                              rate_limit_enabled=False))
    with TestClient(app) as c:
        yield c


# --- no server paths in public answers -----------------------------------------------------------
def test_server_paths_are_replaced_by_a_short_code(server):
    url, home = server
    r = httpx.post(f"{url}/query", json={"query": "Who won at Monza?"}, timeout=60)
    assert r.status_code == 503, r.text
    err = r.json()["error"]
    assert str(home) not in r.text and "/index" not in err["message"]
    assert "<server path>" in err["message"] and len(err["details"]["incident"]) == 12
    g = httpx.post(f"{url}/strategy/generate", json=GENERATE, timeout=300)
    assert g.status_code == 200, g.text
    assert str(home) not in g.text  # "knowledge base unavailable: the index at …" had the path


def test_scrub_paths_keeps_api_routes_and_urls():
    assert scrub_paths("file /srv/f1a/store/2024.parquet is bad") == ("file <server path> is bad", True)
    for text in ("POST /strategy/generate", "see https://example.com/home/a", "10/minute"):
        assert scrub_paths(text) == (text, False)


# --- X-Forwarded-For -----------------------------------------------------------------------------
def limited_races(url: str, forwarded: str) -> int:
    return httpx.get(f"{url}/races", headers={"X-Forwarded-For": forwarded}).status_code


def test_forwarded_for_is_not_believed_by_default_under_bare_uvicorn(tmp_path):
    env = service_env(tmp_path, F1A_INDEX_ON_START="false", F1A_RATE_LIMIT_DEFAULT="5/minute")
    env.pop("FORWARDED_ALLOW_IPS", None)
    with api_server(env) as url:  # uvicorn itself trusts 127.0.0.1 here; the app does not
        statuses = [limited_races(url, f"203.0.113.{k}") for k in range(6)]
    assert statuses[:5] == [200] * 5 and statuses[5] == 429, statuses


def test_forwarded_for_is_not_believed_by_default_under_serve(tmp_path):
    port = free_port()
    env = {**__import__("os").environ,
           **service_env(tmp_path, F1A_INDEX_ON_START="false", F1A_RATE_LIMIT_DEFAULT="5/minute"),
           "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "1"}
    env.pop("FORWARDED_ALLOW_IPS", None)
    exe = str(Path(sys.executable).parent / "f1analyzer")
    proc = subprocess.Popen([exe, "serve", "--no-reload"], env=env, cwd=str(REPO),
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/health", proc=proc, timeout_s=90)
        statuses = [limited_races(url, f"198.51.100.{k}") for k in range(6)]
    finally:
        stop_process(proc)
    assert statuses[:5] == [200] * 5 and statuses[5] == 429, statuses


def test_forwarded_for_from_a_configured_proxy_names_the_client(tmp_path):
    env = service_env(tmp_path, F1A_INDEX_ON_START="false", F1A_RATE_LIMIT_DEFAULT="5/minute",
                      F1A_TRUSTED_PROXIES="127.0.0.0/8")
    env.pop("FORWARDED_ALLOW_IPS", None)
    with api_server(env) as url:
        statuses = [limited_races(url, f"203.0.113.{k}") for k in range(8)]
    assert 429 not in statuses, statuses  # each forwarded client has its own allowance


# --- strict requests -----------------------------------------------------------------------------
@pytest.mark.parametrize("path, body, words", [
    ("/strategy/generate", {**GENERATE, "n_sims": True}, ["n_sims", "not a number"]),
    ("/strategy/generate", {**GENERATE, "grid": False}, ["grid", "not a number"]),
    ("/strategy/generate", {**GENERATE, "event": "\uff13"}, ["event", "digits 0-9"]),
    ("/strategy/generate", {**GENERATE, "season": 1950}, ["1950", f"{SUPPORTED_SEASONS[0]}-"]),
    ("/strategy/generate", {**GENERATE, "season": 2100}, ["2100", "supported range"]),
    ("/strategy/generate", {**GENERATE, "nsims": 10}, ["nsims", "Extra inputs"]),
    ("/strategy/simulate", {"season": 2024, "event": "Monza", "n_sims": 10, "speed": 1,
                            "strategies": [{"driver": "LEC", "start_compound": "SOFT"}]}, ["speed"]),
    ("/strategy/simulate", {"season": 2024, "event": "Monza", "n_sims": 10, "strategies": [
        {"driver": "LEC", "start_compound": "SOFT", "stops": [{"lap": True, "compound": "HARD"}]}]},
     ["lap", "not a number"]),
    ("/predict/laptime", {"season": 2024, "event": "Monza", "driver": "LEC", "lap": 5,
                          "compound": "SOFT", "tyre_age_laps": 3, "turbo": True}, ["turbo"]),
    ("/predict/pitstop", {"lap_number": 10, "total_laps": 53, "compound": "SOFT",
                          "tyre_age_laps": True}, ["tyre_age_laps", "not a number"]),
    ("/predict/pitstop", {"season": 1950, "lap_number": 10, "total_laps": 53, "compound": "SOFT",
                          "tyre_age_laps": 3}, ["supported range"]),
])
def test_lenient_inputs_are_refused_with_422(client, path, body, words):
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    msg = r.json()["error"]["message"]
    for w in words:
        assert w in msg, msg


def test_full_job_queue_is_409_with_its_own_code(client):
    client.app.state.f1a.jobs.max_queued_per_kind = 0
    r = client.post("/admin/reindex", json={}, headers={"X-API-Key": "admin-key"})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "job_queue_full"


# --- headers and /metrics --------------------------------------------------------------------------
def test_security_headers_come_from_the_app(server):
    url, _ = server
    for path in ("/health", "/races", "/openapi.json", "/nowhere"):
        h = httpx.get(f"{url}{path}").headers
        assert h["x-content-type-options"] == "nosniff"
        assert h["x-frame-options"] == "DENY" and h["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in h["content-security-policy"]
    page = httpx.get(f"{url}/").headers  # the dashboard keeps its own CSP (its files only)
    assert "script-src 'self'" in page["content-security-policy"]
    assert page["x-frame-options"] == "SAMEORIGIN"
    docs = httpx.get(f"{url}/docs").headers
    assert "frame-ancestors 'self'" in docs["content-security-policy"]


def test_metrics_need_the_token_when_one_is_set(tmp_path):
    open_app = create_app(Settings(home=tmp_path / "a", index_on_start=False))
    with TestClient(open_app) as c:
        assert c.get("/metrics").status_code == 200  # documented default: open
    app = create_app(Settings(home=tmp_path / "b", index_on_start=False, metrics_token="scrape-me"))
    with TestClient(app) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 403
        ok = c.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert ok.status_code == 200 and "f1a_" in ok.text


# --- slow bodies -----------------------------------------------------------------------------------
def test_a_body_that_trickles_in_is_cut_off_with_408(server):
    url, _ = server
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps(GENERATE).encode()
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(b"POST /strategy/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:5])
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = s.recv(65536)  # the server answers without the rest of the body
            if not chunk:
                break
            reply += chunk
    head, _, payload = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), reply[:200]
    assert json.loads(payload)["error"]["code"] == "request_timeout"
