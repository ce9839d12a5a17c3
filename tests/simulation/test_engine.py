import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pytest

from f1analyzer.errors import InvalidRequestError
from f1analyzer.simulation.scenario.demo import default_strategies, demo_race
from f1analyzer.simulation.core.draws import draw
from f1analyzer.simulation.core.engine import compile_plans, run, simulate
from f1analyzer.simulation.core.params import NeutralisationParams, PassingParams, TrackStatus
from f1analyzer.simulation.core.reference import simulate_reference
from f1analyzer.simulation.core.state import RaceState
from f1analyzer.simulation.core.strategy import Strategy

from .conftest import make_race

BASELINE = Path(__file__).with_name("baseline.json")
INTER = Strategy("INTERMEDIATE")  # no stop, legal (wet)


def test_faster_car_on_fresher_tyres_passes():
    # C00 starts 5 s ahead on 25-lap-old mediums, C01 on fresh softs is ~2.5 s/lap quicker
    race = make_race((0.0, 0.0), total_laps=20, start_compounds=["MEDIUM", "SOFT"],
                     start_ages=[25, 0], passing=PassingParams.threshold(1.0),
                     per_grid_slot_loss_s=5.0)
    strat = [Strategy("MEDIUM", ((15, "HARD"),)), Strategy("SOFT", ((15, "HARD"),))]
    res = simulate(race, strat, n_sims=4, seed=0, record_positions=True)
    assert (res.finish_position[:, 1] == 1).all()
    assert (res.passes >= 1).all()
    assert (res.positions_by_lap[:, 0, 0] == 1).all()  # still leading after lap 1


def test_slower_delta_than_threshold_is_held_up():
    # C01 is 0.5 s/lap quicker, below the 1.0 s threshold: stuck at min_gap behind C00
    race = make_race((0.0, -0.5), total_laps=20, passing=PassingParams.threshold(1.0),
                     drs_enabled=False, per_grid_slot_loss_s=1.0)
    res = simulate(race, [INTER, INTER], n_sims=3, seed=0)
    assert (res.finish_position[:, 0] == 1).all() and (res.passes == 0).all()
    gap = res.race_time_s[:, 1] - res.race_time_s[:, 0]
    np.testing.assert_allclose(gap, race.min_gap_s, atol=1e-3)
    # with a lower threshold the same car gets by
    easy = dataclasses.replace(race, passing=PassingParams.threshold(0.3))
    assert (simulate(easy, [INTER, INTER], n_sims=3, seed=0).finish_position[:, 1] == 1).all()


def test_same_seed_same_races_other_seed_differs():
    race = demo_race(n_cars=8, total_laps=25)
    s = default_strategies(race)
    a, b = simulate(race, s, 200, seed=7), simulate(race, s, 200, seed=7)
    np.testing.assert_array_equal(a.finish_position, b.finish_position)
    np.testing.assert_array_equal(a.race_time_s, b.race_time_s)
    c = simulate(race, s, 200, seed=8)
    assert not np.array_equal(a.finish_position, c.finish_position)


def test_vectorised_engine_equals_reference_loop():
    race = demo_race(n_cars=10, total_laps=30, retirement_prob=0.25)
    race.sc = dataclasses.replace(race.sc, p_at_least_one=0.8)
    race.vsc = dataclasses.replace(race.vsc, p_at_least_one=0.6)
    race.pit_loss_sd_s, race.start_time_sd_s = 1.0, 0.5
    strategies = [s.with_opportunism(3) if i % 2 else s
                  for i, s in enumerate(default_strategies(race))]
    draws = draw(race, 48, seed=11)
    res = run(race, compile_plans(race, [strategies]), draws)
    assert res.passes.sum() > 0 and res.retired.any() and res.neutralised().any()
    for i in range(draws.n_sims):
        ref = simulate_reference(race, strategies, draws, i)
        np.testing.assert_array_equal(ref.finish_position[0], res.finish_position[i])
        np.testing.assert_array_equal(ref.race_time_s[0], res.race_time_s[i])
        np.testing.assert_array_equal(ref.stops_done[0], res.stops_done[i])
        assert ref.passes[0] == res.passes[i]


