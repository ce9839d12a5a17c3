"""Replays of stored races from their real state: synthetic store, and a real race (realdata)."""

from __future__ import annotations

import numpy as np
import pytest

from f1analyzer.data.session import Race
from f1analyzer.errors import InvalidRequestError
from f1analyzer.simulation.scenario.build import build_race
from f1analyzer.simulation.core.params import TrackStatus
from f1analyzer.simulation.scenario.replay import Change, real_plans, real_state, replay, spearman, track_schedule
from tests.simulation.test_build import synthetic_env


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    store, models = synthetic_env(tmp_path_factory.mktemp("replay"))
    built = build_race(2023, "Monza", models=models, store=store, pre_race=False)
    return store, models, built, Race(2023, "Monza", store=store)


def test_change_parsing():
    assert Change.parse("ver:pit=18:hard") == Change("VER", "pit", lap=18, compound="HARD")
    assert Change.parse("LEC:plan=M-20-H").plan == "M-20-H"
    assert Change.parse("NOR:nostop").kind == "nostop"
    with pytest.raises(InvalidRequestError, match="VER:pit=18:HARD"):
        Change.parse("VER pits on 18")


def test_real_state_matches_the_laps(env):
    _, _, built, race = env
    p = built.params
    laps = race.laps
    lap = 20
    st = real_state(race, p, lap)
    st.validate(p)
    at = laps[laps["lap_number"] == lap].set_index("driver")
    leader = at["session_time_s"].idxmin()
    assert st.position[p.car_index(leader)] == 1 and st.gap_to_leader_s[p.car_index(leader)] == 0
    stops = race.pit_stops
    for i, car in enumerate(p.cars):
        made = stops[(stops["driver"] == car.driver) & (stops["lap"] <= lap)]
        assert st.stops_done[i] == len(made)
        if not (len(made) and int(made["lap"].iloc[-1]) == lap):
            assert st.compound[i] == at.loc[car.driver, "compound"]
            assert st.tyre_age_laps[i] == int(at.loc[car.driver, "tyre_life_laps"])
    # monza had a Safety Car on laps 30-33: the schedule and a state inside it say so
    sched = track_schedule(race, p.total_laps)
    assert list(np.flatnonzero(sched == TrackStatus.SC) + 1) == [30, 31, 32, 33]
    sc_state = real_state(race, p, 29, schedule=sched)
    assert sc_state.track_status == TrackStatus.SC and sc_state.neutral_laps_remaining == 4


def test_real_plans_are_the_real_stops(env):
    _, _, built, race = env
    p = built.params
    st = real_state(race, p, 5)
    plans, fixed = real_plans(race, p, st)
    stops = race.pit_stops
    for car, plan in zip(p.cars, plans):
        real = stops[stops["driver"] == car.driver]
        assert list(plan.pit_laps) == [int(x) for x in real["lap"] if x > 5]
    assert fixed == []


def test_replay_reproduces_the_synthetic_race(env):
    _, _, built, race = env
    out = replay(built, race, from_lap=1, n_sims=200, seed=1)
    assert out["real_winner"] == race.results["driver"].iloc[0]
    assert len(out["drivers"]) == 20 and out["simulated_order"][0] == out["drivers"][0]["driver"]
    assert out["spearman"] > 0.5
    assert sum(d["p_win"] for d in out["drivers"]) == pytest.approx(1.0, abs=1e-6)
    # the finishers' order at E[pos] if classified: the same cars' real positions, computed apart
    fin = [d for d in out["drivers"] if d["real_finished"]]
    assert 2 <= len(fin) <= 20
    assert out["spearman_classified"] == pytest.approx(
        spearman([d["expected_position_if_classified"] for d in fin], [d["real_position"] for d in fin]))
    late = replay(built, race, from_lap=45, n_sims=100, seed=1)
    assert late["spearman"] >= out["spearman"] - 0.05  # five laps from the end, order is nearly set


