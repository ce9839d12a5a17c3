import numpy as np

from f1analyzer.simulation.core import effects as fx
from f1analyzer.simulation.core.params import TrackStatus

from .conftest import make_race

F = np.float32
KW = dict(min_gap_s=0.3, overtake_threshold_s=1.0, drs_gain_s=0.0, drs_window_s=1.0)


def _col(*xs, dtype=F):
    return np.array(xs, dtype=dtype)[:, None]


def test_faster_car_passes_slower_is_held_up():
    prev = _col(100.0, 100.5)
    # sim A: car 1 is 1.5 s quicker -> passes; sim B: 0.6 s quicker -> held up
    prev = np.hstack([prev, prev])
    lap = np.array([[90.0, 90.0], [88.5, 89.4]], dtype=F)
    ret = np.zeros((2, 2), dtype=bool)
    cars = np.array([[0, 0], [1, 1]], dtype=np.int16)
    t, c, passes = fx.overtaking(prev, lap, ret, cars, np.zeros(2, bool), **KW)
    assert c[:, 0].tolist() == [1, 0] and passes[0] == 1
    assert t[0, 0] == F(189.0) and t[1, 0] >= t[0, 0] + F(0.3)
    assert c[:, 1].tolist() == [0, 1] and passes[1] == 0
    assert t[1, 1] == F(190.0) + F(0.3)  # held at min gap behind, not its own 189.9


def test_car_far_behind_is_not_affected():
    prev = _col(100.0, 110.0)
    lap = _col(90.0, 85.0)
    t, c, _ = fx.overtaking(prev, lap, np.zeros((2, 1), bool), _col(0, 1, dtype=np.int16),
                            np.zeros(1, bool), **KW)
    assert t[:, 0].tolist() == [190.0, 195.0] and c[:, 0].tolist() == [0, 1]


def test_drs_helps_a_close_car_pass():
    prev = _col(100.0, 100.5)
    lap = _col(90.0, 89.3)  # 0.7 s quicker: not enough alone
    kw = dict(KW, drs_gain_s=0.4)
    args = (prev, lap, np.zeros((2, 1), bool), _col(0, 1, dtype=np.int16))
    _, c_off, _ = fx.overtaking(*args, np.zeros(1, bool), **kw)
    _, c_on, _ = fx.overtaking(*args, np.ones(1, bool), **kw)
    assert c_off[:, 0].tolist() == [0, 1] and c_on[:, 0].tolist() == [1, 0]


def test_safety_car_compresses_gaps_keeps_order():
    prev = _col(0.0, 10.0, 30.0, 31.0)
    lap = np.full((4, 1), 120.0, dtype=F)
    out = fx.safety_car(prev, lap, np.zeros((4, 1), bool), queue_gap_s=1.0, gap_retain_per_lap=0.5)
    gaps = np.diff(out[:, 0])
    np.testing.assert_allclose(gaps, [5.5, 10.5, 1.0])
    assert np.all(gaps > 0)


def test_pit_stop_is_cheaper_under_sc():
    race = make_race()
    loss = fx.pit_loss_by_status(race)
    pit = np.ones((3, 1), bool)
    status = np.array([TrackStatus.GREEN, TrackStatus.SC, TrackStatus.VSC], dtype=np.int8)
    d = fx.pit_stop(pit, status, np.zeros((3, 1), F), np.zeros(1, F), loss, 0.0)
    assert d[1, 0] < d[2, 0] < d[0, 0]
    assert fx.pit_stop(~pit, status, np.zeros((3, 1), F), np.zeros(1, F), loss, 0.0).sum() == 0


def test_tyre_wear_and_fuel_shapes():
    race = make_race()
    table = race.tyre_delta_table()
    comp = np.array([[0, 1], [2, 1]], dtype=np.int8)
    age = np.array([[0, 10], [5, 10_000]], dtype=np.int16)
    d = fx.tyre_wear(comp, age, table)
    assert d.shape == (2, 2) and d.dtype == np.float32
    assert d[0, 0] == F(-0.6) and d[1, 1] == table[1, -1]  # clipped beyond the table
    f = fx.fuel_burn(11, 0.05, (2, 2))
    assert f.shape == (2, 2) and np.allclose(f, -0.5)


def test_retirements_only_on_drawn_lap_and_probability():
    running = np.array([[True, True, False]])
    u = np.array([[0.01, 0.5, 0.01]], dtype=F)
    lap = np.array([[7, 7, 7]], dtype=np.int16)
    prob = np.array([0.1, 0.1, 0.1], dtype=F)
    assert fx.retirements(running, u, lap, prob, 7).tolist() == [[True, False, False]]
    assert not fx.retirements(running, u, lap, prob, 8).any()
