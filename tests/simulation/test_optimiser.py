import numpy as np
import pytest

from f1analyzer.errors import InvalidRequestError
from f1analyzer.simulation.scenario.demo import demo_race
from f1analyzer.simulation.planning.optimiser import optimise
from f1analyzer.simulation.core.params import CompoundParams
from f1analyzer.simulation.planning.screen import Screen
from f1analyzer.simulation.core.strategy import Strategy

from .conftest import make_race


def test_zero_degradation_never_stops_twice():
    flat = {
        "SOFT": CompoundParams("SOFT", -0.5),
        "MEDIUM": CompoundParams("MEDIUM", 0.0),
        "HARD": CompoundParams("HARD", 0.3),
    }
    race = make_race((0.0, 0.2, 0.4, 0.6), total_laps=40, compounds=flat, noise_sd_s=0.2)
    res = optimise(race, "C02", n_sims=100, seed=0, top_k=5)
    assert res.best.n_stops == 1
    assert res.best.strategy.compounds in (("SOFT", "MEDIUM"), ("MEDIUM", "SOFT"))
    assert res.n_screened > 10


def test_options_are_legal_ranked_and_have_windows():
    race = demo_race(n_cars=10, total_laps=50)
    res = optimise(race, "CCC", n_sims=150, seed=1, top_k=3)
    assert len(res.options) == 3
    exp = [o.expected_position for o in res.options]
    assert exp == sorted(exp)
    for o in res.options:
        o.strategy.validate(race, max_stops=3)
        assert 1 <= o.n_stops <= 3
        assert len(o.pit_windows) == o.n_stops
        for (lo, hi), lap in zip(o.pit_windows, o.strategy.pit_laps):
            assert lo <= lap <= hi
        p10, p50, p90 = o.race_time_p10_p50_p90_s
        assert p10 <= p50 <= p90
        assert 0 <= o.prob_gain_positions <= 1
    assert res.options[0].to_dict()["strategy"] == res.options[0].strategy.describe()


def test_high_degradation_favours_more_stops_in_screening():
    race = make_race(total_laps=60, compounds={
        "SOFT": CompoundParams("SOFT", -0.5, 0.4, 0.01),
        "MEDIUM": CompoundParams("MEDIUM", 0.0, 0.3, 0.008),
        "HARD": CompoundParams("HARD", 0.3, 0.25, 0.006),
    })
    best = Screen(race).best_plans(stops=(1, 2, 3))[0]
    assert best.strategy.n_stops >= 2


def test_bad_requests():
    race = make_race()
    with pytest.raises(InvalidRequestError, match="C00, C01"):
        optimise(race, "HAM")
    with pytest.raises(InvalidRequestError, match="1, 2, 3"):
        optimise(race, "C00", stops=(4,))


def test_common_random_numbers_make_identical_candidates_tie():
    race = demo_race(n_cars=6, total_laps=30)
    a = optimise(race, "BBB", n_sims=80, seed=3)
    b = optimise(race, "BBB", n_sims=80, seed=3)
    assert [o.strategy for o in a.options] == [o.strategy for o in b.options]
    assert np.allclose([o.expected_position for o in a.options],
                       [o.expected_position for o in b.options])


def test_timing_variants_move_the_first_stop_only_and_keep_every_rule():
    from f1analyzer.simulation.core.rules import TyreRules
    from f1analyzer.simulation.planning.optimiser import _timing_variants

    race = make_race((0.0, 0.3, 0.6), total_laps=40, rules=TyreRules(max_laps_per_set={"MEDIUM": 16, "HARD": 26}))
    screen = Screen(race)
    plans = screen.best_plans(stops=(1, 2), min_stint_laps=5)
    variants = _timing_variants(screen, plans[:4], 0, 5, (-6, -4, -2, 2, 4))
    assert variants
    by_seq = {p.strategy.compounds: p.strategy for p in plans[:4]}
    for v in variants:
        base = by_seq[v.strategy.compounds]
        assert v.strategy.pit_laps[1:] == base.pit_laps[1:] and v.strategy.pit_laps[0] != base.pit_laps[0]
        v.strategy.validate(race, max_stops=3)
        for n, comp in zip(v.strategy.stint_lengths(race.total_laps), v.strategy.compounds):
            cap = race.rules.cap_laps(comp, 0)
            assert n >= 5 and (cap is None or n <= cap)
        # priced by the same screen: never cheaper than the screen's own optimum for the sequence
        assert v.time_s >= next(p.time_s for p in plans if p.strategy.compounds == v.strategy.compounds) - 1e-9


