"""Replay as live: a stored race emitted lap by lap (synthetic store; a real race with realdata)."""

from __future__ import annotations

import threading

import pytest

from f1analyzer.data.feeds import RaceFeed, RaceSnapshot
from f1analyzer.data.feeds.replay import ReplayFeed
from f1analyzer.errors import InvalidRequestError
from tests.factories import fill_store, strategy_laps
from tests.models.test_fit_race_models import TOTAL_LAPS


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from f1analyzer.data.store import RaceStore

    s = RaceStore(tmp_path_factory.mktemp("feeds") / "store")
    fill_store(s, strategy_laps())
    return s


class FakeClock:
    def __init__(self):
        self.slept: list[float] = []

    def sleep(self, s: float) -> None:
        self.slept.append(s)


def test_one_snapshot_per_lap_consistent_with_the_laps(store):
    feed = ReplayFeed(store, 2023, "Monza", speed=0)
    assert isinstance(feed, RaceFeed)
    snaps = list(feed.snapshots())
    assert [s.lap for s in snaps] == list(range(1, TOTAL_LAPS + 1))
    assert [s.seq for s in snaps] == sorted({s.seq for s in snaps})
    laps = store.laps(2023, 1)
    for snap in snaps:
        assert [c.position for c in snap.cars] == list(range(1, 21))
        at = laps[laps["lap_number"] == snap.lap].sort_values("session_time_s")
        assert [c.driver for c in snap.cars] == at["driver"].tolist()
        gaps = [c.gap_to_leader_s for c in snap.cars]
        assert gaps[0] == 0.0 and gaps == sorted(gaps)
        assert snap.cars[0].interval_s is None
        for a, b in zip(snap.cars, snap.cars[1:]):
            assert b.interval_s == pytest.approx(b.gap_to_leader_s - a.gap_to_leader_s, abs=2e-3)
    # the synthetic Monza has a Safety Car on laps 30-33: the status at the end of lap N is lap N+1's
    status = {s.lap: s.track_status for s in snaps}
    assert [lap for lap, st in status.items() if st == "SC"] == [29, 30, 31, 32]
    assert RaceSnapshot.from_dict(snaps[10].to_dict()) == snaps[10]


def test_in_lap_shows_the_new_set_and_the_stop(store):
    snaps = {s.lap: s for s in ReplayFeed(store, 2023, "Monza", speed=0).snapshots()}
    stints = store.stints(2023, 1)
    first = stints[stints["stint"] == 1].iloc[0]
    second = stints[(stints["driver"] == first["driver"]) & (stints["stint"] == 2)].iloc[0]
    in_lap = int(first["end_lap"])
    before, at, after = (snaps[in_lap - 1].car(first["driver"]), snaps[in_lap].car(first["driver"]),
                         snaps[in_lap + 1].car(first["driver"]))
    assert (before.in_pit, before.stops, before.compound) == (False, 0, first["compound"])
    assert before.tyre_life == in_lap - 1 + int(first["tyre_life_start"]) - 1
    assert (at.in_pit, at.stops, at.stint, at.compound, at.tyre_life) == (True, 1, 2, second["compound"], 0)
    assert (after.in_pit, after.tyre_life) == (False, 1)
    assert set(at.compounds_used) == {first["compound"], second["compound"]}


def test_from_lap_and_pacing(store):
    clock = FakeClock()
    feed = ReplayFeed(store, 2023, 1, speed=60, from_lap=45, clock=clock)
    snaps = list(feed.snapshots())
    assert [s.lap for s in snaps] == list(range(45, TOTAL_LAPS + 1))
    laps = store.laps(2023, 1)
    lead = laps.groupby("lap_number")["session_time_s"].min().diff()
    assert clock.slept == pytest.approx([lead[lap] / 60 for lap in range(46, TOTAL_LAPS + 1)])
    with pytest.raises(InvalidRequestError, match="laps 1..50"):
        ReplayFeed(store, 2023, 1, from_lap=51)


def test_close_stops_a_paced_feed_from_another_thread(store):
    feed = ReplayFeed(store, 2023, 1, speed=0.001)  # a lap would take a day
    got = []
    t = threading.Thread(target=lambda: got.extend(feed.snapshots()))
    t.start()
    t.join(0.5)
    feed.close()
    t.join(5)
    assert not t.is_alive() and [s.lap for s in got] == [1]


@pytest.mark.realdata
def test_real_race_retirements_and_lapped_cars(tmp_path, data_dir):
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.store import RaceStore

    store = RaceStore(tmp_path / "store")
    [res] = ingest_files([data_dir / "laps" / "2024.csv.gz"], store)
    assert res.ok
    snaps = list(ReplayFeed(store, 2024, "Monza", speed=0).snapshots())
    last = snaps[-1]
    assert last.lap == 53 and last.cars[0].driver == "LEC"
    tsu = last.car("TSU")
    assert tsu.retired and tsu.position == 20  # out on lap 1 (classified last)
    running = [c for c in last.cars if not c.retired]
    assert len(running) == 19 and all(c.position < 20 for c in running)
    # lapped cars on the last lap: still running, placed behind those on the lead lap
    assert any(c.gap_to_leader_s is None for c in running)
    for s in snaps:
        assert all(c.tyre_life is None or c.tyre_life >= 0 for c in s.cars)
