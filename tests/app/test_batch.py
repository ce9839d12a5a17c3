"""Batch work on the executors (synthetic seasons): the backtest gives the serial backtest's
answer on every executor, a failed season does not lose the others, and the season preview and
the sweep give the same answer serially and on Ray."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from f1analyzer.app.batch import backtest_seasons, parse_values, season_preview, sweep
from f1analyzer.app.batch.sweep import PARAMETERS
from f1analyzer.app.executors import LocalExecutor, RayExecutor, SerialExecutor
from f1analyzer.errors import InvalidRequestError
from f1analyzer.simulation.backtest import backtest
from tests.factories import model_set, strategy_env

SMALL = {"opt_sims": 30, "replay_sims": 60, "advisor_sims": 20, "seed": 5}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return strategy_env(tmp_path_factory.mktemp("batch"))


def _timeless(out: dict) -> dict:
    """The answer without its wall times (the only thing allowed to differ)."""
    out = json.loads(json.dumps(out))
    for one in out.get("seasons", [out]):
        one["summary"].pop("seconds")
        one["summary"]["models"].pop("fit_seconds", None)
    return out


def test_backtest_is_identical_on_serial_local_and_ray(env, ray_cluster):
    # given models (no fit per run keeps this quick); the fitting tasks run in the next test
    store, models = env
    reference = _timeless(backtest(store, 2023, rounds=[1], models_from=models, **SMALL))
    for ex in (SerialExecutor(), LocalExecutor(2), RayExecutor()):
        out = backtest_seasons(store, [2023], rounds=[1], models_from=models, executor=ex, **SMALL)
        assert _timeless(out) == reference, ex.name
    assert [r["round"] for r in reference["races"]] == [1] and "failed" not in reference
    assert reference["races"][0]["advisor"]["decisions"] > 0


def test_a_season_that_fails_keeps_the_others(env):
    store, _ = env
    out = backtest_seasons(store, [2022, 2023], rounds=[2], advisor=False, executor=SerialExecutor(), **SMALL)
    # 2022 has no earlier season to train on: its model task fails, 2023 is answered
    assert [f["key"] for f in out["failed"]] == ["backtest-models/2022"]
    assert "earlier seasons" in out["failed"][0]["error"]
    s22, s23 = out["seasons"]
    assert s22["races"] == [] and s22["failed"] and s23["season"] == 2023 and len(s23["races"]) == 1
    assert out["summary"]["races"] == 1 and out["summary"]["seasons"] == [2022, 2023]


def _shipped_copies() -> set:
    return set(Path(tempfile.gettempdir()).glob("f1a-shipped-store-*"))


def test_preview_and_sweep_are_identical_serially_and_on_ray(env, ray_cluster):
    store, models = env
    before = _shipped_copies()
    ms = model_set(models)
    kw = {"models": ms, "rounds": [2], "n_sims": 20, "seed": 1}
    prev = [season_preview(store, 2023, drivers=["D01", "d05", "zzz"], executor=ex, **kw)
            for ex in (SerialExecutor(), RayExecutor())]
    for p in prev:
        p.pop("seconds")
    assert prev[0] == prev[1]
    rows = prev[0]["rows"]
    assert rows and {r["driver"] for r in rows} == {"D01", "D05"} and all(r["round"] == 2 for r in rows)
    # the as-of models saw only the races before 2023 round 2
    assert all(r["models_fitted_on"] == "seasons 2022 + 2023 round 1" for r in rows)
    assert prev[0]["standings"][0]["expected_points"] >= prev[0]["standings"][-1]["expected_points"]

    sw = [sweep(store, 2023, parameter="pit_loss_offset_s", values=[-5, 0, 5], executor=ex, **kw)
          for ex in (SerialExecutor(), RayExecutor())]
    for s in sw:
        s.pop("seconds")
    assert sw[0] == sw[1]
    assert [t["value"] for t in sw[0]["table"]] == [-5.0, 0.0, 5.0] and all(t["races"] == 1 for t in sw[0]["table"])
    assert len({r["driver"] for r in sw[0]["rows"]}) == 1  # P1 of the grid at every value
    # the Ray workers' copies of the store (this machine's /tmp) are removed after each batch
    assert _shipped_copies() <= before


def test_sweep_parameters_change_what_they_name(env):
    from f1analyzer.simulation.core.params import CompoundParams, NeutralisationParams, RaceParams

    base = RaceParams("monza", 50, 80.0, [], pit_loss_s=20.0, pit_loss_sc_s=10.0, pit_loss_vsc_s=14.0,
                      sc=NeutralisationParams(p_at_least_one=0.6), vsc=NeutralisationParams(p_at_least_one=0.3),
                      compounds={"SOFT": CompoundParams("SOFT", -0.5, 0.1, 0.002, 20, 0.3)})
    p = PARAMETERS["pit_loss_offset_s"][2](base, -12.0)
    assert (p.pit_loss_s, p.pit_loss_sc_s, p.pit_loss_vsc_s) == (8.0, 0.0, 2.0)
    p = PARAMETERS["sc_probability_scale"][2](base, 2.0)
    assert (p.sc.p_at_least_one, p.vsc.p_at_least_one) == (1.0, 0.6)
    soft = PARAMETERS["degradation_scale"][2](base, 0.5).compounds["SOFT"]
    assert (soft.pace_offset_s, soft.linear_s_per_lap, soft.quadratic_s_per_lap2, soft.cliff_slope_s_per_lap) == \
        (-0.5, 0.05, 0.001, 0.15)
    assert base.pit_loss_s == 20.0 and base.compounds["SOFT"].linear_s_per_lap == 0.1  # the original is kept


def test_parse_values():
    assert parse_values("-2,-1,0") == [-2.0, -1.0, 0.0]
    assert parse_values("0.5:1.5:0.25") == [0.5, 0.75, 1.0, 1.25, 1.5]
    with pytest.raises(InvalidRequestError, match="start:stop:step"):
        parse_values("1:0:1")