def test_the_monte_carlo_chooses_the_undercut_the_screen_cannot_see():
    """Stuck behind a slower car it cannot pass, the driver's best plan stops before the car
    ahead (the undercut); the clean-air screen alone would stop on the same lap as everyone."""
    from f1analyzer.simulation.core.params import PassingParams
    from f1analyzer.simulation.core.strategy import Strategy

    from f1analyzer.simulation.core.rules import TyreRules

    race = make_race((0.0, -0.4), total_laps=40, passing=PassingParams.threshold(99.0), drs_enabled=False,
                     per_grid_slot_loss_s=2.0,
                     rules=TyreRules(nominated=("MEDIUM", "HARD")))
    lap = Screen(race).best_plans(start_compound="MEDIUM", stops=(1,))[0].strategy.pit_laps[0]
    ahead = Strategy("MEDIUM", ((lap, "HARD"),))
    res = optimise(race, "C01", n_sims=50, seed=0, field_strategies=[ahead, ahead], fix_start_compound=True,
                   stops=(1,), min_stint_laps=5)
    best = res.best
    assert best.strategy.compounds == ("MEDIUM", "HARD")
    assert best.strategy.pit_laps[0] < lap and best.expected_position < 1.5
    # without the timing stage the plan boxes with the car ahead and stays behind it
    plain = optimise(race, "C01", n_sims=50, seed=0, field_strategies=[ahead, ahead], fix_start_compound=True,
                     stops=(1,), min_stint_laps=5, timing_options=0)
    assert plain.best.strategy.pit_laps[0] == lap and plain.best.expected_position == 2.0
    # one option per compound sequence
    seqs = [o.strategy.compounds for o in res.options]
    assert len(seqs) == len(set(seqs))


def test_another_start_compound_is_raced_on_the_set_the_cars_around_have():
    """A top-ten car on new mediums that would start on the soft starts on a used soft, as the
    top ten do (qualifying sets); the engine races the plan on that set, not on the car's own."""
    from f1analyzer.simulation.core.engine import compile_plans
    from f1analyzer.simulation.planning.optimiser import start_set_age

    comps = ["MEDIUM", "SOFT", "SOFT", "MEDIUM", "SOFT", "HARD"] + ["MEDIUM"] * 4 + ["HARD", "SOFT"]
    ages = [0, 2, 3, 0, 2, 0] + [0] * 4 + [0, 0]
    race = make_race(tuple(0.1 * k for k in range(12)), total_laps=40, start_compounds=comps, start_ages=ages)
    assert start_set_age(race, 0, "MEDIUM") == 0          # its own set
    assert start_set_age(race, 0, "SOFT") == 2            # the top ten's softs: 2, 3, 2 laps
    assert start_set_age(race, 10, "MEDIUM") == 0         # nobody outside the top ten on mediums
    assert start_set_age(race, 10, "SOFT") == 0           # outside the top ten softs are new
    res = optimise(race, "C00", n_sims=20, seed=0, top_k=8)
    soft = [o for o in res.options if o.strategy.start_compound == "SOFT"]
    assert soft and all(o.strategy.start_age_laps == 2 for o in soft)
    own = [o for o in res.options if o.strategy.start_compound == "MEDIUM"]
    assert all(o.strategy.start_age_laps is None for o in own)
    plans = compile_plans(race, [[soft[0].strategy] + [Strategy(c) for c in comps[1:]]])
    assert plans.start_age[0, 0] == 2 and plans.start_age[0, 1] == 2 and plans.start_age[0, 5] == 0