@pytest.mark.parametrize("threads", [2, 3])
def test_any_thread_count_gives_the_same_races(monkeypatch, threads):
    from f1analyzer.simulation.core import parallel
    from f1analyzer.simulation.core.engine import simulate_groups

    # a split at any size, so that small calls exercise it (uneven slices with 3 threads)
    monkeypatch.setattr(parallel, "MIN_ROWS_PER_THREAD", 10)
    race = demo_race(n_cars=10, total_laps=30, retirement_prob=0.25)
    race.sc = dataclasses.replace(race.sc, p_at_least_one=0.8)
    strategies = [s.with_opportunism(3) if i % 2 else s for i, s in enumerate(default_strategies(race))]
    with parallel.using_threads(1):
        one = simulate(race, strategies, 301, seed=4, record_positions=True)
    state = _state(race, lap=12, status=TrackStatus.SC)
    mid = [Strategy("MEDIUM", ((14 + i, "HARD"),), sc_window_laps=2) for i in range(10)]
    other = [Strategy("MEDIUM", ((20, "SOFT"),))] + mid[1:]
    with parallel.using_threads(threads):
        assert len(parallel.row_slices(301)) == threads
        many = simulate(race, strategies, 301, seed=4, record_positions=True)
        groups_many = simulate_groups(race, [mid, other], draw(race, 101, seed=3, first_lap=13), state=state)
        with parallel.using_threads(1):
            groups_one = simulate_groups(race, [mid, other], draw(race, 101, seed=3, first_lap=13), state=state)
        assert parallel.sim_threads() == threads  # the inner block's choice is undone
    for a, b in [(one, many), *zip(groups_one, groups_many)]:
        np.testing.assert_array_equal(a.finish_position, b.finish_position)
        np.testing.assert_array_equal(a.race_time_s, b.race_time_s)
        np.testing.assert_array_equal(a.passes, b.passes)
        np.testing.assert_array_equal(a.stops_done, b.stops_done)
    np.testing.assert_array_equal(one.positions_by_lap, many.positions_by_lap)
    assert one.passes.sum() > 0 and one.retired.any()


def test_sim_threads_come_from_the_call_the_setting_or_the_cores(monkeypatch):
    from f1analyzer.config import get_settings
    from f1analyzer.simulation.core import parallel

    monkeypatch.setenv("F1A_SIM_THREADS", "0")
    get_settings.cache_clear()
    try:
        assert parallel.sim_threads() == min(parallel.available_cpus(), parallel.MAX_AUTO_THREADS)
        monkeypatch.setenv("F1A_SIM_THREADS", "3")
        get_settings.cache_clear()
        assert parallel.sim_threads() == 3
        parallel.set_sim_threads(1)
        assert parallel.sim_threads() == 1
        with pytest.raises(ValueError):
            parallel.set_sim_threads(0)
    finally:
        parallel.set_sim_threads(None)
        get_settings.cache_clear()
    # too few races to be worth a thread each: one slice; else near-equal contiguous slices
    assert parallel.row_slices(100, threads=4) == [slice(0, 100)]
    n = 3 * parallel.MIN_ROWS_PER_THREAD + 1
    sl = parallel.row_slices(n, threads=4)
    assert len(sl) == 3 and sl[0].start == 0 and sl[-1].stop == n
    assert all(a.stop == b.start for a, b in zip(sl, sl[1:]))


def test_reference_agrees_from_a_mid_race_state():
    race = demo_race(n_cars=6, total_laps=30)
    state = _state(race, lap=12, status=TrackStatus.SC)
    strategies = [Strategy("MEDIUM", ((14 + i, "HARD"),), sc_window_laps=2) for i in range(6)]
    draws = draw(race, 16, seed=3, first_lap=13)
    draws.track_status[:, 12:14] = TrackStatus.SC
    res = run(race, compile_plans(race, [strategies]), draws, state=state)
    for i in range(draws.n_sims):
        ref = simulate_reference(race, strategies, draws, i, state=state)
        np.testing.assert_array_equal(ref.finish_position[0], res.finish_position[i])
        np.testing.assert_array_equal(ref.race_time_s[0], res.race_time_s[i])


