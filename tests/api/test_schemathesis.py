"""Schemathesis over the OpenAPI schema of every endpoint of the real server: no 5xx.

The only server-side status tolerated is a deliberate 503 in the project's JSON error shape whose
code says a backend or model is missing on this fresh server (``not_fitted``,
``backend_unavailable``...); any other 5xx — above all a 500 — fails. Run twice: anonymous
(admin answers 401) and with an API key (admin routes validate and start jobs).

This module is also the schemathesis hooks module of the run (``SCHEMATHESIS_HOOKS``), which
is how the check below gets into the CLI process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, api_server

KEY = "schemathesis-key"
#: 503 codes that mean "this part is not provisioned", answered on purpose
DELIBERATE_503 = {"not_fitted", "backend_unavailable", "network_unavailable", "data_not_loaded"}

try:  # registered only inside the schemathesis process (and harmless under pytest)
    import schemathesis

    @schemathesis.check
    def no_unhandled_server_error(ctx, response, case):
        if response.status_code < 500:
            return None
        try:
            code = json.loads(response.content)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = None
        if response.status_code == 503 and code in DELIBERATE_503:
            return None
        raise AssertionError(f"{response.status_code} ({code}) on {case.operation.label}: "
                             f"{response.content[:300]!r}")
except ImportError:  # pragma: no cover
    schemathesis = None

def service_env(home, **extra) -> dict[str, str]:
    env = {"F1A_HOME": str(home), "REDIS_URL": "", "API_KEYS": KEY, "F1A_REQUIRE_API_KEY": "false",
           "F1A_RATE_LIMIT_DEFAULT": "1000000/minute", "F1A_RATE_LIMIT_STRATEGY": "1000000/minute",
           "DEBUG": "false", "F1_DATA_DIR": ""}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_schemathesis(url: str, workdir: Path, headers: list[str]) -> subprocess.CompletedProcess:
    """The CLI in ``workdir`` (it keeps a ``.schemathesis`` cache there, not in the repo)."""
    exe = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
    # one worker: on CPython 3.11 two threads calling ast.parse at once (hypothesis describing
    # its filter lambdas) can corrupt the ast module's recursion counter ("AST constructor
    # recursion depth mismatch"), a crash of the fuzzer, not of the server
    cmd = [exe, "run", f"{url}/openapi.json", "--checks", "no_unhandled_server_error",
           "--max-examples", "25", "--seed", "7", "--workers", "1", "--no-color",
           "--generation-database", "none", "--request-timeout", "30",
           "--report", "junit", "--report-dir", str(workdir / "report")]
    for h in headers:
        cmd += ["-H", h]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.test_schemathesis",
           "PYTHONPATH": str(REPO)}
    return subprocess.run(cmd, capture_output=True, text=True, cwd=str(workdir), env=env,
                          timeout=170)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("st_home")
    log_path = home / "server.log"
    with api_server(service_env(home), log_path=log_path) as url:
        yield url, log_path


@pytest.mark.parametrize("auth", ["anonymous", "api-key"])
def test_no_server_errors_on_any_endpoint(server, tmp_path, auth):
    url, log_path = server
    headers = [f"X-API-Key: {KEY}"] if auth == "api-key" else []
    result = run_schemathesis(url, tmp_path, headers)
    out = result.stdout + result.stderr
    assert "Operations:" in out, out[-3000:]
    assert result.returncode == 0, out[-6000:]
    # and the server never logged an unhandled exception
    assert '"unhandled error"' not in log_path.read_text()
