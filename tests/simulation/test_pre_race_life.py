"""The pre-race tyre life moved halfway towards the circuit's earlier first stops, in a built race
(synthetic store: Bahrain is round 2 of 2022 and of 2023, its 2022 cars stopping first on laps
15–25), and the replay racing given plans on the life read from where stints ended."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from f1analyzer.data.session import Race
from f1analyzer.data.store import RaceStore
from f1analyzer.simulation.planning.screen import default_field_strategies
from f1analyzer.simulation.scenario.build import build_race
from f1analyzer.simulation.scenario.replay import replay
from f1analyzer.simulation.scenario.tyre_today import history_yardstick, pre_race_life, with_life_factor
from tests.factories import fill_store, strategy_env, strategy_laps


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    store, models = strategy_env(tmp_path_factory.mktemp("prerace_life"))
    return store, models


def _first_stops(params) -> float:
    return float(np.mean([s.pit_laps[0] for s in default_field_strategies(params) if s.pit_laps]))


def test_a_race_with_history_gets_the_halfway_life_and_says_so(env):
    store, models = env
    built = build_race(2023, "Bahrain", models=models, store=store)
    expected = history_yardstick(store, built)
    assert expected  # the 2022 race is the yardstick
    assert built.life_factor != 1.0 and any("halfway to where the earlier races at Bahrain International Circuit" in n for n in built.notes)
    plain = built.stint_end_params()
    assert plain is not built.params
    # the life moved towards the history: the field's first stops moved towards its laps
    hist = float(np.mean(list(expected.values())))
    before, after = _first_stops(plain), _first_stops(built.params)
    assert abs(after - hist) < abs(before - hist)
    # the moved life is the basis an in-race update starts from: factor 1 keeps the pre-race race
    same = with_life_factor(plain, built.tyre_basis, 1.0 + 1e-6)
    assert all(same.compounds[c].cliff_lap == built.params.compounds[c].cliff_lap for c in plain.dry_compounds)


def test_a_replay_races_the_real_plans_on_the_stint_end_life(env):
    store, models = env
    built = build_race(2023, "Bahrain", models=models, store=store, pre_race=False)
    race = Race(2023, built.round, store=store)
    plain = replace(built, params=built.stint_end_params(), life_factor=1.0)
    a = replay(built, race, from_lap=1, n_sims=30, seed=4)
    b = replay(plain, race, from_lap=1, n_sims=30, seed=4)
    assert a["drivers"] == b["drivers"]
    moved = replace(built, life_factor=1.0)  # the moved life raced as if it were the stint-end one
    assert replay(moved, race, from_lap=1, n_sims=30, seed=4)["drivers"] != a["drivers"]


def test_no_earlier_race_no_move(env):
    store, models = env
    built = build_race(2022, "Bahrain", models=models, store=store)
    assert built.life_factor == 1.0 and built.stint_end_params() is built.params
    assert not any("halfway" in n for n in built.notes)


def test_the_move_uses_no_hindsight(env, tmp_path):
    """Without 2023 in the store (the race itself and what came after) the move is the same."""
    store, models = env
    laps = strategy_laps()
    earlier = RaceStore(tmp_path / "store")
    fill_store(earlier, laps[laps["season"] < 2023])
    full = build_race(2023, "Bahrain", models=models, store=store)
    # an unstored 2023 Bahrain (same field from the models) sees the same history
    assert history_yardstick(earlier, full) == history_yardstick(store, full)
    _, _, factor = pre_race_life(full.stint_end_params(), full.tyre_basis.__class__(
        full.tyre_basis.compounds_before_life,
        {c: {k: v / full.life_factor for k, v in lf.items()} for c, lf in full.tyre_basis.life.items()},
        full.tyre_basis.pit_loss_s), history_yardstick(earlier, full))
    assert factor == pytest.approx(full.life_factor)


def test_venue_history_reads_a_race_once_per_version_of_its_season_file(tmp_path, monkeypatch):
    """The modal plans are cached per season file version: a new ingest (a new file) is read anew,
    and a caller's edit never reaches the cache."""
    import os

    from f1analyzer.simulation.scenario import field_plans

    laps = strategy_laps()
    store = RaceStore(tmp_path / "store")
    fill_store(store, laps[laps["season"] < 2023])
    reads = []
    real = field_plans._race_entry
    monkeypatch.setattr(field_plans, "_race_entry", lambda st, s, r: reads.append((s, r)) or real(st, s, r))
    first = field_plans.venue_history(store, "bahrain", 2023, 2)
    assert [(h["season"], h["round"]) for h in first] == [(2022, 2)] and reads == [(2022, 2)]
    first[0]["compounds"].append("WET")
    again = field_plans.venue_history(store, "bahrain", 2023, 2)
    assert reads == [(2022, 2)] and again[0]["compounds"] == first[0]["compounds"][:-1]
    path = next(p for s, _, p in store.season_files() if s == 2022)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # what a re-ingest does to the file
    assert field_plans.venue_history(store, "bahrain", 2023, 2) == again and reads == [(2022, 2), (2022, 2)]
