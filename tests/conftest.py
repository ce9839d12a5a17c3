"""Shared fixtures. Every test gets its own F1A_HOME so nothing touches ~/.f1analyzer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from f1analyzer.config import reset_settings

# most tests build their own races and count on an empty store: the bundled demo races (issue 15)
# are loaded only where a test asks for them (F1A_DEMO_ON_EMPTY=true: tests/data/test_demo.py,
# tests/cli/test_tables.py, tests/web/test_fan_charts.py). Set for the whole session, so that
# module-scoped servers started before any function fixture see it too.
os.environ["F1A_DEMO_ON_EMPTY"] = "false"


def pytest_addoption(parser):
    parser.addoption("--online", action="store_true", help="run tests that need the internet")


def pytest_collection_modifyitems(config, items):
    data_dir = os.environ.get("F1_DATA_DIR")
    have_data = bool(data_dir) and (Path(data_dir) / "laps").is_dir()
    skip_data = pytest.mark.skip(reason="real data: set F1_DATA_DIR to the shared lap data")
    skip_online = pytest.mark.skip(reason="needs --online")
    for item in items:
        if "realdata" in item.keywords and not have_data:
            item.add_marker(skip_data)
        if "online" in item.keywords and not config.getoption("--online"):
            item.add_marker(skip_online)


@pytest.fixture(autouse=True)
def f1a_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "f1a_home"
    monkeypatch.setenv("F1A_HOME", str(home))
    # tests never reach a real LLM or vector service unless they point the SDK at a local server
    for var in ("ANTHROPIC_API_KEY", "PINECONE_API_KEY", "REDIS_URL", "API_KEYS", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("F1A_DEMO_ON_EMPTY", "false")  # a test that turned the demo on does not leak it
    reset_settings()
    yield home
    reset_settings()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = os.environ.get("F1_DATA_DIR")
    if not d:
        pytest.skip("F1_DATA_DIR not set")
    return Path(d).resolve()
