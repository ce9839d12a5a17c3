"""scenario/compounds.py: the tyre-life wear each compound carries in the simulator."""

from __future__ import annotations

from f1analyzer.models.tyre_life import life_slope_s
from f1analyzer.simulation.core.params import CompoundParams
from f1analyzer.simulation.scenario.compounds import with_tyre_life


def _compounds(**cliff):
    return {"SOFT": CompoundParams("SOFT", -0.3, 0.04),
            "MEDIUM": CompoundParams("MEDIUM", 0.0, 0.035, **cliff),
            "HARD": CompoundParams("HARD", 0.2, 0.03)}


def test_life_becomes_the_cliff_term_at_the_onset_age():
    life = {"SOFT": {"life_onset": 13.0, "life_median": 17.0}, "MEDIUM": {"life_onset": 17.0, "life_median": 22.0}}
    out = with_tyre_life(_compounds(), life, 22.0)
    # set life counts the lap the set is on; the engine's age the laps before it
    assert out["MEDIUM"].cliff_lap == 16
    assert out["MEDIUM"].cliff_slope_s_per_lap == round(life_slope_s(22.0, 0.035, 16.0, 21.0), 4) > 0
    assert out["SOFT"].cliff_lap == 12 and out["SOFT"].cliff_slope_s_per_lap > out["MEDIUM"].cliff_slope_s_per_lap
    # no life known: untouched; pace and linear wear never change
    assert out["HARD"] == _compounds()["HARD"]
    assert all(out[c].pace_offset_s == _compounds()[c].pace_offset_s for c in out)
    assert all(out[c].linear_s_per_lap == _compounds()[c].linear_s_per_lap for c in out)


def test_an_earlier_measured_cliff_is_kept_a_later_one_replaced():
    life = {"MEDIUM": {"life_onset": 17.0, "life_median": 22.0}}
    early = with_tyre_life(_compounds(cliff_lap=12, cliff_slope_s_per_lap=0.3), life, 22.0)
    assert early["MEDIUM"].cliff_lap == 12 and early["MEDIUM"].cliff_slope_s_per_lap == 0.3
    late = with_tyre_life(_compounds(cliff_lap=30, cliff_slope_s_per_lap=0.3), life, 22.0)
    assert late["MEDIUM"].cliff_lap == 16


def test_a_softer_compound_is_never_done_after_a_harder_one():
    # the MEDIUM's fitted wear already stops it before its life (no life term); the HARD has one
    life = {"MEDIUM": {"life_onset": 10.0, "life_median": 12.0}, "HARD": {"life_onset": 20.0, "life_median": 30.0},
            "SOFT": {"life_onset": 28.0, "life_median": 33.0}}
    comp = _compounds()
    comp["MEDIUM"] = CompoundParams("MEDIUM", 0.0, 0.4)
    out = with_tyre_life(comp, life, 22.0)
    assert out["HARD"].cliff_lap == 19 and out["HARD"].cliff_slope_s_per_lap > 0
    assert out["MEDIUM"].cliff_lap == 19 and out["MEDIUM"].cliff_slope_s_per_lap == out["HARD"].cliff_slope_s_per_lap
    assert out["SOFT"].cliff_lap == 19  # its own life came later: moved to the harder one's onset
