"""/strategy/* through the app (TestClient) and a real uvicorn process, on a synthetic store."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from f1analyzer.api.main import create_app
from f1analyzer.config import settings_with_home
from tests.helpers import api_server
from tests.models.test_fit_race_models import TOTAL_LAPS
from tests.factories import model_set, services, strategy_env

DRY = {"SOFT", "MEDIUM", "HARD"}


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    home = tmp_path_factory.mktemp("strategy_api")
    store, models = strategy_env(home)
    return home, models


@pytest.fixture
def client(synth):
    home, models = synth
    settings = settings_with_home(home).model_copy(
        update={"rate_limit_strategy": "10000/minute", "rate_limit_default": "10000/minute"})
    svc = services(settings, model_set(models, version="synthetic-1"))
    app = create_app(settings, services=svc)
    with TestClient(app) as c:
        yield c


def _error(r, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()["error"]
    assert set(body) == {"code", "message", "details"}
    return body["message"]


def test_generate(client):
    r = client.post("/strategy/generate", json={"season": 2023, "event": "Monza", "driver": "D04", "grid": 4,
                                                "top_k": 3, "n_sims": 60})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["season"], body["round"], body["event"], body["driver"], body["grid"]) == (
        2023, 1, "Italian Grand Prix", "D04", 4)
    assert body["total_laps"] == TOTAL_LAPS and body["cached"] is False and body["latency_ms"] > 0
    # narration is wired in: the offline writer names the event; sources are retrieved passages
    assert isinstance(body["narrative"], str) and body["narrative"].strip()
    assert "Italian Grand Prix" in body["narrative"] or "Monza" in body["narrative"]
    assert body["provider"] == "offline" and isinstance(body["sources"], list)
    for s in body["strategies"]:
        assert len(set(s["compounds"]) & DRY) >= 2
        assert all(1 <= lap < TOTAL_LAPS for lap in s["pit_laps"])
        assert set(s) >= {"rank", "stops", "compounds", "pit_laps", "pit_windows", "expected_position",
                          "position_10th_percentile", "position_median", "position_90th_percentile",
                          "race_time_10th_percentile_s", "race_time_median_s", "race_time_90th_percentile_s",
                          "expected_position_if_classified", "p_win", "p_podium", "expected_points", "p_dnf",
                          "reasons", "p_gain_positions", "position_histogram", "robustness"}
    # what the top ten did at Monza before (2022 only: not the race itself) passes the response model
    assert [(h["season"], h["round"], h["event"], h["era"], h["wet"], h["stops"], h["n_cars"])
            for h in body["field_history"]] == [(2022, 1, "Italian Grand Prix", "2022+", False, 1, 10)]
    check = body["history_check"]
    assert (check["season"], check["field_stops"], check["plan_stops"]) == (2022, 1, body["strategies"][0]["stops"])
    assert check["first_stop_vs_window"] in ("inside", "before", "after")
    again = client.post("/strategy/generate", json={"season": 2023, "event": "monza ", "driver": "D04",
                                                    "grid": 4, "top_k": 3, "n_sims": 60}).json()
    assert again["cached"] is True and again["strategies"] == body["strategies"]
    metrics = client.get("/metrics").text
    assert any(line.startswith("f1a_simulations_total ") and float(line.split()[1]) > 0
               for line in metrics.splitlines())


def test_generate_schema_documents_the_field_history(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    props = schemas["GenerateResponse"]["properties"]
    assert "top ten" in props["field_history"]["description"]
    assert "same car era" in props["history_check"]["description"]
    check = schemas["HistoryCheck"]["properties"]
    assert {"field_stops", "plan_first_stop_window", "same_stop_count", "first_stop_vs_window"} <= set(check)
    assert "median_first_stop_lap" in schemas["FieldHistoryRace"]["properties"]


def test_generate_defaults_to_p1(client):
    body = client.post("/strategy/generate", json={"season": 2023, "event": "Bahrain", "n_sims": 30}).json()
    assert body["grid"] == 1 and body["strategies"][0]["rank"] == 1


@pytest.mark.parametrize("body, status, words", [
    ({"season": 2023, "event": "Atlantis"}, 404, ["Races of 2023", "Bahrain Grand Prix"]),
    ({"season": 2023, "event": "Monza", "driver": "XYZ"}, 404, ["Drivers in this race", "D00", "D19"]),
    ({"season": 2023, "event": "Monza", "driver": "D01", "grid": 0}, 422, ["grid"]),
    ({"season": 2023, "event": "Monza", "driver": "D01", "grid": 25}, 422, ["valid slots are 1..20"]),
    ({"season": 2031, "event": "Monza"}, 200, []),  # a future race: the latest field, pace order
])
def test_generate_bad_requests(client, body, status, words):
    r = client.post("/strategy/generate", json={**body, "n_sims": 20})
    if status == 200:
        assert r.status_code == 200, r.text
        return
    msg = _error(r, status)
    for w in words:
        assert w in msg


def test_simulate(client):
    r = client.post("/strategy/simulate", json={
        "season": 2023, "event": "Monza", "n_sims": 100, "seed": 1,
        "strategies": [{"driver": "D00", "start_compound": "MEDIUM", "stops": [{"lap": 20, "compound": "HARD"}]}]})
    assert r.status_code == 200, r.text
    rows = {d["driver"]: d for d in r.json()["drivers"]}
    assert rows["D00"]["given"] and rows["D00"]["strategy"] == "M-20-H" and len(rows) == 20
    assert set(rows["D00"]["race_time_quantiles_s"]) == {"p10", "p50", "p90"}
    one = client.post("/strategy/simulate", json={
        "season": 2023, "event": "Monza",
        "strategies": [{"driver": "D00", "start_compound": "MEDIUM", "stops": [{"lap": 20, "compound": "MEDIUM"}]}]})
    assert "SOFT, HARD" in _error(one, 422)
    late = client.post("/strategy/simulate", json={
        "season": 2023, "event": "Monza",
        "strategies": [{"driver": "D00", "start_compound": "MEDIUM", "stops": [{"lap": 55, "compound": "HARD"}]}]})
    assert "1..49" in _error(late, 422)


def test_live_and_undercut(client):
    r = client.post("/strategy/live", json={"season": 2023, "event": "Monza", "lap": 30, "driver": "D02",
                                            "track_status": "sc", "n_sims": 40})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["call"] in ("BOX_UNDER_SC", "STAY_OUT") and body["state_source"] == "stored"
    # a call the simulation cannot separate says so, and under a SC may follow the field's habit
    assert isinstance(body["too_close_to_call"], bool) and body["decided_by"] in ("simulation", "field_history")
    assert (body["close_call_note"] is not None) == body["too_close_to_call"]
    assert body["field_box_rate"] is None or 0 <= body["field_box_rate"] <= 1
    if body["decided_by"] == "field_history":
        assert body["too_close_to_call"] and (body["call"] == "BOX_UNDER_SC") == (body["field_box_rate"] >= 0.5)
    assert "1..49" in _error(client.post("/strategy/live", json={"season": 2023, "event": "Monza", "lap": 60,
                                                                  "driver": "D02"}), 422)
    u = client.post("/strategy/undercut", json={"season": 2023, "event": "Monza", "lap": 15, "driver": "D02",
                                                "rival": "D05", "gap_s": 1.0, "n_sims": 30})
    assert u.status_code == 200, u.text
    ub = u.json()
    assert len(ub["gain_per_lap_s"]) == 8 and ub["works"] == (ub["undercut_lap"] is not None)
    assert "D01" in _error(client.post("/strategy/undercut", json={
        "season": 2023, "event": "Monza", "lap": 15, "driver": "D02", "rival": "QQQ"}), 404)


def test_live_in_a_red_flag_prices_a_free_change(client):
    # 25-lap-old mediums in a suspension: the change costs nothing, so it is the call
    r = client.post("/strategy/live", json={"season": 2023, "event": "Monza", "lap": 30, "driver": "D02",
                                            "track_status": "red", "compound": "MEDIUM", "tyre_age_laps": 25,
                                            "n_sims": 40})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["track_status"] == "red" and body["call"] == "BOX_UNDER_RED"
    assert body["field_box_rate"] is None and body["decided_by"] == "simulation"
    msg = _error(client.post("/strategy/undercut", json={"season": 2023, "event": "Monza", "lap": 15, "driver": "D02",
                                                         "rival": "D05", "track_status": "red"}), 422)
    assert "track_status" in msg


def test_live_on_a_wet_track_says_no_call_is_priced(client):
    cars = [{"driver": f"D{k:02d}", "compound": "INTERMEDIATE", "tyre_age_laps": 12} for k in range(12)]
    r = client.post("/strategy/live", json={"season": 2023, "event": "Monza", "lap": 30, "driver": "D02",
                                            "track_status": "sc", "n_sims": 20, "cars": cars})
    msg = _error(r, 422)
    assert msg.startswith("Wet track: 12 of 20 running cars are on wet-weather tyres.") and "slicks" in msg


def test_replay_and_batch(client):
    first = client.post("/strategy/replay", json={"season": 2023, "event": "Hungary", "n_sims": 50})
    assert first.status_code == 200, first.text
    real = first.json()
    start = next(d["strategy"][0] for d in real["drivers"] if d["driver"] == "D03")
    other = "S" if start != "S" else "M"
    change = f"D03:plan={start}-25-{other}"
    r = client.post("/strategy/replay", json={"season": 2023, "event": "Hungary", "from_lap": 1, "n_sims": 100,
                                              "changes": [change]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["changes"] == [change] and len(body["drivers"]) == 20
    assert next(d for d in body["drivers"] if d["driver"] == "D03")["changed"]
    # dropping the only stop breaks the two-compound rule: 422 naming the compounds to add
    assert "Add a stint on one of" in _error(client.post("/strategy/replay", json={
        "season": 2023, "event": "Hungary", "changes": ["D03:nostop"]}), 422)
    assert sorted(body["simulated_order"]) == sorted(body["real_order"])
    assert "VER:pit=18:HARD" in _error(client.post("/strategy/replay", json={
        "season": 2023, "event": "Hungary", "changes": ["D03 boxes"]}), 422)
    # retirements: the race's real ones by default, sampled on request; anything else is a 422
    assert real["retirements"] == "real" and real["track_status"] == "real"
    sampled = client.post("/strategy/replay", json={"season": 2023, "event": "Hungary", "n_sims": 50,
                                                    "retirements": "sampled"})
    assert sampled.status_code == 200, sampled.text
    assert sampled.json()["retirements"] == "sampled"
    assert "sampled" in _error(client.post("/strategy/replay", json={
        "season": 2023, "event": "Hungary", "retirements": "none"}), 422)
    b = client.post("/strategy/batch", json={"requests": [
        {"season": 2023, "event": "Monza", "driver": "D01", "n_sims": 20},
        {"season": 2023, "event": "Monza", "driver": "D02", "grid": 3, "n_sims": 20}]})
    assert b.status_code == 200, b.text
    assert b.json()["count"] == 2 and b.json()["races_built"] == 1
    first, second = b.json()["results"]
    assert first["field_history"] == second["field_history"] and first["field_history"][0]["season"] == 2022
    assert _error(client.post("/strategy/batch", json={"requests": []}), 422)


def test_health_reports_the_strategy_engine(client):
    body = client.get("/health").json()
    assert body["components"]["strategy_generator"] is True


def test_real_server(synth):
    home, _ = synth
    env = {"F1A_HOME": str(home), "REDIS_URL": "", "F1A_RATE_LIMIT_STRATEGY": "1000/minute"}
    with api_server(env) as base:  # bundled race models (the home has no registry)
        r = httpx.post(f"{base}/strategy/generate", json={"season": 2023, "event": "Bahrain", "driver": "D07",
                                                          "n_sims": 40}, timeout=180)
        assert r.status_code == 200, r.text
        for s in r.json()["strategies"]:
            assert len(set(s["compounds"]) & DRY) >= 2 and all(1 <= lap < TOTAL_LAPS for lap in s["pit_laps"])
        bad = httpx.post(f"{base}/strategy/generate", json={"season": 2023, "event": "Bahrain", "driver": "XYZ"},
                         timeout=120)
        assert bad.status_code == 404 and "D07" in bad.json()["error"]["message"]
        assert httpx.get(f"{base}/health", timeout=120).json()["components"]["strategy_generator"] is True
