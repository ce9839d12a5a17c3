import numpy as np

from f1analyzer.simulation.core import effects as fx
from f1analyzer.simulation.core.params import PassingParams, TrackStatus
from f1analyzer.simulation.core.pitloss import loss_table

from .conftest import make_race

F = np.float32
KW = dict(min_gap_s=0.3, passing=PassingParams.threshold(1.0), drs_gain_s=0.0, drs_window_s=1.0)


def _u(n_cars, n_sims, value=0.5):
    """logit of uniform draws ``value`` for every slot: ``[n_cars, n_sims]``."""
    return fx.pass_logit(np.full((n_cars, n_sims), value, dtype=F))


def _col(*xs, dtype=F):
    return np.array(xs, dtype=dtype)[:, None]


def test_faster_car_passes_slower_is_held_up():
    prev = _col(100.0, 100.5)
    # sim A: car 1 is 1.5 s quicker -> passes; sim B: 0.6 s quicker -> held up
    prev = np.hstack([prev, prev])
    lap = np.array([[90.0, 90.0], [88.5, 89.4]], dtype=F)
    ret = np.zeros((2, 2), dtype=bool)
    cars = np.array([[0, 0], [1, 1]], dtype=np.int16)
    t, c, passes = fx.overtaking(prev, lap, lap, ret, cars, np.zeros(2, bool), _u(2, 2), **KW)
    assert c[:, 0].tolist() == [1, 0] and passes[0] == 1
    assert t[0, 0] == F(189.0) and t[1, 0] >= t[0, 0] + F(0.3)
    assert c[:, 1].tolist() == [0, 1] and passes[1] == 0
    assert t[1, 1] == F(190.0) + F(0.3)  # held at min gap behind, not its own 189.9


def test_the_pass_turns_on_pace_not_on_this_laps_noise():
    # both sims: car 1 catches car 0 on this lap's times (1.5 s quicker); in sim A that is its
    # pace, in sim B only noise (same pace as car 0): the fitted odds compare paces
    prev = np.hstack([_col(100.0, 100.5), _col(100.0, 100.5)])
    lap = np.array([[90.0, 90.0], [88.5, 88.5]], dtype=F)
    pace = np.array([[90.0, 90.0], [88.5, 90.0]], dtype=F)
    ret = np.zeros((2, 2), dtype=bool)
    cars = np.array([[0, 0], [1, 1]], dtype=np.int16)
    t, c, passes = fx.overtaking(prev, lap, pace, ret, cars, np.zeros(2, bool), _u(2, 2), **KW)
    assert c[:, 0].tolist() == [1, 0] and passes[0] == 1
    assert c[:, 1].tolist() == [0, 1] and passes[1] == 0
    assert t[1, 1] == F(190.0) + F(0.3)  # caught on its lap time, held up behind


def test_a_held_up_car_keeps_its_drawn_gap_and_is_caught_within_it():
    # car 1 arrives 0.6 s behind car 0 (not within min_gap_s = 0.3): with a held-up gap of
    # 0.9 it has caught car 0 (in its dirty air), fails to pass and is held 0.9 s back; with
    # 0.45 it is free and keeps its own time
    prev = np.hstack([_col(100.0, 101.0)] * 2)
    lap = np.array([[90.0, 90.0], [89.6, 89.6]], dtype=F)
    held = np.array([[0.5, 0.5], [0.9, 0.45]], dtype=F)
    ret = np.zeros((2, 2), dtype=bool)
    cars = np.array([[0, 0], [1, 1]], dtype=np.int16)
    t, c, passes = fx.overtaking(prev, lap, lap, ret, cars, np.zeros(2, bool), _u(2, 2), held, **KW)
    assert c[:, 0].tolist() == [0, 1] and passes.tolist() == [0, 0]
    assert t[1, 0] == F(190.0) + F(0.9)
    assert t[1, 1] == F(101.0) + F(89.6)
    # a quicker car that catches within its gap passes as before, and lands min_gap_s ahead
    lap2 = np.array([[90.0, 90.0], [88.5, 88.5]], dtype=F)
    t, c, passes = fx.overtaking(prev, lap2, lap2, ret, cars, np.zeros(2, bool), _u(2, 2), held, **KW)
    assert passes.tolist() == [1, 1] and t[1, 0] >= t[0, 0] + F(0.3)


