"""Rejoin projection and undercut threats (constructed races, closed form)."""

from __future__ import annotations

import pytest

from f1analyzer.simulation.core.params import TrackStatus
from f1analyzer.simulation.core.pitloss import stop_loss_s
from f1analyzer.simulation.core.state import RaceState
from f1analyzer.simulation.planning.rejoin import TRAFFIC_GAP_S, pit_threats, rejoin_projection
from f1analyzer.simulation.planning.undercut import undercut

from .conftest import make_race


def _race(**kw):
    return make_race((0.0, 0.1, 0.2, 0.3, 0.4, 0.5), total_laps=50, **kw)


def _state(gaps, *, status=TrackStatus.GREEN, ages=None, retired=None):
    n = len(gaps)
    order = sorted(range(n), key=lambda i: gaps[i])
    pos = [0] * n
    for k, i in enumerate(order, start=1):
        pos[i] = k
    return RaceState(lap=20, position=pos, gap_to_leader_s=list(gaps), compound=["MEDIUM"] * n,
                     tyre_age_laps=ages or [20] * n, stops_done=[0] * n, track_status=status, retired=retired)


def test_rejoin_behind_every_car_within_the_loss():
    race = _race(pit_loss_s=20.0, out_lap_penalty_s=1.0)
    state = _state([0.0, 2.0, 8.0, 15.0, 22.5, 40.0])
    loss = stop_loss_s(race, TrackStatus.GREEN)
    assert loss == pytest.approx(21.0)
    r = rejoin_projection(race, state, 0, loss)  # leader: 21 s -> behind C03 (15 s), ahead of C04 (22.5 s)
    assert (r.current_position, r.rejoin_position, r.places_lost) == (1, 4, 3)
    assert (r.car_ahead, r.car_behind) == ("C03", "C04")
    assert r.gap_ahead_s == pytest.approx(6.0) and r.gap_behind_s == pytest.approx(1.5)
    assert not r.in_traffic and not r.free_stop
    r = rejoin_projection(race, state, 2, loss)  # 29 s: behind C04 by 6.5 s, 11 s ahead of C05
    assert (r.rejoin_position, r.car_ahead, r.car_behind) == (5, "C04", "C05")
    r = rejoin_projection(race, state, 4, loss)  # 43.5 s: last, nobody behind
    assert (r.rejoin_position, r.car_behind, r.gap_behind_s, r.free_stop) == (6, None, None, False)
    r = rejoin_projection(race, state, 5, loss)  # already last: a stop costs no place
    assert (r.rejoin_position, r.free_stop, r.places_lost) == (6, True, 0)


def test_traffic_and_free_stop_under_safety_car():
    race = _race(pit_loss_s=20.0, pit_loss_sc_s=9.0, out_lap_penalty_s=1.0)
    state = _state([0.0, 2.0, 12.0, 12.5, 30.0, 40.0], status=TrackStatus.SC)
    sc = stop_loss_s(race, TrackStatus.SC)
    assert sc == pytest.approx(10.0)
    r = rejoin_projection(race, state, 1, sc)  # 12 s: level with C02 (ties rejoin behind), 0.5 s ahead of C03
    assert (r.rejoin_position, r.car_ahead, r.in_traffic) == (3, "C02", True)
    assert r.gap_ahead_s == pytest.approx(0.0) and r.gap_ahead_s < TRAFFIC_GAP_S
    r = rejoin_projection(race, state, 3, sc)  # 22.5 s < 30 s: the loss fits in the gap behind
    assert (r.rejoin_position, r.free_stop, r.car_behind) == (4, True, "C04")
    assert r.gap_behind_s == pytest.approx(7.5)
    # the same car under green loses a place
    assert not rejoin_projection(race, state, 3, stop_loss_s(race, TrackStatus.GREEN)).free_stop


def test_retired_cars_are_not_rejoined_behind():
    race = _race(pit_loss_s=20.0, out_lap_penalty_s=0.0)
    state = _state([0.0, 5.0, 10.0, 15.0, 30.0, 50.0], retired=[False, False, False, True, False, False])
    r = rejoin_projection(race, state, 0, 20.0)
    assert (r.rejoin_position, r.car_ahead, r.car_behind) == (3, "C02", "C04")


def test_threats_are_the_undercut_maths_of_the_neighbours():
    race = _race()
    # C02 on old tyres between a car ahead and a car behind on similar tyres
    state = _state([0.0, 5.0, 6.2, 7.0, 20.0, 30.0], ages=[20, 20, 35, 10, 20, 20])
    threats = {t.kind: t for t in pit_threats(race, state, 2)}
    behind, ahead = threats["undercut_from_behind"], threats["undercut_on_ahead"]
    assert (behind.rival, ahead.rival) == ("C03", "C01")
    assert behind.gap_s == pytest.approx(0.8) and ahead.gap_s == pytest.approx(1.2)
    u = undercut(race, state, "C03", "C02", max_delay_laps=5)
    assert behind.margin_s == pytest.approx(float(u.margin_s[0]), abs=1e-3)
    assert behind.works_after_laps == u.works_after_laps
    if u.works_after_laps is not None:
        assert behind.window_closes_lap == u.pit_lap + u.works_after_laps - 1
    v = undercut(race, state, "C02", "C01", max_delay_laps=5)
    assert ahead.margin_s == pytest.approx(float(v.margin_s[0]), abs=1e-3)
    assert ahead.window_closes_lap == v.undercut_lap
    # the leader has nobody ahead, the last car nobody behind
    assert [t.kind for t in pit_threats(race, state, 0)] == ["undercut_from_behind"]
    assert [t.kind for t in pit_threats(race, state, 5)] == ["undercut_on_ahead"]


def test_a_car_on_much_older_tyres_is_undercut_from_behind():
    race = _race()
    state = _state([0.0, 10.0, 11.0, 30.0, 40.0, 50.0], ages=[10, 34, 5, 10, 10, 10])
    [behind, _] = pit_threats(race, state, 1)
    assert behind.rival == "C02" and behind.works_after_laps is not None
    assert behind.window_closes_lap >= state.lap + 1
