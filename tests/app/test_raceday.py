"""Race-day calls: a snapshot becomes a race state, every running car gets a call, a rejoin and
threats (synthetic store; the pre-race build, as the optimiser uses)."""

from __future__ import annotations

import dataclasses

import pytest

from f1analyzer.app.raceday import (
    BOX_IN,
    FieldAdvisor,
    StateTracker,
    raceday_build,
    snapshot_state,
    summarise_calls,
)
from f1analyzer.data.feeds.replay import ReplayFeed
from f1analyzer.simulation.core.params import TrackStatus
from f1analyzer.simulation.core.pitloss import stop_loss_s
from f1analyzer.simulation.planning.advisor import BOX_NOW, BOX_UNDER_SC, STAY_OUT
from tests.factories import strategy_env
from tests.models.test_fit_race_models import TOTAL_LAPS

CALLS = {BOX_NOW, BOX_UNDER_SC, STAY_OUT, BOX_IN}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    store, models = strategy_env(tmp_path_factory.mktemp("raceday"))
    built = raceday_build(models, store, 2023, "Monza")
    snaps = {s.lap: s for s in ReplayFeed(store, 2023, "Monza", speed=0).snapshots()}
    return store, built, snaps


def test_pre_race_build_saw_no_race_of_its_own(env):
    _, built, _ = env
    assert built.pre_race and built.data_used.get("cutoff") is not None


def test_snapshot_state_follows_the_feed(env):
    _, built, snaps = env
    params = built.params
    snap = snaps[20]
    state = snapshot_state(built, snap)
    for c in snap.cars:
        i = params.car_index(c.driver)
        assert state.position[i] == c.position
        assert state.gap_to_leader_s[i] == pytest.approx(c.gap_to_leader_s, abs=params.min_gap_s + 1e-6)
        assert (state.compound[i], state.tyre_age_laps[i], state.stops_done[i]) == (c.compound, c.tyre_life, c.stops)
    assert state.track_status == TrackStatus.GREEN and state.lap == 20


def test_a_car_in_the_pits_drops_back_by_the_stop_loss(env):
    _, built, snaps = env
    params = built.params
    lap, car = next((lap, c) for lap, s in sorted(snaps.items()) for c in s.cars if c.in_pit and c.position <= 5)
    state = snapshot_state(built, snaps[lap])
    i = params.car_index(car.driver)
    loss = stop_loss_s(params, TrackStatus.GREEN if snaps[lap].track_status == "GREEN" else TrackStatus.SC)
    lead = min(g for g, r in zip(state.gap_to_leader_s, state.retired) if not r)
    assert state.gap_to_leader_s[i] + lead == pytest.approx(car.gap_to_leader_s + loss, abs=0.5)
    assert state.position[i] > car.position and state.tyre_age_laps[i] == 0


def test_missing_cars_retire_and_unknown_compounds_keep_the_last_known(env):
    _, built, snaps = env
    snap = snaps[20]
    first, second = snap.cars[0], snap.cars[1]
    tracker = StateTracker()
    tracker.update(snap)
    changed = dataclasses.replace(snap, cars=(dataclasses.replace(first, compound=None, tyre_life=None),
                                              *snap.cars[2:]), lap=21)
    state = snapshot_state(built, changed, tracker)
    i, j = built.params.car_index(first.driver), built.params.car_index(second.driver)
    assert state.compound[i] == first.compound and state.tyre_age_laps[i] == 0
    assert state.retired[j] and state.position[j] == 20


def test_every_running_car_gets_a_call_a_rejoin_and_threats(env):
    _, built, snaps = env
    advisor = FieldAdvisor(built, n_sims=40, max_advised=3)
    out = advisor.update(snaps[12])
    assert [c["position"] for c in out["calls"]] == list(range(1, 21))
    assert 1 <= len(out["advised"]) <= 3
    for c in out["calls"]:
        assert c["call"] in CALLS
        assert 1 <= c["rejoin"]["rejoin_position"] <= 20
        assert c["rejoin"]["rejoin_position"] >= c["position"] or c["rejoin"]["free_stop"]
        assert len(c["threats"]) == (1 if c["position"] in (1, 20) else 2)
        if c["source"] == "advisor":
            assert c["margin_places"] is not None and c["margin_se"] >= 0
            assert isinstance(c["too_close_to_call"], bool) and (c["close_call_note"] is not None) == c["too_close_to_call"]
            assert c["decided_by"] in ("simulation", "field_history")
        else:
            assert c["margin_places"] is None and c["decided_by"] is None and c["close_call_note"] is None
        if c["call"] == BOX_IN:
            assert 2 <= c["box_in_laps"] <= advisor.window_laps
    # the same snapshot gives the same calls (seeded)
    again = FieldAdvisor(built, n_sims=40, max_advised=3).update(snaps[12])
    assert [c["call"] for c in again["calls"]] == [c["call"] for c in out["calls"]]


