import dataclasses

import numpy as np
import pytest

from f1analyzer.errors import InvalidRequestError
from f1analyzer.simulation.planning.advisor import BOX_UNDER_SC, STAY_OUT, advise, wet_track_reason
from f1analyzer.simulation.core.params import TrackStatus
from f1analyzer.simulation.core.state import RaceState
from f1analyzer.simulation.planning.undercut import undercut

from .conftest import make_race


def _race(**kw):
    return make_race((0.0, 0.1, 0.2, 0.3, 0.4, 0.5), total_laps=50, noise_sd_s=0.2, **kw)


def _state(lap=25, status=TrackStatus.GREEN, age=25, used=None, stops=0):
    return RaceState(lap=lap, position=[1, 2, 3, 4, 5, 6], gap_to_leader_s=[0, 1.5, 3, 4.5, 6, 7.5],
                     compound=["MEDIUM"] * 6, tyre_age_laps=[age] * 6, stops_done=[stops] * 6,
                     track_status=status, compounds_used=used, neutral_laps_remaining=3)


def test_free_stop_under_safety_car_is_taken():
    race = _race(pit_loss_sc_s=1.0)
    # 12-lap-old mediums: under green the stop is not due yet ...
    green = advise(race, _state(age=12), "C02", n_sims=200, seed=0)
    assert green.action == STAY_OUT
    # ... but the same car boxes when a Safety Car makes the stop (almost) free
    adv = advise(race, _state(status=TrackStatus.SC, age=12), "C02", n_sims=200, seed=0)
    assert adv.action == BOX_UNDER_SC
    assert adv.best_compound in ("SOFT", "HARD")
    assert adv.gain_vs_alternative > 0
    assert {o.label for o in adv.options} >= {STAY_OUT, "BOX_HARD"}


def test_box_now_to_the_flag_is_always_weighed_on_each_legal_compound():
    """Issue 11: next to the best multi-stop rest of race, "box now and run to the flag" on every
    compound the two-compound rule allows (here: not MEDIUM, the only compound used so far)."""
    race = _race()
    adv = advise(race, _state(lap=25, age=20), "C02", n_sims=100, seed=0)
    labels = {o.label for o in adv.options}
    assert {"BOX_SOFT_TO_FLAG", "BOX_HARD_TO_FLAG", "BOX_SOFT", "BOX_HARD", "BOX_MEDIUM", STAY_OUT} <= labels
    assert "BOX_MEDIUM_TO_FLAG" not in labels  # medium to the flag would break the two-compound rule
    for o in adv.options:
        if o.to_flag:
            assert o.strategy.n_stops == 1 and o.strategy.stops[0] == (26, o.compound)
        elif o.compound is not None:
            assert o.strategy.stops[0] == (26, o.compound) and o.strategy.n_stops >= 2
        d = o.to_dict()
        assert 0 <= d["p_win"] <= d["p_podium"] <= 1 and 0 <= d["p_dnf"] <= 1
    if adv.best_compound is not None:
        assert adv.best_compound in ("SOFT", "MEDIUM", "HARD")


def test_fresh_tyres_and_rule_done_stay_out():
    race = _race()
    state = _state(lap=30, age=2, used=[["HARD", "MEDIUM"]] * 6, stops=1)
    adv = advise(race, state, "C02", n_sims=200, seed=0)
    assert adv.action == STAY_OUT and adv.best_compound is None


def test_advisor_bad_driver_lists_field():
    with pytest.raises(InvalidRequestError, match="C00, C01"):
        advise(_race(), _state(), "VER")


def test_undercut_closed_form_matches_hand_calculation():
    race = _race(min_gap_s=0.3)
    state = _state(lap=20, age=20)
    u = undercut(race, state, "C02", "C01", compound="HARD", max_delay_laps=4)
    med, hard = race.compounds["MEDIUM"], race.compounds["HARD"]
    # lap 21: both on old mediums (ages 20); laps 22..: C01 old medium (21..), C02 hard (0..)
    pre = (0.1 + med.lap_delta_s(20)) - (0.2 + med.lap_delta_s(20))
    gains = [(0.1 + med.lap_delta_s(21 + j)) - (0.2 + hard.lap_delta_s(j)) for j in range(4)]
    np.testing.assert_allclose(u.gain_per_lap_s, gains, rtol=1e-5)
    np.testing.assert_allclose(u.margin_s, -1.5 + pre + np.cumsum(gains), rtol=1e-5)
    first = int(np.argmax(u.margin_s >= 0.3)) + 1
    assert u.works_after_laps == first and u.undercut_lap == 21 + first
    np.testing.assert_allclose(u.gap_needed_s, pre + gains[0] - 0.3, rtol=1e-5)


