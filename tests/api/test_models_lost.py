"""A real uvicorn process (issue 13, item 10): temporary files of interrupted writes are removed
at start, and a model folder deleted under the running server is noticed — ``/health`` falls
back to the bundled set and says why."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import httpx

from f1analyzer.config import Settings
from f1analyzer.models.bundled import load_bundled_models
from f1analyzer.models.registry import get_registry
from tests.helpers import api_server, service_env, wait_until


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_leftovers_are_cleaned_at_start_and_lost_models_fall_back_to_the_bundle(tmp_path):
    home = tmp_path / "home"
    settings = Settings(home=home)
    version = get_registry(settings).register({"race_models": load_bundled_models()},
                                              {"training_seasons": [2023]})
    leftovers = [settings.store_dir / "seasons" / f".2023.parquet.{_dead_pid()}.tmp",
                 settings.models_dir / "versions" / f".{version[:-6]}ffffff.tmp"]
    for p in leftovers:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"half a file")
        os.utime(p, (time.time() - 600, time.time() - 600))

    with api_server(service_env(home, F1A_INDEX_ON_START="false")) as url:
        assert not any(p.exists() for p in leftovers)
        health = httpx.get(f"{url}/health", timeout=30).json()
        assert health["components"]["ml_models"] is True
        assert not any("lost" in r for r in health["reasons"]), health

        shutil.rmtree(settings.models_dir)  # an operator's mistake under the running server

        def lost_reported():
            body = httpx.get(f"{url}/health", timeout=30).json()
            return body if any("was lost" in r for r in body["reasons"]) else None

        body = wait_until(lost_reported, timeout_s=60, interval_s=0.5)
    assert body is not None, "the lost model version was never reported"
    reasons = " | ".join(body["reasons"])
    assert body["status"] == "degraded" and body["components"]["ml_models"] is True
    assert f"model version {version} was lost" in reasons and "serving the bundled models" in reasons