def test_under_the_safety_car_free_stops_are_advised_first(env):
    _, built, snaps = env
    advisor = FieldAdvisor(built, n_sims=40, max_advised=4)
    for lap in range(25, 30):
        out = advisor.update(snaps[lap])
    assert out["track_status"] == "SC" and advisor.tracker.status_laps == 1
    rows = {c["driver"]: c for c in out["calls"]}
    advised = [rows[d] for d in out["advised"]]
    free = [c for c in out["calls"] if c["rejoin"]["free_stop"]]
    assert len(advised) == min(4, len(out["calls"]))
    assert free  # the last car at least loses no place
    assert advised[0]["rejoin"]["free_stop"]
    assert all(c["call"] != BOX_NOW for c in out["calls"])  # a stop now is a stop under the SC


def test_no_calls_on_the_last_lap_and_a_summary_of_box_calls(env):
    _, built, snaps = env
    advisor = FieldAdvisor(built, n_sims=20, max_advised=2)
    assert advisor.update(snaps[TOTAL_LAPS])["calls"] == []
    history = [{"lap": 10, "track_status": "GREEN", "calls": [{"driver": "D01", "call": STAY_OUT}]},
               {"lap": 11, "track_status": "GREEN", "calls": [{"driver": "D01", "call": BOX_NOW, "next_compound": "HARD",
                                                               "margin_places": 0.4, "source": "advisor"}]},
               {"lap": 12, "track_status": "GREEN", "calls": [{"driver": "D01", "call": BOX_NOW}]}]
    assert summarise_calls(history) == [{"lap": 11, "driver": "D01", "call": BOX_NOW, "compound": "HARD",
                                         "margin_places": 0.4, "source": "advisor", "track_status": "GREEN"}]


@pytest.mark.realdata
def test_jeddah_2024_safety_car_calls_to_box(tmp_path, data_dir):
    """2024 Jeddah: the lap-7 Safety Car, under which 14 cars boxed. Replayed as live, the cars
    given the full advice at the first SC snapshot are told to box under it, their rejoin under
    the SC is priced with the SC loss, and the real stops of the next lap are in the feed."""
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.store import RaceStore
    from f1analyzer.models.bundled import load_bundled_models
    from f1analyzer.simulation.scenario.build import build_race

    store = RaceStore(tmp_path / "store")
    [res] = ingest_files([data_dir / "laps" / "2024.csv.gz"], store)
    assert res.ok
    built = build_race(2024, "Jeddah", models=load_bundled_models(), store=store, pre_race=True)
    advisor = FieldAdvisor(built, n_sims=100, max_advised=5)
    snaps = {s.lap: s for s in ReplayFeed(store, 2024, "Jeddah", speed=0, from_lap=4).snapshots() if s.lap <= 7}
    for lap in (4, 5):
        advisor.update(snaps[lap])
    out = advisor.update(snaps[6])
    assert out["track_status"] == "SC"
    rows = {c["driver"]: c for c in out["calls"]}
    advised = [rows[d] for d in out["advised"]]
    assert len(advised) == 5
    assert sum(c["call"] == BOX_UNDER_SC for c in advised) >= 4
    # the rejoin is priced with the SC loss (others staying out), cheaper than a green stop
    green = stop_loss_s(built.params, TrackStatus.GREEN)
    assert rows["VER"]["rejoin"]["pit_loss_s"] == pytest.approx(stop_loss_s(built.params, TrackStatus.SC), abs=1e-3)
    assert rows["VER"]["rejoin"]["pit_loss_s"] < green - 5
    assert {"VER", "LEC", "PIA", "ALO"} <= {c.driver for c in snaps[7].cars if c.in_pit}