def test_a_replay_replays_the_real_retirements_like_the_real_safety_cars(env, tmp_path):
    """Retirements are events of the race, not its plans or pace: by default each car that
    retired retires on its lap in every simulated race and nobody else does."""
    from f1analyzer.data.store import RaceStore
    from f1analyzer.simulation.scenario.replay import real_retire_laps
    from tests.factories import fill_store, strategy_laps

    _, models, _, _ = env
    laps = strategy_laps()
    monza = (laps["season"] == 2023) & (laps["event"].str.contains("Ital"))
    drivers = sorted(laps.loc[monza, "driver"].unique())
    gone = {drivers[3]: 20, drivers[11]: 35}  # two retirements: laps completed
    drop = np.zeros(len(laps), dtype=bool)
    for d, n in gone.items():
        drop |= (monza & (laps["driver"] == d) & (laps["lap_number"] > n)).to_numpy()
    laps = laps[~drop]
    store = RaceStore(tmp_path / "store")
    fill_store(store, laps.reset_index(drop=True))
    built = build_race(2023, "Monza", models=models, store=store, pre_race=False)
    race = Race(2023, "Monza", store=store)
    p = built.params
    res = race.results
    out_cars = set(res.loc[~res["finished"].astype(bool), "driver"].astype(str))
    assert out_cars == set(gone)
    retire = real_retire_laps(race, p)
    done = race.laps.groupby("driver")["lap_number"].max()
    for car, lap in zip(p.cars, retire):
        assert (lap is None) == (car.driver not in out_cars)
        if lap is not None:
            assert lap == int(done.get(car.driver, 0)) + 1
    real = replay(built, race, from_lap=1, n_sims=200, seed=3)
    sampled = replay(built, race, from_lap=1, n_sims=200, seed=3, retirements="sampled")
    assert real["retirements"] == "real" and sampled["retirements"] == "sampled"
    for d in real["drivers"]:
        assert d["p_retired"] == (1.0 if d["driver"] in out_cars else 0.0)
    # sampled: the fitted retirement rates (none in these synthetic seasons), whoever retired
    assert all(d["p_retired"] < 1.0 for d in sampled["drivers"] if d["driver"] in out_cars)
    # the retired cars end at the back, later retirements ahead, as classified
    back = real["simulated_order"][-len(out_cars):]
    assert set(back) == out_cars
    assert real["spearman"] >= sampled["spearman"]
    with pytest.raises(InvalidRequestError, match="retirements must be"):
        replay(built, race, from_lap=1, n_sims=10, retirements="none")
    assert sorted(x for x in retire if x is not None) == [21, 36]
    # a car already out at the replay's start lap is the state's business
    assert sorted(x for x in real_retire_laps(race, p, from_lap=25) if x is not None) == [36]
    from_25 = replay(built, race, from_lap=25, n_sims=50, seed=3)
    assert all(d["p_retired"] == 1.0 for d in from_25["drivers"] if d["driver"] in gone)


def test_replay_with_changes(env):
    _, _, built, race = env
    winner = race.results["driver"].iloc[0]
    start = built.params.cars[built.params.car_index(winner)].start_compound
    new = "SOFT" if start != "SOFT" else "MEDIUM"
    base = replay(built, race, from_lap=1, n_sims=150, seed=2)
    worse = replay(built, race, from_lap=1, n_sims=150, seed=2, changes=[f"{winner}:pit=3:{new}"])
    row = next(d for d in worse["drivers"] if d["driver"] == winner)
    assert row["changed"] and row["strategy"].split("-")[1] == "3"
    assert worse["changes"] == [f"{winner}:pit=3:{new}"]
    b = next(d for d in base["drivers"] if d["driver"] == winner)
    assert row["expected_position"] >= b["expected_position"] - 0.5
    with pytest.raises(InvalidRequestError, match=r"valid laps are 2\.\.49"):
        replay(built, race, from_lap=1, n_sims=10, changes=[f"{winner}:pit=60:HARD"])
    with pytest.raises(InvalidRequestError, match="Drivers in this race"):
        replay(built, race, from_lap=1, n_sims=10, changes=["ZZZ:pit=20:HARD"])
    with pytest.raises(InvalidRequestError, match=r"valid laps are 0\.\.49"):
        replay(built, race, from_lap=80, n_sims=10)