def test_changing_one_strategy_keeps_other_cars_draws():
    # cars 4 s/lap apart never meet, so only C02's own race may change
    race = make_race((0.0, 4.0, 8.0, 12.0), total_laps=30, noise_sd_s=0.4, pit_loss_sd_s=1.0)
    base = [Strategy("MEDIUM", ((12, "HARD"),))] * 4
    other = list(base)
    other[2] = Strategy("SOFT", ((8, "MEDIUM"), (20, "HARD")))
    a, b = simulate(race, base, 50, seed=5), simulate(race, other, 50, seed=5)
    keep = [0, 1, 3]
    np.testing.assert_array_equal(a.race_time_s[:, keep], b.race_time_s[:, keep])
    assert not np.array_equal(a.race_time_s[:, 2], b.race_time_s[:, 2])


def test_sc_schedule_bunches_the_field_and_cheapens_stops():
    race = make_race((0.0, 1.0, 2.0), total_laps=30, pit_loss_s=22.0, pit_loss_sc_s=10.0)
    strat = [Strategy("MEDIUM", ((20, "HARD"),), sc_window_laps=5)] * 3
    green = simulate(race, strat, 2, seed=0)
    sched = np.zeros(30, dtype=np.int8)
    sched[16:19] = TrackStatus.SC  # laps 17-19
    sc = simulate(race, strat, 2, seed=0, sc_schedule=sched)
    gap_green = green.race_time_s[0, 2] - green.race_time_s[0, 0]
    gap_sc = sc.race_time_s[0, 2] - sc.race_time_s[0, 0]
    assert gap_sc < gap_green / 2
    assert (sc.stops_done == 1).all()
    with pytest.raises(InvalidRequestError, match="sc_schedule"):
        simulate(race, strat, 2, seed=0, sc_schedule=np.full(30, 9))


def test_result_helpers():
    race = demo_race(n_cars=6, total_laps=20)
    res = simulate(race, default_strategies(race), 300, seed=2)
    hist = res.position_histogram("AAA")
    assert hist.shape == (6,) and hist.sum() == pytest.approx(1.0)
    assert 1 <= res.expected_position("AAA") <= 6
    p10, p50, p90 = res.time_quantiles("AAA")
    assert p10 <= p50 <= p90
    assert 0 <= res.prob_gain_positions("FFF") <= 1
    assert len(res.summary()) == 6
    with pytest.raises(InvalidRequestError, match="AAA, BBB"):
        res.expected_position("ZZZ")


def test_bad_requests():
    race = make_race()
    with pytest.raises(InvalidRequestError, match="one per car"):
        simulate(race, [INTER], 10)
    with pytest.raises(InvalidRequestError, match="C01: .*within 1..29"):
        simulate(race, [INTER, Strategy("MEDIUM", ((40, "HARD"),))], 10)
    with pytest.raises(InvalidRequestError, match="n_sims"):
        simulate(race, [INTER, INTER], 0)


def _state(race, lap, status=TrackStatus.GREEN):
    n = race.n_cars
    return RaceState(lap=lap, position=list(range(1, n + 1)),
                     gap_to_leader_s=[1.2 * i for i in range(n)], compound=["MEDIUM"] * n,
                     tyre_age_laps=[lap] * n, stops_done=[0] * n, track_status=status,
                     neutral_laps_remaining=2)


def _baseline_summary():
    race = demo_race(n_cars=10, total_laps=40)
    res = simulate(race, default_strategies(race), 500, seed=42)
    return {
        "expected_position": [round(res.expected_position(d), 6) for d in race.drivers],
        "median_time_s": [round(float(res.time_quantiles(d, (0.5,))[0]), 3) for d in race.drivers],
        "passes_mean": round(float(res.passes.mean()), 6),
        "retired_rate": round(float(res.retired.mean()), 6),
    }


def test_fixed_seed_baseline_has_not_drifted():
    """Covasim-style drift check. Regenerate with F1A_UPDATE_BASELINE=1 after intended changes."""
    got = _baseline_summary()
    if os.environ.get("F1A_UPDATE_BASELINE") == "1":
        BASELINE.write_text(json.dumps(got, indent=1) + "\n")
    assert BASELINE.exists(), "missing baseline.json: run with F1A_UPDATE_BASELINE=1"
    want = json.loads(BASELINE.read_text())
    assert got["expected_position"] == pytest.approx(want["expected_position"], abs=1e-6)
    assert got["median_time_s"] == pytest.approx(want["median_time_s"], abs=2e-3)
    assert got["passes_mean"] == pytest.approx(want["passes_mean"], abs=1e-6)
    assert got["retired_rate"] == pytest.approx(want["retired_rate"], abs=1e-6)


