"""POST /predict/laptime and /predict/pitstop through the real app (synthetic store + trained set)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from f1analyzer.config import get_settings
from f1analyzer.data.store import RaceStore
from f1analyzer.models import training
from tests.models.test_train_synthdata import fill_store, synthetic_laps


@pytest.fixture(autouse=True)
def _no_data_dir(monkeypatch):
    """Synthetic tests must not ingest the real data when F1_DATA_DIR happens to be set."""
    from f1analyzer.config import reset_settings

    for var in ("F1_DATA_DIR", "F1A_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    reset_settings()


@pytest.fixture(autouse=True)
def _no_background_index(monkeypatch):
    """The app builds a missing knowledge index in a background thread; these tests need none."""
    import f1analyzer.api.main as api_main

    monkeypatch.setattr(api_main, "ensure_index_async", lambda state, **kw: None, raising=False)


@pytest.fixture
def client(f1a_home, monkeypatch, _no_background_index):
    fill_store(RaceStore(get_settings().store_dir), synthetic_laps(seasons=(2022, 2023)))
    monkeypatch.setattr(training, "fit_race_models", lambda *a: (None, "skipped in this test"))
    rep = training.train(get_settings(), 2022, 2023, quick=True)
    from f1analyzer.api.main import create_app

    with TestClient(create_app()) as c:
        c.version = rep.version
        yield c


def test_laptime_from_the_stored_race(client):
    r = client.post("/predict/laptime", json={"season": 2023, "event": "Monza", "driver": "aaa", "lap": 12,
                                              "compound": "MEDIUM", "tyre_age_laps": 11})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["driver"] == "AAA" and body["event"] == "Italian Grand Prix"
    assert body["model_version"] == client.version and body["model_source"] == "registry"
    assert abs(body["predicted_lap_time_s"] - body["persistence_s"]) < 3
    assert body["actual_lap_time_s"] is not None and body["recent_lap_times_s"]


def test_laptime_from_given_laps_for_an_unstored_race(client):
    body = {"season": 2031, "event": "Monza", "driver": "LEC", "lap": 20, "compound": "HARD", "tyre_age_laps": 9,
            "recent_lap_times_s": [90.2, 90.1, 90.3], "total_laps": 53}
    r = client.post("/predict/laptime", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["actual_lap_time_s"] is None
    del body["total_laps"]
    assert client.post("/predict/laptime", json=body).status_code == 422
    del body["recent_lap_times_s"]
    assert client.post("/predict/laptime", json=body).status_code == 404


def test_laptime_errors(client):
    base = {"season": 2023, "event": "Monza", "driver": "AAA", "lap": 12, "compound": "MEDIUM", "tyre_age_laps": 3}
    r = client.post("/predict/laptime", json={**base, "event": "Mnza"})
    assert r.status_code == 404 and "Monza" in r.json()["error"]["message"]
    assert client.post("/predict/laptime", json={**base, "driver": "ZZZ"}).status_code == 404
    assert client.post("/predict/laptime", json={**base, "compound": "SLICK"}).status_code == 422
    assert client.post("/predict/laptime", json={**base, "lap": 1}).status_code == 422


def test_no_models_is_503(f1a_home, monkeypatch):
    from f1analyzer.api.main import create_app
    from f1analyzer.models import loading

    monkeypatch.setattr(loading, "BUNDLED_LEARNED", f1a_home / "nothing.joblib")
    with TestClient(create_app()) as c:
        r = c.post("/predict/pitstop", json={"lap_number": 10, "total_laps": 50, "compound": "SOFT",
                                             "tyre_age_laps": 10})
        assert r.status_code == 503 and "f1analyzer train" in r.json()["error"]["message"]


def test_predictions_run_under_the_request_deadline(f1a_home, monkeypatch):
    """/predict/* read stored races on the slow-work pool, under the per-request deadline (504):
    a prediction that takes longer than the deadline answers 504 in the error shape."""
    import time

    from f1analyzer.api.main import create_app
    from f1analyzer.api.routes import predict
    from f1analyzer.config import reset_settings

    monkeypatch.setenv("F1A_REQUEST_DEADLINE_S", "0.2")
    reset_settings()
    slow = lambda *a: time.sleep(1.0)  # noqa: E731 - a stored race that takes a second to read
    monkeypatch.setattr(predict, "_laptime", slow)
    monkeypatch.setattr(predict, "_pitstop", slow)
    with TestClient(create_app()) as c:
        r = c.post("/predict/laptime", json={"season": 2023, "event": "Monza", "driver": "AAA", "lap": 12,
                                             "compound": "MEDIUM", "tyre_age_laps": 11})
        assert r.status_code == 504, r.text
        assert r.json()["error"]["code"] == "deadline_exceeded"
        r = c.post("/predict/pitstop", json={"lap_number": 20, "total_laps": 53, "compound": "HARD",
                                             "tyre_age_laps": 9})
        assert r.status_code == 504, r.text
