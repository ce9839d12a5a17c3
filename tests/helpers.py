"""Helpers for tests that start real processes on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout_s: float = 30.0, interval_s: float = 0.1):
    """Poll ``predicate`` until it returns something truthy, and return that (None on timeout).

    Not a timing assertion: the deadline only bounds a broken test. Callers assert on the result.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    return None


def wait_for_port(port: int, *, host: str = "127.0.0.1", timeout_s: float = 30.0,
                  proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited early with code {proc.returncode}")
        with contextlib.suppress(OSError):
            with socket.create_connection((host, port), timeout=0.5):
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout_s}s")


def wait_for_http(url: str, *, timeout_s: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited early with code {proc.returncode}")
        try:
            r = httpx.get(url, timeout=2.0)
            if r.status_code < 500:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {timeout_s}s ({last})")


def stop_process(proc: subprocess.Popen, timeout_s: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def service_env(home, **extra) -> dict[str, str]:
    """Environment for :func:`api_server`: a fresh home, no Redis, no keys, generous rate limits;
    ``extra`` overrides (values are turned into strings)."""
    env = {"F1A_HOME": str(home), "REDIS_URL": "", "API_KEYS": "", "F1A_REQUIRE_API_KEY": "false",
           "F1A_RATE_LIMIT_DEFAULT": "1000/minute", "F1A_RATE_LIMIT_STRATEGY": "1000/minute",
           "F1A_RATE_LIMIT_GLOBAL": "100000/minute", "F1A_RATE_LIMIT_COST": "1000000000/minute",
           "DEBUG": "false", "F1_DATA_DIR": "", "F1A_DEMO_ON_EMPTY": "false"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


@contextlib.contextmanager
def api_server(env: dict[str, str] | None = None, *, port: int | None = None,
               log_path: Path | None = None, timeout_s: float = 90.0, workers: int = 1) -> Iterator[str]:
    """Run the real API under uvicorn in a subprocess (``workers`` processes); yields its base URL."""
    port = port or free_port()
    full_env = {**os.environ, **(env or {})}
    full_env.setdefault("PYTHONUNBUFFERED", "1")
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "f1analyzer.api.main:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), *(["--workers", str(workers)] if workers > 1 else [])],
        env=full_env, stdout=out, stderr=subprocess.STDOUT, cwd=str(REPO),
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", timeout_s=timeout_s, proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)
        if log_path:
            out.close()  # type: ignore[union-attr]


@contextlib.contextmanager
def redis_server(port: int | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start Debian's redis-server on a free loopback port; yields (url, process)."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    port = port or free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc=proc)
        yield f"redis://127.0.0.1:{port}/0", proc
    finally:
        stop_process(proc)


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's server on a free loopback port (S3, DynamoDB, Secrets Manager, CloudWatch); yields its URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
