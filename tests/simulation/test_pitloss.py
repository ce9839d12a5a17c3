"""One pit-loss table: every part of the simulator prices a stop through core/pitloss.py."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from f1analyzer.models import overtaking, pitloss
from f1analyzer.models.race_models import CircuitModel
from f1analyzer.simulation.core.engine import simulate
from f1analyzer.simulation.core.params import CompoundParams, PassingParams, RaceParams, TrackStatus
from f1analyzer.simulation.core.pitloss import loss_table, stop_loss_s
from f1analyzer.simulation.core.strategy import Strategy
from f1analyzer.simulation.planning.screen import Screen

from .conftest import make_race

SIM_DIR = Path(__file__).resolve().parents[2] / "src" / "f1analyzer" / "simulation"
#: tyres that neither differ nor wear: a time difference between two plans is the stops alone
FLAT = {c: CompoundParams(c) for c in ("SOFT", "MEDIUM", "HARD")}


def test_stop_loss_by_status_includes_the_out_lap_penalty():
    race = make_race(pit_loss_s=22.0, pit_loss_sc_s=11.0, pit_loss_vsc_s=14.0, out_lap_penalty_s=1.5)
    assert stop_loss_s(race, TrackStatus.GREEN) == pytest.approx(23.5)
    assert stop_loss_s(race, TrackStatus.SC) == pytest.approx(12.5)
    assert stop_loss_s(race, int(TrackStatus.VSC)) == pytest.approx(15.5)
    arr = stop_loss_s(race, np.array([[0, 1], [2, 0]], dtype=np.int8))
    assert arr.dtype == np.float32 and arr.tolist() == [[23.5, 12.5], [15.5, 23.5]]
    assert loss_table(race).tolist() == [23.5, 12.5, 15.5]


def test_only_the_pitloss_module_chooses_between_the_losses():
    """No other simulator module reads the SC/VSC losses: they all call stop_loss_s."""
    allowed = {"core/params.py", "core/pitloss.py", "scenario/build.py"}  # definition, table, assembly
    offenders = []
    for path in SIM_DIR.rglob("*.py"):
        rel = path.relative_to(SIM_DIR).as_posix()
        if rel in allowed:
            continue
        if re.search(r"\.pit_loss_(sc|vsc)_s\b|out_lap_penalty_s", path.read_text(encoding="utf-8")):
            offenders.append(rel)
    assert offenders == []


def test_screen_and_engine_charge_the_table():
    race = make_race((0.0,), total_laps=20, pit_loss_s=20.0, out_lap_penalty_s=2.0, compounds=FLAT)
    assert Screen(race).stop_cost_s == pytest.approx(stop_loss_s(race, TrackStatus.GREEN))
    one = simulate(race, [Strategy("MEDIUM", ((10, "HARD"),))], 1, seed=0)
    two = simulate(race, [Strategy("MEDIUM", ((5, "HARD"), (10, "MEDIUM")))], 1, seed=0)
    extra = float(two.race_time_s[0, 0] - one.race_time_s[0, 0])
    assert extra == pytest.approx(stop_loss_s(race, TrackStatus.GREEN), abs=1e-3)


@pytest.mark.parametrize("status", [TrackStatus.SC, TrackStatus.VSC])
def test_a_lone_car_loses_exactly_the_neutralised_loss(status):
    race = make_race((0.0,), total_laps=20, pit_loss_s=22.0, pit_loss_sc_s=10.0, pit_loss_vsc_s=14.0,
                     compounds=FLAT)
    sched = np.zeros(20, dtype=np.int8)
    sched[9:12] = status  # laps 10-12
    a = simulate(race, [Strategy("MEDIUM", ((10, "HARD"),))], 1, seed=0, sc_schedule=sched)
    b = simulate(race, [Strategy("MEDIUM", ((13, "HARD"),))], 1, seed=0, sc_schedule=sched)
    diff = float(b.race_time_s[0, 0] - a.race_time_s[0, 0])
    want = stop_loss_s(race, TrackStatus.GREEN) - stop_loss_s(race, status)
    assert diff == pytest.approx(want, abs=1e-3)


@pytest.mark.parametrize("status, pays", [(TrackStatus.VSC, TrackStatus.GREEN), (TrackStatus.SC, TrackStatus.SC)])
def test_a_stop_on_the_last_lap_of_a_vsc_pays_the_green_loss_not_on_the_last_lap_of_a_sc(status, pays):
    """A VSC ends for everyone at once (the out-lap is raced against a field at full speed: such
    stops cost what green ones do in the data); behind a SC's last lap the field is still queued."""
    from f1analyzer.simulation.core.reference import simulate_reference
    from f1analyzer.simulation.core.draws import draw
    from f1analyzer.simulation.core.pitloss import stop_status

    assert stop_status(TrackStatus.VSC, TrackStatus.GREEN) == TrackStatus.GREEN
    assert stop_status(TrackStatus.VSC, TrackStatus.VSC) == TrackStatus.VSC
    assert stop_status(TrackStatus.SC, TrackStatus.GREEN) == TrackStatus.SC
    assert stop_status(np.array([2, 2, 1, 0]), np.array([0, 2, 0, 2])).tolist() == [0, 2, 1, 0]
    race = make_race((0.0,), total_laps=20, pit_loss_s=22.0, pit_loss_sc_s=10.0, pit_loss_vsc_s=14.0,
                     compounds=FLAT)
    sched = np.zeros(20, dtype=np.int8)
    sched[9:12] = status  # laps 10-12; the stop on lap 12 has a green out-lap
    a = simulate(race, [Strategy("MEDIUM", ((12, "HARD"),))], 1, seed=0, sc_schedule=sched)
    b = simulate(race, [Strategy("MEDIUM", ((14, "HARD"),))], 1, seed=0, sc_schedule=sched)
    diff = float(b.race_time_s[0, 0] - a.race_time_s[0, 0])
    assert diff == pytest.approx(stop_loss_s(race, TrackStatus.GREEN) - stop_loss_s(race, pays), abs=1e-3)
    # the scalar reference loop agrees
    d = draw(race, 1, 0, sc_schedule=sched)
    ra = simulate_reference(race, [Strategy("MEDIUM", ((12, "HARD"),))], d, 0)
    assert float(ra.race_time_s[0, 0]) == pytest.approx(float(a.race_time_s[0, 0]), abs=1e-3)


