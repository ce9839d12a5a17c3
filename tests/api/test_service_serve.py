"""`f1analyzer serve` / `python fastapi_backend.py` as real processes: workers, multiprocess
metrics, JSON logs and graceful shutdown on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers import REPO, free_port, stop_process, wait_for_http


def start(cmd: list[str], home: Path, log: Path, **env) -> tuple[subprocess.Popen, str]:
    port = free_port()
    full = {**os.environ, "F1A_HOME": str(home), "HOST": "127.0.0.1", "PORT": str(port),
            "REDIS_URL": "", "API_KEYS": "", "DEBUG": "false", "PYTHONUNBUFFERED": "1",
            "F1A_RATE_LIMIT_DEFAULT": "100000/minute", **env}
    full.pop("PROMETHEUS_MULTIPROC_DIR", None)
    out = open(log, "wb")
    proc = subprocess.Popen(cmd, env=full, cwd=str(REPO), stdout=out, stderr=subprocess.STDOUT)
    out.close()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/health", proc=proc, timeout_s=90)
    except Exception:
        stop_process(proc)
        raise
    return proc, url


def test_serve_with_two_workers_aggregates_metrics_and_stops_cleanly(tmp_path):
    log = tmp_path / "serve.log"
    exe = str(Path(sys.executable).parent / "f1analyzer")
    proc, url = start([exe, "serve"], tmp_path / "home", log, WORKERS="2")
    try:
        for _ in range(40):  # one connection each: they spread over both workers
            assert httpx.get(f"{url}/races").status_code == 200
        text = httpx.get(f"{url}/metrics").text
        lines = [ln for ln in text.splitlines()
                 if ln.startswith('f1a_http_requests_total{method="GET",route="/races",status="200"}')]
        assert lines and float(lines[0].split()[-1]) == 40.0, lines  # summed over workers
        assert (tmp_path / "home" / "prometheus").is_dir()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    assert code == 0
    records = [json.loads(ln) for ln in log.read_text().splitlines() if ln.startswith("{")]
    assert any(r.get("logger") == "f1analyzer.access" for r in records)
    assert sum("shutting down" in r.get("event", "") for r in records) == 2  # both lifespans ran


def test_fastapi_backend_entry_point_serves_and_shuts_down(tmp_path):
    log = tmp_path / "fb.log"
    proc, url = start([sys.executable, "fastapi_backend.py"], tmp_path / "home", log)
    try:
        r = httpx.get(f"{url}/health", headers={"X-Request-ID": "fb-1"})
        assert r.status_code == 200 and r.headers["x-request-id"] == "fb-1"
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    # uvicorn re-raises the signal it handled once shutdown is complete
    assert code in (0, -signal.SIGTERM)
    text = log.read_text()
    assert "Traceback" not in text and "f1analyzer shutting down" in text
    for ln in text.splitlines():  # uvicorn's own lines are JSON too
        if ln.strip():
            json.loads(ln)


@pytest.mark.parametrize("debug", ["true"])
def test_debug_gives_console_logs(tmp_path, debug):
    log = tmp_path / "dbg.log"
    exe = str(Path(sys.executable).parent / "f1analyzer")
    proc, url = start([exe, "serve", "--no-reload"], tmp_path / "home", log, DEBUG=debug)
    try:
        httpx.get(f"{url}/races", headers={"X-Request-ID": "dbg-1"})
    finally:
        stop_process(proc)
    text = log.read_text()
    line = next(ln for ln in text.splitlines() if "dbg-1" in ln)
    assert not line.startswith("{") and "request" in line
