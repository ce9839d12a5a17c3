import numpy as np
import pytest

from f1analyzer.errors import InvalidRequestError
from f1analyzer.simulation.core.params import CompoundParams
from f1analyzer.simulation.core.strategy import Strategy

from .conftest import make_race


def test_delta_is_vectorised_and_has_a_cliff():
    comp = CompoundParams("SOFT", -0.5, 0.1, 0.01, cliff_lap=10, cliff_slope_s_per_lap=1.0)
    ages = np.array([[0, 5], [10, 12]])
    got = comp.delta_s(ages)
    assert got.shape == (2, 2)
    np.testing.assert_allclose(got, [[0.0, 0.75], [2.0, 1.2 + 1.44 + 2.0]])
    np.testing.assert_allclose(comp.lap_delta_s(0), -0.5)


def test_tyre_table_matches_compound_curves():
    race = make_race()
    table = race.tyre_delta_table()
    np.testing.assert_allclose(table[0, :40], race.compounds["SOFT"].lap_delta_s(np.arange(40)), rtol=1e-6)


def test_unknown_driver_lists_the_field():
    race = make_race((0, 0.1, 0.2))
    with pytest.raises(InvalidRequestError, match="C00, C01, C02"):
        race.car_index("VER")


def test_bad_grid_is_refused():
    race = make_race((0, 0.1))
    race.cars[1] = race.cars[0]
    with pytest.raises(InvalidRequestError):
        race.validate()


def test_one_compound_strategy_names_the_missing_compounds():
    race = make_race()
    with pytest.raises(InvalidRequestError, match="two different dry compounds") as err:
        Strategy("MEDIUM", ((15, "MEDIUM"),)).validate(race)
    assert set(err.value.details["options"]) == {"SOFT", "HARD"}


def test_pit_lap_beyond_race_distance_states_valid_range():
    race = make_race(total_laps=30)
    with pytest.raises(InvalidRequestError, match=r"within 1\.\.29"):
        Strategy("MEDIUM", ((31, "HARD"),)).validate(race)
    with pytest.raises(InvalidRequestError, match="strictly increasing"):
        Strategy("MEDIUM", ((20, "HARD"), (10, "SOFT"))).validate(race)


def test_compound_outside_allocation_is_refused():
    race = make_race(dry_compounds=("MEDIUM", "HARD"), total_laps=30)
    with pytest.raises(InvalidRequestError, match="Valid compounds: MEDIUM, HARD"):
        Strategy("SOFT", ((10, "HARD"),)).validate(race)
    with pytest.raises(InvalidRequestError, match="Valid compounds"):
        Strategy.parse("M-10-X")


def test_legal_strategies_pass():
    race = make_race()
    Strategy("MEDIUM", ((15, "HARD"),)).validate(race)
    Strategy.parse("S-10-M-20-S").validate(race)
    Strategy("INTERMEDIATE").validate(race)  # wet race: no two-compound rule
    # mid-race: HARD already used, so a MEDIUM-only remainder is legal
    Strategy("MEDIUM").validate(race, from_lap=12, compounds_used=["HARD"])
    assert Strategy.parse("M-22-H").describe() == "M-22-H"


def test_a_neutralisation_that_has_lasted_keeps_the_fitted_durations_beyond_its_laps_so_far():
    from f1analyzer.simulation.core.params import NeutralisationParams

    vsc = NeutralisationParams(p_at_least_one=0.5, duration_laps_probs=(0.6, 0.4))  # 1 or 2 laps
    sc = NeutralisationParams(p_at_least_one=0.5, duration_laps_probs=(0.0, 0.0, 0.5, 0.5))  # 3 or 4 laps
    # just out: the fitted durations themselves (p[r-1] = P(r more laps))
    assert vsc.remaining_laps_probs(0) == pytest.approx([0.6, 0.4])
    # out for 1 lap already: a VSC still out lasts 2, so exactly 1 more
    assert vsc.remaining_laps_probs(1) == pytest.approx([1.0])
    assert sc.remaining_laps_probs(2) == pytest.approx([0.5, 0.5])
    assert sc.remaining_laps_probs(3) == pytest.approx([1.0])
    # longer than any fitted period: one more lap, never an empty distribution
    assert sc.remaining_laps_probs(9) == pytest.approx([1.0])