def test_sc_stop_is_charged_against_the_gaps_before_the_queue_forms():
    # C00 leads by 5 s and 20 s; it boxes on the first SC lap with a 12 s loss: the car 5 s back
    # gets by, the car 20 s back does not - then the queue forms behind the SC
    race = make_race((0.0, 0.0, 0.0), total_laps=20, pit_loss_sc_s=12.0, compounds=FLAT,
                     passing=PassingParams.threshold(99.0))
    gaps = [0.0, 5.0, 20.0]
    sched = np.zeros(20, dtype=np.int8)
    sched[9:13] = TrackStatus.SC  # laps 10-13
    plans = [Strategy("MEDIUM", ((10, "HARD"),)), Strategy("MEDIUM", ((17, "HARD"),)),
             Strategy("MEDIUM", ((17, "HARD"),))]
    # start from a green state at lap 9 with the gaps above
    from f1analyzer.simulation.core.state import RaceState

    state = RaceState(lap=9, position=[1, 2, 3], gap_to_leader_s=gaps, compound=["MEDIUM"] * 3,
                      tyre_age_laps=[9] * 3, stops_done=[0] * 3, track_status=TrackStatus.GREEN,
                      neutral_laps_remaining=2)
    res = simulate(race, plans, 1, seed=0, sc_schedule=sched, state=state, record_positions=True)
    after_stop = res.positions_by_lap[0, 0]  # end of lap 10
    assert after_stop.tolist() == [2, 1, 3]


def test_one_set_of_defaults():
    rp = {f.name: f.default for f in dataclasses.fields(RaceParams)}
    cm = CircuitModel(key="x", name="x")
    for name, default in (("pit_loss_s", pitloss.DEFAULT_PIT_LOSS_S), ("pit_loss_sc_s", pitloss.DEFAULT_PIT_LOSS_SC_S),
                          ("pit_loss_vsc_s", pitloss.DEFAULT_PIT_LOSS_VSC_S),
                          ("pit_loss_sd_s", pitloss.DEFAULT_PIT_LOSS_SD_S)):
        assert rp[name] == default == getattr(cm, name), name
    pp = PassingParams()
    for name, value in overtaking.DEFAULT_PASSING.items():
        assert getattr(pp, name) == value == getattr(cm, f"passing_{name}"), name
    assert rp["drs_gain_s"] == overtaking.DRS_GAIN_S and rp["drs_window_s"] == overtaking.DRS_WINDOW_S