def test_spearman():
    assert spearman([1, 2, 3, 4], [1, 2, 3, 4]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert np.isnan(spearman([1, 1], [1, 2]))


@pytest.mark.realdata
def test_replay_real_race_from_lap_1(tmp_path, data_dir):
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.store import RaceStore
    from f1analyzer.models.bundled import load_bundled_models

    store = RaceStore(tmp_path / "store")
    [res] = ingest_files([data_dir / "laps" / "2024.csv.gz"], store)
    assert res.ok
    built = build_race(2024, "Bahrain", models=load_bundled_models(), store=store, pre_race=False)
    out = replay(built, Race(2024, "Bahrain", store=store), from_lap=1, n_sims=400, seed=0)
    assert out["real_winner"] == "VER"
    assert out["simulated_order"][0] == "VER" and out["p_real_winner_wins"] > 0.4
    assert out["spearman"] > 0.7


@pytest.fixture(scope="module")
def real_2021_2022(data_dir, tmp_path_factory):
    """Store and race models of the 2021 and 2022 seasons (the reproductions of issue 11)."""
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.store import RaceStore
    from f1analyzer.models.race_models import RaceModels

    store = RaceStore(tmp_path_factory.mktemp("store"))
    results = ingest_files([data_dir / "laps" / f"{s}.csv.gz" for s in (2021, 2022)], store)
    assert all(r.ok for r in results)
    return store, RaceModels().fit(store.laps(), store.races(), store.pit_stops())


@pytest.mark.realdata
def test_verstappen_stop_under_sc_abu_dhabi_2021_is_not_a_mistake(real_2021_2022):
    """The free stop under the lap-53 Safety Car: boxing beats staying out."""
    store, models = real_2021_2022
    built = build_race(2021, "Abu Dhabi", models=models, store=store, pre_race=False)
    race = Race(2021, "Abu Dhabi", store=store)
    real = replay(built, race, from_lap=52, n_sims=1000, seed=0)
    stay = replay(built, race, from_lap=52, n_sims=1000, seed=0, changes=["VER:nostop"])
    ver = {r["driver"]: r for r in real["drivers"]}["VER"]
    ver_stay = {r["driver"]: r for r in stay["drivers"]}["VER"]
    assert "53" in ver["strategy"]
    # one racing lap after the restart: the fresh softs must come out ahead of staying out (the
    # margin is small with the pooled tyre model's gentle wear of HAM's 40-lap hards)
    assert ver["p_win"] > ver_stay["p_win"]
    assert ver["expected_position"] < ver_stay["expected_position"]


@pytest.mark.realdata
def test_old_hards_do_not_hold_off_fresh_softs_silverstone_2022(real_2021_2022):
    """From lap 38 LEC stays out on old hards behind the SC; the field on new softs gets by."""
    store, models = real_2021_2022
    built = build_race(2022, "Silverstone", models=models, store=store, pre_race=False)
    out = replay(built, Race(2022, "Silverstone", store=store), from_lap=38, n_sims=1000, seed=0)
    rows = {r["driver"]: r for r in out["drivers"]}
    assert rows["LEC"]["p_win"] < 0.6
    assert rows["SAI"]["p_win"] > 0.2  # the real winner


@pytest.mark.realdata
def test_the_red_flag_changes_of_albert_park_2023_cost_nothing_in_its_replay(tmp_path, data_dir, monkeypatch):
    """Every car changed tyres in the suspensions of laps 8 and 54-57 but the two that had stopped
    under the lap-7 Safety Car: charged as SC stops, the changes cost the field ~12 s each and
    handed those two cars places they never had."""
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.store import RaceStore
    from f1analyzer.models.bundled import load_bundled_models
    from f1analyzer.simulation.scenario import replay as replay_module

    store = RaceStore(tmp_path / "store")
    [res] = ingest_files([data_dir / "laps" / "2023.csv.gz"], store)
    assert res.ok
    race = Race(2023, 3, store=store)
    built = build_race(2023, 3, models=load_bundled_models(), store=store, pre_race=False)
    out = replay(built, race, from_lap=1, n_sims=300, seed=0)
    assert any(n.startswith("red flag: the tyre changes made in the suspension (in-lap 8, 54, 55, 57)")
               for n in out["notes"])
    monkeypatch.setattr(replay_module, "red_flag_laps", lambda race: [])
    charged = replay(built, race, from_lap=1, n_sims=300, seed=0)
    assert not any(n.startswith("red flag") for n in charged["notes"])
    assert out["spearman"] > charged["spearman"] + 0.05
    # sampled track status: no real suspension to replay, so nothing is free
    sampled = replay(built, race, from_lap=1, n_sims=50, seed=0, track_status="sampled")
    assert not any(n.startswith("red flag") for n in sampled["notes"])
