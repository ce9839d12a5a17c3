"""No secret reaches a log line, in DEBUG or normal mode (issue 13, item 2).

Known secret values are set for every secret setting; a real uvicorn process (DEBUG on and off)
and the CLI are made to fail (a registered model set whose models are not models: unhandled
errors with tracebacks; an unreachable Redis whose URL carries a password; a bad admin call),
then every captured line is searched for the values.
"""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from f1analyzer.config import Settings
from f1analyzer.models.registry import get_registry
from tests.factories import fill_store, training_laps
from f1analyzer.config import settings_with_home
from f1analyzer.data.store import RaceStore
from tests.helpers import REPO, api_server, free_port, service_env

SECRETS = {
    "API_KEYS": "adminkey-7f3a9c1e5b",
    "ANTHROPIC_API_KEY": "sk-ant-secret-4d2e8b1f",
    "OPENAI_API_KEY": "sk-openai-secret-9a8b7c",
    "PINECONE_API_KEY": "pcsk-secret-1a2b3c4d",
    "F1A_MODEL_SIGNING_KEY": "signing-secret-5e6f7a8b",
}
REDIS_PASSWORD = "redispw-0c9d8e7f6a"


def _env(home, debug: bool) -> dict[str, str]:
    dead = free_port()  # nothing listens here: the LLM and Redis calls fail
    return service_env(home, DEBUG=str(debug).lower(), F1A_INDEX_ON_START="false",
                       REDIS_URL=f"redis://:{REDIS_PASSWORD}@127.0.0.1:{dead}/0",
                       ANTHROPIC_BASE_URL=f"http://127.0.0.1:{dead}", F1A_LLM_MAX_RETRIES="0",
                       F1A_LLM_TIMEOUT_S="2", **SECRETS)


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    fill_store(RaceStore(settings_with_home(home).store_dir), training_laps(seasons=(2023,), rounds=1))
    # signed with the configured key, so it is loaded: its "models" fail when used
    s = Settings(home=home, model_signing_key=SECRETS["F1A_MODEL_SIGNING_KEY"])
    get_registry(s).register({"laptime": "not-a-model", "pitstop": "not-a-model"}, {})
    return home


def _leaks(text: str) -> list[str]:
    return [v for v in (*SECRETS.values(), REDIS_PASSWORD) if v in text]


@pytest.mark.parametrize("debug", [False, True])
def test_server_logs_hold_no_secret(home, tmp_path, debug):
    log_path = tmp_path / f"server-{debug}.log"
    with api_server(_env(home, debug), log_path=log_path) as url:
        key = {"X-API-Key": SECRETS["API_KEYS"]}
        r = httpx.post(f"{url}/predict/pitstop", json={"lap_number": 10, "total_laps": 50, "compound": "SOFT",
                                                        "tyre_age_laps": 5}, headers=key, timeout=30)
        assert r.status_code == 500  # an unhandled error: logged with its traceback
        r = httpx.post(f"{url}/predict/laptime", json={"season": 2023, "event": "1", "driver": "AAA", "lap": 5,
                                                        "compound": "SOFT", "tyre_age_laps": 3},
                       headers=key, timeout=30)
        assert r.status_code >= 400
        assert httpx.get(f"{url}/admin/jobs/nope", headers=key, timeout=30).status_code == 404
        assert httpx.get(f"{url}/admin/jobs/nope", headers={"X-API-Key": "wrong-key-123"},
                         timeout=30).status_code == 403
        httpx.post(f"{url}/query", json={"question": "Why did Hamilton pit early?"}, timeout=60)
        httpx.get(f"{url}/health", timeout=30)
    text = log_path.read_text(errors="replace")
    assert "Traceback" in text or "AttributeError" in text  # the error really was logged
    assert _leaks(text) == []


@pytest.mark.parametrize("debug", [False, True])
def test_cli_output_holds_no_secret(home, debug):
    env = {**os.environ, **_env(home, debug)}
    env["PYTHONPATH"] = str(REPO / "src")
    out = subprocess.run([sys.executable, "-m", "f1analyzer.cli", "--home", str(home), "-v", "evaluate",
                          "--season", "2023"], env=env, capture_output=True, text=True, timeout=300,
                         cwd=str(REPO))
    text = out.stdout + out.stderr
    assert out.returncode != 0 and "error" in text.lower()
    assert _leaks(text) == []