def test_neutralisation_sampling_rates():
    race = make_race(sc=NeutralisationParams(p_at_least_one=0.5, duration_laps_probs=(0, 0, 1.0)))
    d = draw(race, 4000, seed=1)
    has_sc = (d.track_status == TrackStatus.SC).any(axis=1)
    assert 0.45 < has_sc.mean() < 0.55
    assert set(np.unique((d.track_status == TrackStatus.SC).sum(axis=1))) <= {0, 1, 2, 3}


def test_a_neutralisation_of_unknown_length_is_drawn_per_race_from_the_fitted_durations():
    """A pit wall knows a VSC is out, not whether it ends next lap: with the length left open
    each simulated race draws it (CRN: from its own stream), given the laps it has lasted."""
    from f1analyzer.simulation.core.engine import apply_state_status

    vsc = NeutralisationParams(p_at_least_one=0.0, duration_laps_probs=(0.5, 0.3, 0.2))  # none sampled
    race = make_race(vsc=vsc)
    before = draw(race, 4000, seed=3, first_lap=11)
    laps_painted = {}
    for remaining, elapsed in ((None, 0), (None, 1), (None, 2), (3, 0)):
        d = draw(race, 4000, seed=3, first_lap=11)
        state = dataclasses.replace(_state(race, 10, TrackStatus.VSC), neutral_laps_remaining=remaining,
                                    neutral_laps_elapsed=elapsed)
        apply_state_status(d, state, race)
        vsc_laps = (d.track_status == TrackStatus.VSC)
        assert vsc_laps[:, 10].all() and not vsc_laps[:, :10].any()  # from the lap being run now
        laps_painted[(remaining, elapsed)] = vsc_laps.sum(axis=1)
        # nothing else moved: every other stream is the same draw
        assert np.array_equal(d.lap_z, before.lap_z) and np.array_equal(d.pass_u, before.pass_u)
    just_out = laps_painted[(None, 0)]
    assert set(np.unique(just_out)) == {1, 2, 3}
    assert np.mean(just_out == 1) == pytest.approx(0.5, abs=0.03)
    assert np.mean(just_out == 3) == pytest.approx(0.2, abs=0.03)
    # out for a lap already: 2 or 3 laps in all, so 1 or 2 more (0.3 : 0.2)
    assert np.mean(laps_painted[(None, 1)] == 1) == pytest.approx(0.6, abs=0.03)
    assert (laps_painted[(None, 2)] == 1).all()
    assert (laps_painted[(3, 0)] == 3).all()  # a known length (a replay) is painted as given


def test_known_retirements_replace_the_sampled_ones_in_engine_and_reference():
    from f1analyzer.simulation.core.draws import fix_retirements

    race = demo_race(n_cars=6, total_laps=25)
    race = dataclasses.replace(race, cars=[dataclasses.replace(c, retirement_prob=0.5) for c in race.cars])
    known = [None, 5, None, None, 18, None]
    res = simulate(race, default_strategies(race), 300, seed=4, retire_laps=known)
    assert res.retired[:, 1].all() and res.retired[:, 4].all()
    assert not res.retired[:, [0, 2, 3, 5]].any()  # a 50 % retirement rate, and nobody else retires
    assert (res.laps_done[:, 1] == 4).all() and (res.laps_done[:, 4] == 17).all()
    assert (res.finish_position[:, 1] == 6).all() and (res.finish_position[:, 4] == 5).all()
    d = draw(race, 3, seed=4)
    fix_retirements(d, known)
    ref = simulate_reference(race, default_strategies(race), d, 0)
    assert ref.retired[0].tolist() == [k is not None for k in known]
    with pytest.raises(InvalidRequestError, match="retire_laps has 2 entries"):
        simulate(race, default_strategies(race), 10, retire_laps=[None, 3])


