"""OpenF1 client against a local stand-in serving a stored race in OpenF1's shape, with faults."""

from __future__ import annotations

import httpx
import pytest

from f1analyzer.data.feeds.openf1 import OpenF1Feed, race_control_status
from f1analyzer.data.feeds.replay import ReplayFeed
from f1analyzer.errors import BackendUnavailableError
from tests.data.openf1_server import OpenF1Server, openf1_server, recorded_race
from tests.factories import fill_store, strategy_laps


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from f1analyzer.data.store import RaceStore

    store = RaceStore(tmp_path_factory.mktemp("openf1") / "store")
    fill_store(store, strategy_laps())
    replay = {s.lap: s for s in ReplayFeed(store, 2023, 1, speed=0).snapshots()}
    return recorded_race(store, 2023, 1), replay


class FakeClock:
    def __init__(self):
        self.slept: list[float] = []

    def sleep(self, s: float) -> None:
        self.slept.append(s)


def _follow(records, clock=None, **server_kw):
    state = OpenF1Server(records, **server_kw)
    clock = clock or FakeClock()
    with openf1_server(state) as base, httpx.Client(timeout=5) as client:
        feed = OpenF1Feed(base, session_key=9999, poll_s=4, client=client, clock=clock, max_polls=80)
        snaps = list(feed.snapshots())
    return snaps, feed, state, clock


def _same_race(snaps, replay, first_lap: int = 1):
    by_lap = {}
    for s in snaps:
        by_lap[s.lap] = s  # the last snapshot of each lap
    assert sorted(by_lap) == list(range(first_lap, 51))
    for lap, s in by_lap.items():
        r = replay[lap]
        assert [c.driver for c in s.cars] == [c.driver for c in r.cars], lap
        for a, b in zip(s.cars, r.cars):
            assert (a.compound, a.tyre_life, a.stops, a.stint, a.in_pit, a.retired) == \
                   (b.compound, b.tyre_life, b.stops, b.stint, b.in_pit, b.retired), (lap, a, b)
            assert set(a.compounds_used) == set(b.compounds_used)
            assert a.gap_to_leader_s == pytest.approx(b.gap_to_leader_s, abs=1e-3)
        assert s.track_status == r.track_status, lap
    return by_lap


def test_clean_feed_matches_the_replay_lap_by_lap(env):
    records, replay = env
    snaps, feed, _, _ = _follow(records)
    by_lap = _same_race(snaps, replay)
    assert snaps[-1].lap == 50 and feed.chequered()
    assert by_lap[10].season == 2023 and by_lap[10].event == "Italian Grand Prix"
    assert by_lap[10].weather["track_temperature"] == pytest.approx(41.0)
    assert [s.seq for s in snaps] == list(range(1, len(snaps) + 1))
    assert feed.retries == 0


def test_duplicates_shuffled_and_late_records_change_nothing(env):
    records, replay = env
    snaps, _, _, _ = _follow(records, duplicate=True, shuffle=True)
    _same_race(snaps, replay)
    # pit and stint records one lap late: the in-lap is seen late, every later lap is right
    snaps, _, _, _ = _follow(records, late=True)
    last = {s.lap: s for s in snaps}
    for lap in range(3, 51):
        if not any(c.in_pit for c in replay[lap].cars) and not any(c.in_pit for c in replay[lap - 1].cars):
            assert [(c.driver, c.compound, c.stops) for c in last[lap].cars] == \
                   [(c.driver, c.compound, c.stops) for c in replay[lap].cars], lap


def test_429_and_5xx_are_retried_honouring_retry_after(env):
    records, replay = env
    clock = FakeClock()
    snaps, feed, _, clock = _follow(records, clock=clock, retry_after="7",
                                        faults={"intervals": [429, 500, 503], "laps": [502], "position": [429]})
    _same_race(snaps, replay)
    assert feed.retries == 5 and not feed.failed_polls
    assert 7.0 in clock.slept  # Retry-After honoured
    assert 0.5 in clock.slept and 1.0 in clock.slept  # exponential backoff without it


def test_an_endpoint_down_for_a_whole_poll_is_skipped_then_caught_up(env):
    records, replay = env
    snaps, feed, _, _ = _follow(records, faults={"position": [500] * 5})
    assert feed.failed_polls == {"position": 1}
    assert snaps[0].lap == 1  # lap 1 is still reported, from what the other endpoints gave
    _same_race(snaps[1:], replay, first_lap=2)  # the next poll has the positions again


def test_client_error_is_not_retried(env):
    records, _ = env
    with openf1_server(OpenF1Server(records, faults={"sessions": [401]})) as base, httpx.Client() as client:
        feed = OpenF1Feed(base, session_key=9999, client=client, clock=FakeClock(), max_polls=1)
        with pytest.raises(BackendUnavailableError, match="HTTP 401"):
            list(feed.snapshots())


def test_race_control_messages_give_the_track_status():
    def m(msg, flag=None, cat="SafetyCar"):
        return {"message": msg, "flag": flag, "category": cat, "scope": "Track"}

    assert race_control_status([m("SAFETY CAR DEPLOYED")]) == "SC"
    assert race_control_status([m("SAFETY CAR DEPLOYED"), m("SAFETY CAR IN THIS LAP")]) == "GREEN"
    assert race_control_status([m("VIRTUAL SAFETY CAR DEPLOYED")]) == "VSC"
    assert race_control_status([m("VIRTUAL SAFETY CAR DEPLOYED"), m("VIRTUAL SAFETY CAR ENDING")]) == "GREEN"
    assert race_control_status([m("RED FLAG", "RED", "Flag")]) == "RED"
    assert race_control_status([m("RED FLAG", "RED", "Flag"), m("TRACK CLEAR", "GREEN", "Flag")]) == "GREEN"
    assert race_control_status([m("YELLOW IN TRACK SECTOR 6", "YELLOW", "Flag")]) == "GREEN"