@pytest.mark.realdata
def test_marina_bay_2022_wet_safety_car_has_no_slick_calls(tmp_path, data_dir):
    """2022 Marina Bay: the lap-8 Safety Car with the whole field on intermediates (they went to
    slicks from lap 34). The dry simulator used to call "box onto HARD to the flag" for every car;
    replayed as live, the laps on the wet track carry no call and say why, and once most of the
    field is on slicks the calls come back."""
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.store import RaceStore
    from f1analyzer.models.bundled import load_bundled_models
    from f1analyzer.simulation.scenario.build import build_race

    store = RaceStore(tmp_path / "store")
    [res] = ingest_files([data_dir / "laps" / "2022.csv.gz"], store)
    assert res.ok
    built = build_race(2022, "Singapore", models=load_bundled_models(), store=store, pre_race=True)
    advisor = FieldAdvisor(built, n_sims=40, max_advised=3)
    snaps = {s.lap: s for s in ReplayFeed(store, 2022, "Singapore", speed=0).snapshots()}
    wet = advisor.update(snaps[8])
    assert wet["calls"] == [] and "Wet track:" in wet["note"] and "on wet-weather tyres" in wet["note"]
    late = advisor.update(snaps[45])
    assert late["calls"] and {c["call"] for c in late["calls"]} <= CALLS


def test_plan_cache_screens_again_only_where_a_plan_may_have_changed(env):
    from f1analyzer.app.raceday import PlanCache
    from f1analyzer.simulation.core.strategy import SC_OPPORTUNISM_LAPS
    from f1analyzer.simulation.planning.advisor import continuation_plan

    _, built, snaps = env
    params = built.params
    cache = PlanCache(params)
    s10, s11 = snapshot_state(built, snaps[10]), snapshot_state(built, snaps[11])
    first = cache.plans(s10)
    assert first == [continuation_plan(params, s10, i, sc_window_laps=SC_OPPORTUNISM_LAPS) for i in range(20)]
    second = cache.plans(s11)
    reused = fresh = 0
    for i in range(params.n_cars):
        near = first[i].stops and first[i].stops[0][0] <= 11 + 3
        same_tyres = (s10.compound[i], s10.stops_done[i]) == (s11.compound[i], s11.stops_done[i])
        if same_tyres and not near and (11 + i) % PlanCache.REFRESH_LAPS:
            assert second[i] is first[i]
            reused += 1
        else:
            assert second[i] == continuation_plan(params, s11, i, sc_window_laps=SC_OPPORTUNISM_LAPS)
            fresh += 1
    assert reused and fresh
    # under a Safety Car every plan is screened again
    sc = snapshot_state(built, snaps[29])
    assert cache.plans(sc) == [continuation_plan(params, sc, i, sc_window_laps=SC_OPPORTUNISM_LAPS)
                               for i in range(20)]


def test_advise_with_the_field_plans_given_is_the_same_advice(env):
    """Race-day mode hands ``advise`` the field's plans screened once; the answer must not change."""
    from f1analyzer.simulation.core.strategy import SC_OPPORTUNISM_LAPS
    from f1analyzer.simulation.planning.advisor import advise, continuation_plans

    _, built, snaps = env
    state = snapshot_state(built, snaps[14])
    driver = snaps[14].cars[3].driver
    a = advise(built.params, state, driver, n_sims=60, seed=1)
    b = advise(built.params, state, driver, n_sims=60, seed=1,
               field_plans=continuation_plans(built.params, state, sc_window_laps=SC_OPPORTUNISM_LAPS))
    assert a.to_dict() == b.to_dict()
    assert a.gain_vs_alternative_se > 0  # the options' finishing positions differ in some races


def test_a_car_left_without_a_legal_plan_does_not_stop_the_calls(env):
    """Lap 49 of 50 with a car that has run one compound only: no stop is possible any more and the
    two-compound rule cannot be met. The update still answers for every car."""
    _, built, snaps = env
    snap = snaps[49]
    odd = snap.cars[4]
    cars = tuple(dataclasses.replace(c, compounds_used=(c.compound,), stops=0) if c is odd else c for c in snap.cars)
    out = FieldAdvisor(built, n_sims=20, max_advised=2).update(dataclasses.replace(snap, cars=cars))
    rows = {c["driver"]: c for c in out["calls"]}
    assert len(rows) == 20 and rows[odd.driver]["call"] == STAY_OUT
    assert rows[odd.driver]["plan"] == odd.compound[0]  # to the flag on the set it has


