"""`GET /circuits` and `GET /circuits/{key}` with the bundled model set."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from f1analyzer.api.main import create_app


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def test_list_circuits(client):
    r = client.get("/circuits")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == len(body["data"]) >= 20
    keys = {c["key"] for c in body["data"]}
    assert {"monza", "monaco", "silverstone", "bahrain"} <= keys
    for c in body["data"]:
        assert 0 <= c["sc_probability"] <= 1 and 0 <= c["vsc_probability"] <= 1
        assert c["pit_loss_s"] > 0 and c["n_races"] >= 1


def test_circuit_detail_with_curves(client):
    r = client.get("/circuits/monaco")
    assert r.status_code == 200
    d = r.json()
    assert d["key"] == "monaco" and d["era"] in d["eras"]
    assert set(d["degradation_curves"]) == set(d["compounds"])
    for points in d["degradation_curves"].values():
        assert [p["tyre_age_laps"] for p in points] == list(range(1, 41))
    assert abs(sum(d["sc"]["count_probs"]) - 1) < 1e-4
    assert len(d["positions_gained_by_grid"]) == 20
    held = d["held_gap_s"]  # the simulator's held-up gap for the circuit's era
    assert len(held) == 10 and held == sorted(held) and 0.1 < held[0] < held[-1] < 3.0
    # names resolve as well as keys
    assert client.get("/circuits/Monaco Grand Prix").json()["key"] == "monaco"


def test_unknown_circuit_is_404_with_suggestions(client):
    r = client.get("/circuits/silverstown")
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["code"] == "not_found"
    assert "silverstone" in err["details"]["suggestions"]