def test_a_plan_on_another_start_set_races_that_set_in_engine_and_reference():
    race = demo_race(n_cars=6, total_laps=25)
    strategies = default_strategies(race)
    strategies[2] = strategies[2].on_start_set(9)  # the same plan, on a 9-lap-old set
    draws = draw(race, 6, seed=5)
    res = run(race, compile_plans(race, [strategies]), draws)
    base = run(race, compile_plans(race, [default_strategies(race)]), draws)
    # older tyres: slower over the opening stint (on average: a car held up in traffic at the
    # flag crosses the line at its held-up gap behind the car ahead, whatever its own pace)
    assert res.race_time_s[:, 2].mean() > base.race_time_s[:, 2].mean()
    assert (res.race_time_s[:, 2] > base.race_time_s[:, 2]).sum() >= draws.n_sims - 1
    for i in range(draws.n_sims):
        ref = simulate_reference(race, strategies, draws, i)
        np.testing.assert_array_equal(ref.race_time_s[0], res.race_time_s[i])


def test_a_stop_during_a_red_flag_is_free_in_engine_and_reference():
    # the leader C00 boxes on lap 13 (the first lap simulated from the end of lap 12); the others
    # are 1.2 s apart and never stop before lap 25
    race = make_race((0.0, 0.0, 0.0, 0.0), total_laps=30, pit_loss_s=22.0, pit_loss_sc_s=10.0,
                     pit_loss_sd_s=0.0)
    plans = [Strategy("MEDIUM", ((13, "HARD"),))] + [Strategy("MEDIUM", ((25, "HARD"),))] * 3
    state = _state(race, lap=12, status=TrackStatus.SC)
    draws = draw(race, 4, seed=1, first_lap=13)
    draws.track_status[:, 12:14] = TrackStatus.SC
    red_state = dataclasses.replace(state, red_flag=True)
    sc = run(race, compile_plans(race, [plans]), draws, state=state, record_positions=True)
    red = run(race, compile_plans(race, [plans]), draws, state=red_state, record_positions=True)
    # under the SC its 10 s put it behind the three cars within 3.6 s; in the suspension it
    # changes in the pit lane and keeps the lead
    assert (sc.positions_by_lap[:, 0, 0] == 4).all()
    assert (red.positions_by_lap[:, 0, 0] == 1).all()
    for i in range(draws.n_sims):
        ref = simulate_reference(race, plans, draws, i, state=red_state)
        np.testing.assert_array_equal(ref.finish_position[0], red.finish_position[i])
        np.testing.assert_array_equal(ref.race_time_s[0], red.race_time_s[i])
    with pytest.raises(InvalidRequestError, match="red_flag needs track_status SC"):
        dataclasses.replace(state, red_flag=True, track_status=TrackStatus.GREEN).validate(race)


def test_a_replays_red_flag_laps_are_free_stops_in_engine_and_reference():
    # the leader C00 changes tyres on lap 15, the others on lap 25; lap 15 is neutralised
    race = make_race((0.0, 0.0, 0.0, 0.0), total_laps=30, pit_loss_s=22.0, pit_loss_sc_s=10.0,
                     pit_loss_sd_s=0.0)
    plans = [Strategy("MEDIUM", ((15, "HARD"),))] + [Strategy("MEDIUM", ((25, "HARD"),))] * 3
    sched = np.zeros(30, dtype=np.int8)
    sched[14:16] = TrackStatus.SC
    sc = simulate(race, plans, n_sims=4, seed=2, sc_schedule=sched, record_positions=True)
    red = simulate(race, plans, n_sims=4, seed=2, sc_schedule=sched, record_positions=True, free_stop_laps=[15])
    # charged its SC stop, it drops back on lap 15; changed in the suspension, it keeps its place
    assert (sc.positions_by_lap[:, 14, 0] > sc.positions_by_lap[:, 13, 0]).all()
    assert (red.positions_by_lap[:, 14, 0] == red.positions_by_lap[:, 13, 0]).all()
    draws = draw(race, 4, seed=2, sc_schedule=sched)
    res = run(race, compile_plans(race, [plans]), draws, free_stop_laps=[15])
    for i in range(draws.n_sims):
        ref = simulate_reference(race, plans, draws, i, free_stop_laps=[15])
        np.testing.assert_array_equal(ref.finish_position[0], res.finish_position[i])
        np.testing.assert_array_equal(ref.race_time_s[0], res.race_time_s[i])