def test_todays_tyre_life_follows_the_first_stops(env):
    store, built, snaps = env
    from f1analyzer.simulation.scenario.tyre_today import history_yardstick

    # the synthetic Monza of 2021-2022 is the yardstick; cars expected far later than they stop
    yard = history_yardstick(store, built)
    assert yard and set(yard) <= set(built.drivers)
    late = {d: 45 for d in built.drivers}
    advisor = FieldAdvisor(built, n_sims=20, max_advised=1, expected_first_stops=late)
    early = advisor.update(snaps[5])
    assert early["tyre_life"]["factor"] == 1.0 and early["tyre_life"]["n_cars"] == 0
    assert advisor.params is built.params
    for lap in range(6, 31):
        out = advisor.update(snaps[lap])
    life = out["tyre_life"]
    assert life["n_cars"] >= 15 and life["ratio"] < 0.6 and life["factor"] < 0.8 and "×" in life["note"]
    assert advisor.params is not built.params
    for c in built.params.dry_compounds:  # every dry set now gives up earlier
        assert advisor.params.compounds[c].cliff_lap < built.params.compounds[c].cliff_lap
    # without a yardstick the circuit's history stands
    plain_adv = FieldAdvisor(built, n_sims=20, max_advised=1)
    assert plain_adv.update(snaps[30])["tyre_life"]["factor"] == 1.0 and plain_adv.params is built.params


def test_a_feed_joined_late_does_not_date_the_stops_it_missed(env):
    _, built, snaps = env
    late = {d: 45 for d in built.drivers}
    advisor = FieldAdvisor(built, n_sims=20, max_advised=1, expected_first_stops=late)
    out = advisor.update(snaps[30])  # every car that stopped before lap 30: stop lap unknown
    stopped = {c.driver for c in snaps[30].cars if c.stops}
    assert stopped and all(advisor.tracker.first_stops[d] is None for d in stopped)
    assert out["tyre_life"]["n_cars"] == 0 and out["tyre_life"]["factor"] == 1.0
    joined = FieldAdvisor(built, n_sims=20, max_advised=1, expected_first_stops=late)
    joined.update(snaps[1])  # from the start: the stops are dated as they come
    for lap in range(2, 31):
        joined.update(snaps[lap])
    assert all(joined.tracker.first_stops[d] is not None for d in stopped)


def test_a_lap_on_a_wet_track_has_no_calls_and_says_why(env):
    _, built, snaps = env
    snap = snaps[20]
    # rain: every car but the last two on intermediates
    wet = dataclasses.replace(snap, cars=tuple(dataclasses.replace(c, compound="INTERMEDIATE") if k < len(snap.cars) - 2
                                               else c for k, c in enumerate(snap.cars)))
    adv = FieldAdvisor(built, n_sims=20, max_advised=2)
    out = adv.update(wet)
    assert out["calls"] == [] and out["advised"] == []
    n = len(snap.cars)
    assert out["note"].startswith(f"no calls this lap: Wet track: {n - 2} of {n} running cars are on wet-weather tyres.")
    # the next dry lap is advised again
    dry = adv.update(dataclasses.replace(snaps[21]))
    assert dry["calls"] and {c["call"] for c in dry["calls"]} <= CALLS


def test_in_a_red_flag_a_change_is_free_and_every_car_with_a_stop_left_makes_it(env):
    from f1analyzer.simulation.planning.advisor import BOX_UNDER_RED

    _, built, snaps = env
    lap = 12
    red = dataclasses.replace(snaps[lap], track_status="RED",
                              cars=tuple(dataclasses.replace(c, in_pit=True) for c in snaps[lap].cars))
    state = snapshot_state(built, red)
    # the cars wait in the pit lane in race order: nobody drops back, the restart is behind the SC
    assert state.red_flag and state.track_status == TrackStatus.SC
    assert sorted(state.position) == list(range(1, 21))
    assert [state.position[built.params.car_index(c.driver)] for c in red.cars] == [c.position for c in red.cars]
    advisor = FieldAdvisor(built, n_sims=40, max_advised=3)
    out = advisor.update(red)
    assert out["track_status"] == "RED"
    for c in out["calls"]:
        assert c["rejoin"]["free_stop"] and c["rejoin"]["rejoin_position"] == c["position"]
        if c["source"] == "screen":  # a stop left is made now; none left: the set is kept
            assert c["call"] == (BOX_UNDER_RED if c["box_in_laps"] is not None else STAY_OUT)
        if c["call"] == BOX_UNDER_RED:
            assert c["box_in_laps"] == 1
        else:
            assert c["call"] in (BOX_UNDER_RED, STAY_OUT) and c["field_box_rate"] is None
    assert any(c["call"] == BOX_UNDER_RED for c in out["calls"])
    assert all(s["call"] == BOX_UNDER_RED for s in summarise_calls([out]))
