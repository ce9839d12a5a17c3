"""POST /predict/pitstop."""

from __future__ import annotations

from tests.models.test_laptime_api import _no_background_index, _no_data_dir, client  # noqa: F401  (fixtures)


def test_pitstop_probability(client):  # noqa: F811
    r = client.post("/predict/pitstop", json={"season": 2023, "event": "Monza", "lap_number": 14,
                                              "compound": "SOFT", "tyre_age_laps": 13, "position": 4,
                                              "gap_ahead_s": 1.1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert 0 <= body["probability"] <= 1 and body["horizon_laps"] == 3
    assert body["circuit_key"] == "monza" and body["total_laps"] == 40
    assert body["model_source"] == "registry" and 0 < body["base_rate"] < 1


def test_pitstop_validation(client):  # noqa: F811
    ok = {"lap_number": 10, "total_laps": 50, "compound": "SOFT", "tyre_age_laps": 10}
    assert client.post("/predict/pitstop", json=ok).status_code == 200
    assert client.post("/predict/pitstop", json={**ok, "total_laps": None}).status_code == 422
    assert client.post("/predict/pitstop", json={**ok, "lap_number": 50}).status_code == 422
    assert client.post("/predict/pitstop", json={**ok, "tyre_age_laps": -1}).status_code == 422
