"""/live/*: race-day sessions through the app (TestClient) and real uvicorn processes (SSE,
reconnect with Last-Event-ID, idle stop, Redis between workers), on the synthetic store."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from f1analyzer.api.main import create_app
from f1analyzer.config import settings_with_home
from tests.factories import model_set, services, strategy_env
from tests.helpers import api_server, redis_server, service_env, wait_until
from tests.models.test_fit_race_models import TOTAL_LAPS


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    home = tmp_path_factory.mktemp("live_api")
    _, models = strategy_env(home)
    return home, models


@pytest.fixture
def client(synth):
    home, models = synth
    settings = settings_with_home(home).model_copy(update={"live_n_sims": 20, "live_max_advised": 2,
                                                           "live_max_sessions": 2, "index_on_start": False})
    app = create_app(settings, services=services(settings, model_set(models, version="synthetic-1")))
    with TestClient(app) as c:
        yield c  # the app's shutdown closes its live sessions


def parse_sse(lines) -> list[dict]:
    """Events of an SSE stream (stops after the ``end`` event)."""
    out, cur = [], {}
    for line in lines:
        if line == "":
            if "data" in cur:
                out.append({"id": int(cur["id"]), "event": cur["event"], "data": json.loads(cur["data"])})
                if cur["event"] == "end":
                    return out
            cur = {}
        elif not line.startswith(":"):
            k, _, v = line.partition(": ")
            cur[k] = v
    return out


def _finished(client, sid):
    return wait_until(lambda: client.get("/live/sessions").json()["sessions"][0]["state"] != "running"
                      and client.get("/live/sessions").json(), timeout_s=120)


def test_follow_a_replay_end_to_end(client):
    avail = client.get("/live/sessions").json()
    assert {f["name"] for f in avail["feeds"]} == {"replay", "openf1"}
    assert {(r["season"], r["event"]) for r in avail["races"]} >= {(2023, "Italian Grand Prix")}
    # from lap 25: through the Safety Car of laps 30-33 to the flag
    r = client.post("/live/sessions", json={"season": 2023, "event": "Monza", "speed": 0, "from_lap": 25})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["state"] == "running" and r.json()["total_laps"] == TOTAL_LAPS
    sessions = _finished(client, sid)["sessions"]
    assert [s["state"] for s in sessions] == ["finished"]
    latest = client.get(f"/live/{sid}").json()["latest"]
    assert latest["data"]["snapshot"]["lap"] == TOTAL_LAPS
    with client.stream("GET", f"/live/{sid}/stream") as s:
        assert s.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(s.iter_lines())
    laps = [e for e in events if e["event"] != "end"]
    assert [e["data"]["snapshot"]["lap"] for e in laps] == list(range(25, TOTAL_LAPS + 1))
    assert [e["id"] for e in events] == list(range(25, TOTAL_LAPS + 2))
    # one event per lap; the ones where the status changed say so (SC out on 29, in after 32)
    changes = [(e["data"]["snapshot"]["lap"], e["data"]["snapshot"]["track_status"]) for e in laps
               if e["event"] == "track_status"]
    assert changes == [(29, "SC"), (33, "GREEN")]
    lap12 = laps[0]["data"]["update"]
    assert len(lap12["calls"]) == 20 and len(lap12["advised"]) <= 2
    assert {"call", "rejoin", "threats", "margin_places"} <= set(lap12["calls"][0])
    assert events[-1]["data"]["state"] == "finished"
    assert isinstance(events[-1]["data"]["calls_summary"], list)
    # reconnecting with Last-Event-ID replays from the next event on
    with client.stream("GET", f"/live/{sid}/stream", headers={"Last-Event-ID": "30"}) as s:
        again = parse_sse(s.iter_lines())
    assert [e["id"] for e in again] == list(range(31, TOTAL_LAPS + 2))
    assert again[0] == events[30 - 24]
    # a client that already has the end of a finished session is told not to reconnect
    r = client.get(f"/live/{sid}/stream", headers={"Last-Event-ID": str(TOTAL_LAPS + 1)})
    assert r.status_code == 204


def test_errors_say_what_to_fix(client):
    r = client.post("/live/sessions", json={"season": 2023, "event": "Atlantis"})
    assert r.status_code == 404 and "Italian Grand Prix" in r.json()["error"]["message"]
    r = client.post("/live/sessions", json={"season": 2023, "event": "Monza", "feed": "telepathy"})
    assert r.status_code == 422
    r = client.post("/live/sessions", json={"season": 2023, "event": "Monza", "from_lap": 60, "speed": 0})
    assert r.status_code == 422 and "laps 1..50" in r.json()["error"]["message"]
    assert client.get("/live/nope").status_code == 404
    assert client.get("/live/nope/stream").status_code == 404
    # bounded: the third running session is refused while two run
    ids = [client.post("/live/sessions", json={"season": 2023, "event": e, "speed": 0.001}).json()["id"]
           for e in ("Monza", "Bahrain")]
    r = client.post("/live/sessions", json={"season": 2023, "event": "Hungary", "speed": 0.001})
    assert r.status_code == 503 and "live_max_sessions" in r.json()["error"]["message"]
    for sid in ids:
        assert client.delete(f"/live/{sid}").status_code == 200
    live = client.app.state.f1a.live
    assert wait_until(lambda: not live.running(), timeout_s=30)
    assert {s["state"] for s in client.get("/live/sessions").json()["sessions"]} == {"stopped"}


def _read_events(base: str, sid: str, n: int, last_id: int | None = None) -> list[dict]:
    """The first ``n`` events of the stream (after ``last_id``), then disconnect."""
    headers = {"Last-Event-ID": str(last_id)} if last_id is not None else {}
    out, cur = [], {}
    with httpx.stream("GET", f"{base}/live/{sid}/stream", headers=headers, timeout=60) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line == "" and "data" in cur:
                out.append({"id": int(cur["id"]), "event": cur["event"]})
                cur = {}
                if len(out) >= n or out[-1]["event"] == "end":
                    break
            elif line and not line.startswith(":"):
                k, _, v = line.partition(": ")
                cur[k] = v
    return out


def test_real_server_reconnect_loses_nothing_and_idle_sessions_stop(synth):
    home, _ = synth
    env = service_env(home, F1A_INDEX_ON_START="false", F1A_LIVE_IDLE_S=3, F1A_LIVE_N_SIMS=20, F1A_LIVE_MAX_ADVISED=1)
    with api_server(env) as base:
        # ~0.2 s a lap: the race runs while the client comes and goes
        sid = httpx.post(f"{base}/live/sessions", json={"season": 2023, "event": "Monza", "speed": 400,
                                                        "from_lap": 34}, timeout=180).json()["id"]
        first = _read_events(base, sid, 3)
        time.sleep(1.0)  # disconnected while laps go on
        rest = _read_events(base, sid, 1000, last_id=first[-1]["id"])
        ids = [e["id"] for e in first + rest]
        assert ids == list(range(34, TOTAL_LAPS + 2)) and rest[-1]["event"] == "end"

        # a follower that goes away: the session stops by itself, nothing keeps running
        sid = httpx.post(f"{base}/live/sessions", json={"season": 2023, "event": "Monza", "speed": 1},
                         timeout=180).json()["id"]
        assert len(_read_events(base, sid, 1)) == 1

        def state():
            return {s["id"]: s["state"] for s in httpx.get(f"{base}/live/sessions", timeout=30).json()["sessions"]}[sid]

        assert wait_until(lambda: state() == "stopped", timeout_s=30)


def test_redis_carries_sessions_between_workers(synth):
    home, _ = synth
    with redis_server() as (url, _):
        env = service_env(home, F1A_INDEX_ON_START="false", REDIS_URL=url, F1A_LIVE_N_SIMS=20, F1A_LIVE_MAX_ADVISED=1)
        with api_server(env, workers=2) as base:
            sid = httpx.post(f"{base}/live/sessions", json={"season": 2023, "event": "Bahrain", "speed": 0,
                                                                           "from_lap": 42},
                             timeout=180).json()["id"]
            # new connections land on either worker: every one serves the whole stream
            for _ in range(4):
                with httpx.Client(timeout=60) as c:  # a fresh connection each time
                    events = []
                    with c.stream("GET", f"{base}/live/{sid}/stream") as r:
                        events = parse_sse(r.iter_lines())
                    assert [e["id"] for e in events] == list(range(42, TOTAL_LAPS + 2))
