"""A real uvicorn process on a home whose newest model versions are bad (issue 13, items 1 and 3).

The newest registered version has a truncated artifact (it used to stop start-up with
``EOFError``) and a planted far-future version carries a pickle that runs code: the API starts,
serves the previous good version, never unpickles the planted file, and ``/health`` says why.
"""

from __future__ import annotations

import httpx

from f1analyzer.config import Settings
from f1analyzer.models.bundled import load_bundled_models
from f1analyzer.models.registry import get_registry
from tests.helpers import api_server, service_env
from tests.models.test_registry_trust import FUTURE, _plant


def test_api_starts_on_the_previous_good_version_and_reports_the_refusals(tmp_path):
    home = tmp_path / "home"
    reg = get_registry(Settings(home=home))
    race_models = load_bundled_models()
    good = reg.register({"race_models": race_models}, {"training_seasons": [2023]})
    bad = reg.register({"race_models": race_models}, {"training_seasons": [2024]})
    art = reg.get(bad).path / "race_models.joblib"
    art.write_bytes(art.read_bytes()[: art.stat().st_size // 3])  # a copy cut short
    marker = tmp_path / "pwned"
    _plant(reg, FUTURE, marker)

    log_path = tmp_path / "server.log"
    with api_server(service_env(home, F1A_INDEX_ON_START="false"), log_path=log_path) as url:
        body = httpx.get(f"{url}/health", timeout=30).json()
    assert not marker.exists()  # the planted pickle never ran
    assert body["status"] == "degraded" and body["components"]["ml_models"] is True
    reasons = " | ".join(body["reasons"])
    assert f"model version {FUTURE} refused" in reasons and f"model version {bad} refused" in reasons
    assert f"previous good version {good}" in reasons
    assert "Application startup failed" not in log_path.read_text()