def test_car_far_behind_is_not_affected():
    prev = _col(100.0, 110.0)
    lap = _col(90.0, 85.0)
    t, c, _ = fx.overtaking(prev, lap, lap, np.zeros((2, 1), bool), _col(0, 1, dtype=np.int16),
                            np.zeros(1, bool), _u(2, 1), **KW)
    assert t[:, 0].tolist() == [190.0, 195.0] and c[:, 0].tolist() == [0, 1]


def test_drs_helps_a_close_car_pass():
    prev = _col(100.0, 100.5)
    lap = _col(90.0, 89.3)  # 0.7 s quicker: not enough alone
    kw = dict(KW, drs_gain_s=0.4)
    args = (prev, lap, lap, np.zeros((2, 1), bool), _col(0, 1, dtype=np.int16))
    _, c_off, _ = fx.overtaking(*args, np.zeros(1, bool), _u(2, 1), **kw)
    _, c_on, _ = fx.overtaking(*args, np.ones(1, bool), _u(2, 1), **kw)
    assert c_off[:, 0].tolist() == [0, 1] and c_on[:, 0].tolist() == [1, 0]


def test_safety_car_compresses_gaps_keeps_order():
    prev = _col(0.0, 10.0, 30.0, 31.0)
    lap = np.full((4, 1), 120.0, dtype=F)
    cars = _col(0, 1, 2, 3, dtype=np.int16)
    out, c = fx.safety_car(prev, lap, np.zeros((4, 1), bool), cars, queue_gap_s=1.0,
                           gap_retain_per_lap=0.5)
    gaps = np.diff(out[:, 0])
    np.testing.assert_allclose(gaps, [5.5, 10.5, 1.0])
    assert np.all(gaps > 0) and c[:, 0].tolist() == [0, 1, 2, 3]


def test_safety_car_stop_is_charged_before_the_queue_forms():
    # car 0 boxes under SC (12 s in its lap): against the gaps at the start of the lap it drops
    # behind cars 1 and 2 (10 s and 11 s back) but stays ahead of car 3 (30 s back); then the queue forms
    prev = _col(0.0, 10.0, 11.0, 30.0)
    lap = _col(132.0, 120.0, 120.0, 120.0)
    ret = np.zeros((4, 1), bool)
    out, c = fx.safety_car(prev, lap, ret, _col(0, 1, 2, 3, dtype=np.int16), queue_gap_s=1.0,
                           gap_retain_per_lap=0.5)
    assert c[:, 0].tolist() == [1, 2, 0, 3]
    assert np.all(np.diff(out[:, 0]) > 0)
    # a retired car stays at the back whatever its frozen time
    ret[1, 0] = True
    lap[1, 0] = 0.0
    _, c = fx.safety_car(prev, lap, ret, _col(0, 1, 2, 3, dtype=np.int16), queue_gap_s=1.0,
                         gap_retain_per_lap=0.5)
    assert c[:, 0].tolist() == [2, 0, 3, 1]


def test_passing_is_a_probability_of_the_pace_delta():
    # 4000 sims of the same caught pair: the share of passes follows the logistic curve
    n = 4000
    prev = np.tile(_col(100.0, 100.2), (1, n))
    lap = np.tile(_col(90.0, 89.5), (1, n))  # 0.5 s quicker: caught
    cars = np.tile(_col(0, 1, dtype=np.int16), (1, n))
    u = fx.pass_logit(np.random.default_rng(0).random((2, n), dtype=F))
    p = PassingParams(intercept=-1.0, pace_coef_per_s=2.0, drs_coef=1.0)
    kw = dict(min_gap_s=0.3, passing=p, drs_gain_s=0.0, drs_window_s=1.0)
    _, c_off, _ = fx.overtaking(prev, lap, lap, np.zeros((2, n), bool), cars, np.zeros(n, bool), u, **kw)
    _, c_on, _ = fx.overtaking(prev, lap, lap, np.zeros((2, n), bool), cars, np.ones(n, bool), u, **kw)
    share_off, share_on = (c_off[0] == 1).mean(), (c_on[0] == 1).mean()
    assert abs(share_off - float(p.p_pass(0.5))) < 0.03
    assert abs(share_on - float(p.p_pass(0.5, True))) < 0.03 and share_on > share_off


def test_pit_stop_is_cheaper_under_sc():
    race = make_race()
    loss = loss_table(race)
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
