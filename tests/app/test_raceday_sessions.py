"""Live sessions in-process: an OpenF1 session followed through the local stand-in, idle stop,
stop on request (the synthetic store, the pre-race build)."""

from __future__ import annotations

import pytest

from f1analyzer.app.raceday_sessions import LiveSessions, MemoryEventLog
from f1analyzer.config import settings_with_home
from tests.data.openf1_server import OpenF1Server, openf1_server, recorded_race
from tests.factories import strategy_env
from tests.helpers import wait_until


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    home = tmp_path_factory.mktemp("sessions")
    store, models = strategy_env(home)
    return home, store, models


def _sessions(env, **settings):
    home, store, models = env
    s = settings_with_home(home).model_copy(update={"live_n_sims": 20, "live_max_advised": 1, **settings})
    return LiveSessions(s, store, lambda: models, event_log=MemoryEventLog())


def test_openf1_session_through_the_stand_in_with_faults(env):
    _, store, _ = env
    state = OpenF1Server(recorded_race(store, 2023, 1), faults={"intervals": [429, 500]}, duplicate=True,
                          start_lap=40)  # joined late: the race is at lap 40
    with openf1_server(state) as base:
        live = _sessions(env, openf1_base_url=base, live_poll_s=0.01)
        meta = live.start(feed="openf1", season=2023, event="Monza", session_key="9999")
        assert wait_until(lambda: not live.running(), timeout_s=120)
    events = live.events_after(meta["id"], 0)
    laps = [e for e in events if e["event"] != "end"]
    assert [e["data"]["snapshot"]["lap"] for e in laps] == list(range(40, 51))
    assert all(e["data"]["snapshot"]["source"] == "openf1" for e in laps)
    assert len(laps[0]["data"]["update"]["calls"]) == 20
    assert events[-1]["event"] == "end" and events[-1]["data"]["state"] == "finished"
    assert live.meta(meta["id"])["state"] == "finished"


def test_a_session_nobody_follows_stops_and_stop_on_request(env):
    live = _sessions(env, live_idle_s=0.5)
    idle = live.start(season=2023, event="Bahrain", speed=0.001)  # one lap a day: it would run for weeks
    assert wait_until(lambda: live.meta(idle["id"])["state"] == "stopped", timeout_s=30)
    assert idle["id"] not in live.running()
    assert live.events_after(idle["id"], 0)[-1]["data"]["state"] == "stopped"

    live = _sessions(env, live_idle_s=600)
    sid = live.start(season=2023, event="Hungary", speed=0.001)["id"]
    assert wait_until(lambda: live.meta(sid)["lap"] == 1, timeout_s=30)
    live.stop(sid)
    assert wait_until(lambda: not live.running(), timeout_s=30)
    assert live.meta(sid)["state"] == "stopped"