def test_undercut_fails_when_gap_too_big_and_mc_runs():
    race = _race()
    state = dataclasses.replace(_state(lap=20, age=5), gap_to_leader_s=[0, 40, 41, 42, 43, 44])
    u = undercut(race, state, "C01", "C00", max_delay_laps=3, n_sims=50)
    assert u.works_after_laps is None and u.undercut_lap is None
    assert 0 <= u.mc_prob_ahead_box <= 1 and 0 <= u.mc_prob_ahead_stay <= 1
    with pytest.raises(InvalidRequestError, match="valid laps"):
        undercut(race, state, "C01", "C00", pit_lap=60)


def _wet_state(n_wet: int, retired=None):
    comps = ["INTERMEDIATE"] * n_wet + ["MEDIUM"] * (6 - n_wet)
    return RaceState(lap=20, position=[1, 2, 3, 4, 5, 6], gap_to_leader_s=[0, 1.5, 3, 4.5, 6, 7.5],
                     compound=comps, tyre_age_laps=[20] * 6, stops_done=[0] * 6, track_status=TrackStatus.SC,
                     compounds_used=[[c] for c in comps], retired=retired, neutral_laps_remaining=3)


def test_no_call_is_priced_on_a_wet_track():
    """2022 Marina Bay lap 21: the field on old intermediates under a SC. The dry simulator would box
    everyone onto slicks (their offsets against the illustrative wet parameters); it says it cannot
    price the call instead, for a car on wet tyres and one on slicks alike."""
    race = _race()
    for driver in ("C00", "C05"):
        with pytest.raises(InvalidRequestError) as err:
            advise(race, _wet_state(4), driver, n_sims=50, seed=0)
        assert err.value.message.startswith("Wet track: 4 of 6 running cars are on wet-weather tyres.")
        assert "no model of a wet or drying track" in err.value.message


def test_calls_resume_when_most_of_the_field_is_on_slicks():
    race = _race()
    # half the field on intermediates is not a wet track: the car still on them gets the dry options
    adv = advise(race, _wet_state(3), "C00", n_sims=50, seed=0)
    assert adv.action in (BOX_UNDER_SC, STAY_OUT)
    assert {"BOX_SOFT_TO_FLAG", "BOX_MEDIUM_TO_FLAG", "BOX_HARD_TO_FLAG"} & {o.label for o in adv.options}
    # retired cars do not count: 4 of 6 on intermediates but two of them out leaves 2 of 4
    retired = [True, True, False, False, False, False]
    assert wet_track_reason(_wet_state(4, retired=retired)) is None
    assert wet_track_reason(_wet_state(4)) is not None


def _rates(log_odds: float):
    """A field that (almost) always boxes (log-odds > 0) or never does, at any SC/VSC start."""
    from f1analyzer.models.neutral_stops import FEATURES, NeutralStopRates

    return NeutralStopRates.from_dict({"features": list(FEATURES), "coef": [0.0] * len(FEATURES),
                                       "intercept": log_odds, "n_spots": 100, "base_rate": 0.5})


def _close(a, n_sims):
    """Too close to call: within two standard errors, or a fifth of the per-race spread."""
    se = a.gain_vs_alternative_se
    return abs(a.gain_vs_alternative) <= max(2 * se, 0.2 * se * np.sqrt(n_sims))


def test_more_simulations_do_not_make_a_small_difference_a_clear_call():
    """The effect-size bound: with 30 races the standard error decides, with 1,000 a difference
    under a fifth of its race-to-race spread is still too close to call."""
    race = _race()
    by_effect_only = 0
    for lap, age in ((34, 8), (36, 8), (40, 8), (42, 20)):  # late, compounds done: close spots
        state = _state(lap=lap, status=TrackStatus.SC, age=age, used=[["HARD", "MEDIUM"]] * 6, stops=1)
        for n in (30, 1000):
            a = advise(race, state, "C02", n_sims=n, seed=3)
            assert a.too_close_to_call == _close(a, n)
            by_effect_only += a.too_close_to_call and abs(a.gain_vs_alternative) > 2 * a.gain_vs_alternative_se
    assert by_effect_only >= 1  # separable by its standard error with 1,000 races, still a small effect


