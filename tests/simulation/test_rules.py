"""Tyre rules: stint caps, stop and compound rules keep every planned strategy legal.

One test per constraint on constructed races (optimiser, advisor, field plans), the event-rules
table and its user extension, and the 2023 Qatar regression on real data (realdata).
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pandas as pd
import pytest

from f1analyzer.errors import DataValidationError, InvalidRequestError
from f1analyzer.simulation.core.rules import TyreRules
from f1analyzer.simulation.core.state import RaceState
from f1analyzer.simulation.core.strategy import Strategy
from f1analyzer.simulation.planning.advisor import advise, continuation_plan
from f1analyzer.simulation.planning.optimiser import optimise
from f1analyzer.simulation.planning.screen import RELAXED, Screen, default_field_strategies
from f1analyzer.simulation.scenario.tyre_rules import learned_caps, rules_for
from tests.simulation.conftest import make_race

DRY = ("SOFT", "MEDIUM", "HARD")
CAP = 12
EVENT = TyreRules(max_laps_per_set={c: CAP for c in DRY}, source={"max_laps_per_set": "test event rule"})


def stints(strategy: Strategy, total_laps: int, from_lap: int = 0) -> list[tuple[str, int]]:
    return list(zip(strategy.compounds, strategy.stint_lengths(total_laps, from_lap)))


def capped_race(rules: TyreRules = EVENT, **kw) -> object:
    return make_race((0.0, 0.3, 0.6, 0.9), total_laps=30, rules=rules, **kw)


# ------------------------------------------------------------------------------ TyreRules
def test_cap_counts_the_sets_earlier_laps_less_the_credit():
    r = replace(EVENT, used_set_credit_laps=2, max_stint_laps={"SOFT": 8})
    assert r.cap_laps("MEDIUM") == 12 and r.cap_laps("MEDIUM", 5) == 9   # 5 earlier laps, 2 forgiven
    assert r.cap_laps("MEDIUM", 1) == 12                                 # within the credit
    assert r.cap_laps("SOFT") == 8 and r.cap_laps("SOFT", learned=False) == 12
    assert TyreRules().cap_laps("SOFT") is None


def test_violations_name_every_broken_rule():
    r = TyreRules(max_laps_per_set={"MEDIUM": 18}, min_stops=2, nominated=("MEDIUM", "HARD"),
                  source={"max_laps_per_set": "2023 Qatar event rule"})
    bad = r.violations(Strategy.parse("M-30-S"), 57)
    text = " | ".join(bad)
    assert "over the event limit of 18 laps per set (2023 Qatar event rule)" in text
    assert "needs at least 2" in text and "SOFT not nominated" in text
    assert r.violations(Strategy.parse("M-18-H-36-M"), 54) == []
    assert TyreRules().violations(Strategy.parse("M"), 50) != []  # two-compound rule


@pytest.mark.parametrize("bad", [
    TyreRules(max_laps_per_set={"SOFT": 0}), TyreRules(max_stint_laps={"SUPERSOFT": 10}),
    TyreRules(min_stops=-1), TyreRules(nominated=("MEDIUM",)),  # one compound cannot make two
])
def test_impossible_rules_are_rejected(bad):
    with pytest.raises(InvalidRequestError):
        capped_race(bad).validate()


# ------------------------------------------------------------------------------ constraints
def test_no_optimised_plan_runs_a_set_past_the_event_cap():
    race = capped_race()
    res = optimise(race, "C00", n_sims=20, seed=0, top_k=8)
    assert res.options
    for o in res.options:
        assert all(n <= CAP for _, n in stints(o.strategy, race.total_laps)), o.strategy.describe()
        assert o.n_stops >= 2  # 30 laps at 12 per set
        assert o.rules_applied == ["max 12 laps per set (test event rule)"]
        assert o.to_dict()["rules_applied"] == o.rules_applied
    assert res.rules == ["max 12 laps per set (test event rule)"]


def test_the_starting_sets_age_counts_against_its_cap():
    race = capped_race(start_ages=[7, 0, 0, 0])
    res = optimise(race, "C00", n_sims=20, seed=0, top_k=8, fix_start_compound=True)
    for o in res.options:
        assert o.strategy.pit_laps[0] <= CAP - 7, o.strategy.describe()


def test_only_one_stop_would_fit_but_the_cap_adds_stops_for_the_field():
    race = make_race((0.0, 0.3), total_laps=40, rules=replace(EVENT, max_laps_per_set={c: 11 for c in DRY}))
    for plan in default_field_strategies(race, stops=(1, 2)):
        assert plan.n_stops == 3 and all(n <= 11 for _, n in stints(plan, 40)), plan.describe()


def test_min_stops_is_kept():
    race = capped_race(TyreRules(min_stops=2, source={"min_stops": "test: three sets"}))
    res = optimise(race, "C01", n_sims=20, seed=0, top_k=8, stops=(1, 2, 3))
    assert all(o.n_stops >= 2 for o in res.options)
    assert all("at least 2 stops (test: three sets)" in o.rules_applied for o in res.options)
    assert all(p.n_stops >= 2 for p in default_field_strategies(race))


def test_min_dry_compounds_is_kept():
    race = capped_race(TyreRules(min_dry_compounds=3))
    res = optimise(race, "C01", n_sims=20, seed=0, top_k=5)
    assert all(set(o.strategy.compounds) == set(DRY) for o in res.options)


def test_only_nominated_compounds_are_planned():
    race = capped_race(TyreRules(nominated=("MEDIUM", "HARD")))
    res = optimise(race, "C01", n_sims=20, seed=0, top_k=8)
    for plan in [o.strategy for o in res.options] + default_field_strategies(race):
        assert "SOFT" not in plan.compounds, plan.describe()


def test_learned_cap_bounds_the_soft_and_is_named_when_it_binds():
    # without a cap the soft is worth running long in this race; the learned cap stops that
    free = optimise(capped_race(TyreRules()), "C00", n_sims=20, seed=0, top_k=8)
    longest = max(n for o in free.options for c, n in stints(o.strategy, 30) if c == "SOFT")
    cap = max(longest - 4, 3)
    rules = TyreRules(max_stint_laps={"SOFT": cap}, source={"max_stint_laps:SOFT": "learned, test"})
    res = optimise(capped_race(rules), "C00", n_sims=20, seed=0, top_k=8)
    for o in res.options:
        soft = [n for c, n in stints(o.strategy, 30) if c == "SOFT"]
        assert all(n <= cap for n in soft), o.strategy.describe()
        named = f"SOFT stint ≤ {cap} laps at this circuit (learned, test)" in o.rules_applied
        assert named == any(n >= cap - 2 for n in soft)


def test_learned_caps_give_way_when_no_plan_fits_them_but_event_caps_never():
    rules = TyreRules(max_laps_per_set={c: 14 for c in DRY}, max_stint_laps={c: 3 for c in DRY})
    race = capped_race(rules)
    plans = Screen(race).best_plans(stops=(1, 2, 3))
    assert plans and all(RELAXED in p.rules_applied for p in plans)
    assert all(n <= 14 for p in plans for _, n in stints(p.strategy, 30))
    with pytest.raises(InvalidRequestError, match="No legal plan"):
        Screen(capped_race(TyreRules(max_laps_per_set={c: 3 for c in DRY}))).best_plans(stops=(1,))


def test_pit_windows_stay_inside_the_caps():
    race = capped_race()
    res = optimise(race, "C00", n_sims=20, seed=0, top_k=3)
    for o in res.options:
        edges = [0, *o.strategy.pit_laps, 30]
        for k, (lo, hi) in enumerate(o.pit_windows):
            # moving stop k anywhere in its window keeps the stints either side within the cap
            assert hi - edges[k] <= CAP and edges[k + 2] - lo <= CAP, (o.strategy.describe(), k, lo, hi)


# ------------------------------------------------------------------------------ advisor
def _state(race, lap: int, ages, compounds=None, stops=None) -> RaceState:
    n = race.n_cars
    return RaceState(lap=lap, position=list(range(1, n + 1)), gap_to_leader_s=[1.5 * i for i in range(n)],
                     compound=compounds or ["MEDIUM"] * n, tyre_age_laps=list(ages), stops_done=stops or [0] * n)


def test_advisor_plans_keep_the_caps_from_the_current_set():
    race = capped_race()
    state = _state(race, 8, [8, 8, 8, 8])
    adv = advise(race, state, "C01", n_sims=20, seed=0)
    assert adv.rules == ["max 12 laps per set (test event rule)"] and adv.to_dict()["rules"] == adv.rules
    for o in adv.options:
        plan = o.strategy
        lengths = plan.stint_lengths(30, 8)
        assert lengths[0] + 8 <= CAP, (o.label, plan.describe())  # the current set's life counts
        assert all(n <= CAP for n in lengths[1:]), (o.label, plan.describe())
    for c in range(race.n_cars):
        plan = continuation_plan(race, state, c)
        assert plan.stint_lengths(30, 8)[0] + 8 <= CAP


def test_advisor_cannot_stay_out_on_a_set_at_its_cap():
    race = capped_race()
    state = _state(race, 10, [CAP, 3, 3, 3])
    adv = advise(race, state, "C00", n_sims=20, seed=0)
    assert adv.action == "BOX_NOW" and all(o.label != "STAY_OUT" for o in adv.options)


def test_advisor_counts_stops_already_made_towards_min_stops():
    race = capped_race(TyreRules(min_stops=3))
    state = _state(race, 10, [3, 3, 3, 3], compounds=["HARD"] * 4, stops=[3, 2, 1, 1])
    state = replace(state, compounds_used=[["SOFT", "MEDIUM", "HARD"]] * 4)
    for c in range(race.n_cars):
        plan = continuation_plan(race, state, c)
        assert state.stops_done[c] + plan.n_stops >= 3, (c, plan.describe())
    assert continuation_plan(race, state, 3, first_stop=(11, "MEDIUM")).n_stops >= 2


# ------------------------------------------------------------------------------ event table
def test_bundled_table_has_2023_qatar_and_not_2024():
    q23 = rules_for(2023, "Qatar Grand Prix", "losail")
    assert q23.max_laps_per_set == {c: 18 for c in DRY} and q23.used_set_credit_laps == 2
    assert "2023 Qatar" in q23.source["max_laps_per_set"]
    assert rules_for(2024, 23, "losail").max_laps_per_set == {}
    assert rules_for(2025, "Monaco", "monaco").min_stops == 2
    assert rules_for(2024, "Monaco", "monaco").min_stops == 1


def test_user_table_extends_and_overrides(f1a_home):
    f1a_home.mkdir(parents=True, exist_ok=True)
    (f1a_home / "event_rules.toml").write_text(
        '[[event]]\nseason = 2026\ncircuit = "monza"\nmax_laps_per_set = { SOFT = 15 }\n'
        'nominated = ["SOFT", "MEDIUM"]\nsource = "my rule"\n'
        '[[event]]\nseason = 2023\ncircuit = "losail"\nmax_laps_per_set = 20\nsource = "my Qatar"\n',
        encoding="utf-8")
    mine = rules_for(2026, "Italian Grand Prix", "monza")
    assert mine.max_laps_per_set == {"SOFT": 15} and mine.nominated == ("SOFT", "MEDIUM")
    assert mine.describe()[0] == "max 15 laps per SOFT set (my rule)"
    assert rules_for(2023, 17, "losail").max_laps_per_set["HARD"] == 20


def test_a_broken_user_table_says_what_is_wrong(f1a_home):
    f1a_home.mkdir(parents=True, exist_ok=True)
    (f1a_home / "event_rules.toml").write_text('[[event]]\nseason = 2026\ncircuit = "monza"\nmax_lap = 3\n',
                                               encoding="utf-8")
    with pytest.raises(DataValidationError, match="unknown keys max_lap"):
        rules_for(2026, "Monza", "monza")


def test_learned_caps_from_a_circuit_model_and_scaled_from_the_all_circuit_one():
    lim = {"2022+": {"SOFT": {"value": 22, "spread": 1.5, "n": 30, "quantile": 0.95, "pooled": False, "share": 0.4}}}
    own = SimpleNamespace(key="monza", max_stint_laps=lim)
    caps, src = learned_caps(own, "2022+", 53)
    assert caps == {"SOFT": 22} and "95th pct of completed 30 stints here" in src["max_stint_laps:SOFT"]
    assert learned_caps(own, "pre-2022", 53)[0] == {"SOFT": 22}  # an era the model lacks: its latest
    glob = SimpleNamespace(key="_all", max_stint_laps=lim)
    assert learned_caps(glob, "2022+", 70)[0] == {"SOFT": 28}
    rules = rules_for(2024, "Monza", "monza", own, era="2022+", total_laps=53)
    assert rules.max_stint_laps == {"SOFT": 22} and rules.max_laps_per_set == {}
    assert rules_for(2024, "Monza", "monza", SimpleNamespace(key="monza")).max_stint_laps == {}


def test_built_race_carries_learned_limits(tmp_path):
    from tests.simulation.test_build import synthetic_env
    from f1analyzer.simulation.scenario.build import build_race

    store, models = synthetic_env(tmp_path)
    built = build_race(2023, "Monza", models=models, store=store)
    caps = built.params.rules.max_stint_laps
    assert set(caps) == set(DRY) and all(1 <= v <= built.params.total_laps + 30 for v in caps.values())
    res = optimise(built.params, built.drivers[0], n_sims=20, seed=0)
    car = built.params.cars[0]
    for o in res.options:
        age = car.start_tyre_age_laps if o.strategy.start_compound == car.start_compound else 0
        broken = built.params.rules.violations(o.strategy, built.params.total_laps, start_age_laps=age)
        assert broken == [] or RELAXED in o.rules_applied, broken


# ------------------------------------------------------------------------------ real data
@pytest.mark.realdata
def test_2023_qatar_is_planned_with_the_18_lap_limit(tmp_path, data_dir):
    """Issue 11, problem 4: 2023 Qatar got a one-stop plan with a 36-lap stint."""
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.store import RaceStore
    from f1analyzer.models.race_models import RaceModels
    from f1analyzer.simulation.scenario.build import build_race

    store = RaceStore(tmp_path / "store")
    for y in (2022, 2023):
        [res] = ingest_files([data_dir / "laps" / f"{y}.csv.gz"], store)
        assert res.ok
    races = store.races()
    before = races[(races["season"] == 2022) | ((races["season"] == 2023) & (races["round"] < 17))]
    laps = pd.concat([pd.DataFrame(store.laps(2022)), pd.DataFrame(store.laps(2023))])
    models = RaceModels().fit(laps, before, store.pit_stops())
    built = build_race(2023, "Qatar", models=models, store=store, driver="VER")
    rules = built.params.rules
    assert rules.max_laps_per_set == {c: 18 for c in DRY}
    res = optimise(built.params, "VER", n_sims=100, seed=0, min_stint_laps=6)
    ver = built.params.cars[built.params.car_index("VER")]
    for o in res.options:
        s = o.strategy
        age = ver.start_tyre_age_laps if s.start_compound == ver.start_compound else 0
        assert o.n_stops >= 2 and all(n <= 18 for _, n in stints(s, 57)), s.describe()
        assert rules.violations(s, 57, start_age_laps=age, learned=False) == []
        assert any("max 18 laps per set (2023 Qatar event rule" in r for r in o.rules_applied)
    for car, plan in zip(built.params.cars, res.field_strategies):
        assert rules.violations(plan, 57, start_age_laps=car.start_tyre_age_laps, learned=False) == [], car.driver


def test_strategy_validate_checks_event_rules_only_when_asked():
    race = capped_race()
    plan = Strategy.parse("M-20-H")
    plan.validate(race)  # the engine replays any plan
    with pytest.raises(InvalidRequestError, match="over the event limit of 12 laps per set") as exc:
        plan.validate(race, event_rules=True)
    assert exc.value.details["rules"] == ["max 12 laps per set (test event rule)"]
    Strategy.parse("M-10-H-20-M").validate(race, event_rules=True)
    learned = capped_race(TyreRules(max_stint_laps={"MEDIUM": 5}))
    plan.validate(learned, event_rules=True)  # learned limits are advice, not rules


def test_plans_that_box_early_under_sc_leave_room_under_the_cap():
    race = capped_race()
    res = optimise(race, "C00", n_sims=20, seed=0, top_k=5, sc_window_laps=2)
    for o in res.options:
        later = o.strategy.stint_lengths(30)[1:]
        assert all(n <= CAP - 2 for n in later), o.strategy.describe()


def test_field_plans_of_the_advisor_leave_room_for_early_sc_stops():
    from f1analyzer.simulation.planning.advisor import continuation_plans

    race = capped_race()
    state = _state(race, 4, [4, 4, 4, 4])
    for plan in continuation_plans(race, state, sc_window_laps=2):
        lengths = plan.stint_lengths(30, 4)
        assert lengths[0] + 4 <= CAP and all(n <= CAP - 2 for n in lengths[1:]), plan.describe()
