"""/races against a real uvicorn process serving a store filled by `ingest`."""

from __future__ import annotations

import httpx
import pytest

from f1analyzer.data import RaceStore
from f1analyzer.data.ingest import ingest_files
from tests.data.frames import N_LAPS, season_frame, write_csv
from tests.helpers import api_server

ROUNDS = {1: "Bahrain Grand Prix", 2: "Saudi Arabian Grand Prix", 3: "Hungarian Grand Prix"}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    home = tmp_path_factory.mktemp("api_home")
    src = write_csv(season_frame(ROUNDS), home.parent / "in_races_api" / "2021.csv.gz")
    # the Hungarian weekend (round 3) also had a sprint: 8 laps of the same cars
    sprint = season_frame({3: "Hungarian Grand Prix"})
    sprint = write_csv(sprint[sprint["LapNumber"].astype(float) <= 8], home.parent / "in_races_api" / "sprint" / "2021.csv")
    results = ingest_files([src, sprint], RaceStore(home / "store"))
    assert [r.session for r in results if r.ok] == ["race", "sprint"]
    with api_server({"F1A_HOME": str(home)}) as base:
        yield base


def test_races_after_ingest(base_url):
    r = httpx.get(f"{base_url}/races", timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 4 == len(body["data"])  # three Grands Prix and one sprint
    assert [(x["round"], x["session"]) for x in body["data"]] == [(1, "race"), (2, "race"), (3, "sprint"), (3, "race")]
    races_only = httpx.get(f"{base_url}/races", params={"session": "race"}, timeout=10).json()
    assert races_only["count"] == 3
    first = body["data"][0]
    assert first == {"season": 2021, "round": 1, "event": "Bahrain Grand Prix", "circuit_key": "bahrain",
                     "circuit": "Bahrain", "total_laps": N_LAPS, "compounds": [], "laps": 3 * N_LAPS,
                     "drivers": 3, "rejected": 0, "rejected_reasons": {}, "session": "race", "demo": False}
    assert body["rejections"] == []
    assert httpx.get(f"{base_url}/races", params={"season": 2020}, timeout=10).json() == {
        "data": [], "count": 0, "rejections": []}


def test_list_endpoints_answer_csv_when_asked(base_url):
    import csv
    import io

    r = httpx.get(f"{base_url}/races", headers={"Accept": "text/csv"}, timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["round"], x["session"]) for x in rows] == [("1", "race"), ("2", "race"), ("3", "sprint"), ("3", "race")]
    assert rows[2]["circuit"] == "Budapest" and rows[0]["demo"] == "false"
    # JSON stays the default, also for a browser's Accept that lists JSON first
    both = httpx.get(f"{base_url}/races", headers={"Accept": "application/json, text/csv"}, timeout=10)
    assert both.json()["count"] == 4
    circuits = httpx.get(f"{base_url}/circuits", headers={"Accept": "text/csv"}, timeout=30)
    assert circuits.status_code == 200 and circuits.headers["content-type"].startswith("text/csv")
    crows = list(csv.DictReader(io.StringIO(circuits.text)))
    assert {"key": "villeneuve", "fan_name": "Montréal"}.items() <= next(
        c for c in crows if c["key"] == "villeneuve").items()


def test_season_views(base_url):
    body = httpx.get(f"{base_url}/seasons/2021/strategies", timeout=10).json()
    assert [r["round"] for r in body["races"]] == [1, 2, 3]
    assert set(body["drivers"]) == {"AAA", "BBB", "CCC"}
    aaa = {e["round"]: e for e in body["drivers"]["AAA"]}
    assert [(s["start_lap"], s["compound"]) for s in aaa[3]["stints"]][0][0] == 1 and len(aaa[3]["stints"]) == 2
    deg = httpx.get(f"{base_url}/seasons/degradation/hungary", timeout=10).json()
    assert deg["circuit_key"] == "hungaroring" and "TyreLife" in deg["method"]
    assert httpx.get(f"{base_url}/seasons/2019/strategies", timeout=10).status_code == 409  # data not loaded
    assert httpx.get(f"{base_url}/seasons/degradation/nowhere-at-all", timeout=10).status_code == 404


def test_race_detail(base_url):
    r = httpx.get(f"{base_url}/races/2021/hungary", timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert (body["round"], body["circuit_key"]) == (3, "hungaroring")
    assert [x["driver"] for x in body["results"]] == ["AAA", "BBB", "CCC"]
    stops = {(s["driver"], s["lap"]): s for s in body["pit_stops"]}
    assert set(stops) == {("AAA", 4), ("CCC", 3)}  # BBB's drive-through is not a stop
    assert stops[("CCC", 3)]["under_red_flag"] and stops[("CCC", 3)]["duration_s"] is None
    assert body["track_status_by_lap"]["6"] == "4"
    laps = httpx.get(f"{base_url}/races/2021/3/laps", params={"driver": "aaa"}, timeout=10).json()
    assert list(laps["drivers"]) == ["AAA"] and len(laps["drivers"]["AAA"]) == N_LAPS
    sprint = httpx.get(f"{base_url}/races/2021/hungary", params={"session": "sprint"}, timeout=10).json()
    assert (sprint["session"], sprint["total_laps"], sprint["round"]) == ("sprint", 8, 3)
    sprint_laps = httpx.get(f"{base_url}/races/2021/3/laps", params={"session": "sprint", "driver": "AAA"}, timeout=10)
    assert len(sprint_laps.json()["drivers"]["AAA"]) == 8


def test_unknown_race_404_with_suggestions(base_url):
    r = httpx.get(f"{base_url}/races/2021/Hungarain Grand Prix", timeout=10)
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["code"] == "not_found"
    assert "Hungarian Grand Prix" in err["details"]["suggestions"]
    assert "Did you mean" in err["message"]


def test_season_not_stored_and_bad_season(base_url):
    r = httpx.get(f"{base_url}/races/2019/1", timeout=10)
    assert r.status_code == 409 and r.json()["error"]["code"] == "data_not_loaded"
    assert "Stored seasons: 2021" in r.json()["error"]["message"]
    r = httpx.get(f"{base_url}/races/1900/1", timeout=10)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