def test_a_call_too_close_to_call_under_a_safety_car_follows_the_field():
    """Within two Monte Carlo standard errors the simulation cannot separate box and stay: under a
    SC/VSC the call is the one most cars made in that spot; a clear call is never overturned."""
    from f1analyzer.simulation.planning.advisor import close_call_note

    race = _race(pit_loss_sc_s=12.0)
    close = flipped = 0
    for status in (TrackStatus.SC, TrackStatus.VSC):
        for age in range(4, 34, 3):
            state = _state(status=status, age=age)
            plain = advise(race, state, "C02", n_sims=30, seed=1)
            assert plain.field_box_rate is None and plain.decided_by == "simulation"
            for log_odds, want in ((8.0, BOX_UNDER_SC), (-8.0, STAY_OUT)):
                a = advise(race, state, "C02", n_sims=30, seed=1, stop_rates=_rates(log_odds), season=2023)
                assert a.field_box_rate == pytest.approx(1 / (1 + np.exp(-log_odds)), abs=1e-4)
                assert a.too_close_to_call == plain.too_close_to_call
                assert a.too_close_to_call == _close(plain, 30)
                if not a.too_close_to_call:
                    assert a.action == plain.action and a.decided_by == "simulation"
                    assert close_call_note(a) is None
                    continue
                close += 1
                flipped += a.decided_by == "field_history"
                assert a.action == want
                assert a.decided_by == ("simulation" if plain.action == want else "field_history")
                # the reported option and margin are those of the call made
                assert (a.options[0].label == STAY_OUT) == (want == STAY_OUT)
                assert a.expected_position == a.options[0].expected_position
                note = close_call_note(a)
                assert note.startswith("Too close to call") and f"{100 * a.field_box_rate:.0f}%" in note
    assert close >= 2 and flipped >= 1  # the sweep meets close calls, and the field overturns one


def test_a_close_call_under_green_is_flagged_but_stays_the_simulations():
    race = _race()
    for age in range(10, 40, 3):
        plain = advise(race, _state(age=age), "C02", n_sims=20, seed=2)
        a = advise(race, _state(age=age), "C02", n_sims=20, seed=2, stop_rates=_rates(8.0), season=2023)
        assert a.field_box_rate is None and a.decided_by == "simulation"
        assert a.action == plain.action and a.too_close_to_call == plain.too_close_to_call


def test_a_red_flag_change_is_free_and_the_field_makes_its_stops_then():
    from f1analyzer.simulation.core.strategy import Strategy
    from f1analyzer.simulation.planning.advisor import BOX_UNDER_RED, changes_in_suspension, continuation_plans

    race = _race(pit_loss_sc_s=12.0)
    sc_state = _state(status=TrackStatus.SC, age=12)
    red_state = dataclasses.replace(sc_state, red_flag=True)
    # the field's plans: the next stop brought to the lap being run, a plan with none left kept
    plans = [Strategy("MEDIUM", ((20, "HARD"), (30, "SOFT"))), Strategy("MEDIUM", ((20, "HARD"),)),
             Strategy("MEDIUM", ((26, "HARD"),))]
    moved = changes_in_suspension(plans, red_state)
    assert moved[0].stops == ((20, "HARD"), (26, "SOFT"))
    assert moved[1] == plans[1] and moved[2] == plans[2]
    # the same field, the same draws: only the price of the changes differs (12 s under the SC,
    # nothing in the suspension); every car with a stop left makes it now, so C02's box options
    # keep their places and are 12 s quicker
    field = changes_in_suspension(continuation_plans(race, sc_state, sc_window_laps=3), red_state)
    sc = advise(race, sc_state, "C02", n_sims=200, seed=0, field_plans=field)
    red = advise(race, red_state, "C02", n_sims=200, seed=0, field_plans=field)
    assert red.action == BOX_UNDER_RED and red.track_status == "RED" and sc.track_status == "SC"
    assert red.field_box_rate is None and red.decided_by == "simulation"
    for o in red.options:
        if o.compound is not None:
            same = next(x for x in sc.options if x.label == o.label)
            assert o.expected_position <= same.expected_position
            assert o.race_time_p50_s == pytest.approx(same.race_time_p50_s - 12.0, abs=1.5)
    # and staying out gains nothing on the others' changes, which are free too
    stay = [next(x for x in a.options if x.label == STAY_OUT).expected_position for a in (sc, red)]
    assert stay[1] > stay[0]
