"""Fixtures for the deployment tests: real API processes, a moto server, tool paths."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import REPO, free_port, moto_server, stop_process, wait_for_http


def venv_tool(name: str) -> str | None:
    """A console script next to this interpreter (the venv's bin), else on PATH."""
    cand = Path(sys.executable).parent / name
    if cand.exists():
        return str(cand)
    return shutil.which(name)


def start_api(home: Path, *, port: int | None = None, log_path: Path | None = None,
              env: dict[str, str] | None = None) -> tuple[subprocess.Popen, int]:
    """Start the real API like ``tests.helpers.api_server`` but hand back the process (to kill it)."""
    port = port or free_port()
    full_env = {**os.environ, "F1A_HOME": str(home), "PYTHONUNBUFFERED": "1", **(env or {})}
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "f1analyzer.api.main:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port)],
        env=full_env, stdout=out, stderr=subprocess.STDOUT, cwd=str(REPO),
    )
    if log_path:
        out.close()  # the child keeps its own descriptor
    return proc, port


class ApiFleet:
    """Several API processes on loopback, each with its own F1A_HOME."""

    def __init__(self, root: Path, n: int = 3):
        self.root = root
        self.procs: list[subprocess.Popen] = []
        self.ports: list[int] = []
        for i in range(n):
            home = root / f"home{i}"
            proc, port = start_api(home, log_path=root / f"api{i}.log")
            self.procs.append(proc)
            self.ports.append(port)
        for proc, port in zip(self.procs, self.ports):
            wait_for_http(f"http://127.0.0.1:{port}/health", timeout_s=120, proc=proc)

    @property
    def addresses(self) -> list[str]:
        return [f"127.0.0.1:{p}" for p in self.ports]

    def kill(self, i: int) -> None:
        self.procs[i].kill()
        self.procs[i].wait(timeout=10)

    def restart(self, i: int) -> None:
        if self.procs[i].poll() is None:
            return
        proc, port = start_api(self.root / f"home{i}", port=self.ports[i],
                               log_path=self.root / f"api{i}.log")
        self.procs[i] = proc
        wait_for_http(f"http://127.0.0.1:{port}/health", timeout_s=120, proc=proc)

    def stop(self) -> None:
        for proc in self.procs:
            stop_process(proc)


@pytest.fixture(scope="module")
def api_fleet(tmp_path_factory) -> Iterator[ApiFleet]:
    fleet = ApiFleet(tmp_path_factory.mktemp("fleet"))
    try:
        yield fleet
    finally:
        fleet.stop()


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """moto's server on a free loopback port (S3, DynamoDB, Secrets Manager, CloudWatch)."""
    with moto_server() as url:
        yield url


@pytest.fixture
def aws(moto_url, monkeypatch) -> Iterator[str]:
    """A clean moto state and the environment that points the settings and boto3 at it."""
    httpx.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "SECRETS_MANAGER_SECRET_ID",
                "F1A_S3_BUCKET", "F1A_DYNAMODB_TABLE", "F1A_INGEST_SOURCE", "F1A_INGEST_S3_PREFIX"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    from f1analyzer.config import reset_settings

    reset_settings()
    yield moto_url


@pytest.fixture
def restore_environ() -> Iterator[None]:
    """load_secrets writes os.environ directly; put it back afterwards."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def lambda_module(restore_environ) -> Iterator[object]:
    """``lambda_functions`` with its per-container state cleared before and after."""
    import lambda_functions

    lambda_functions.reset()
    try:
        yield lambda_functions
    finally:
        lambda_functions.reset()
