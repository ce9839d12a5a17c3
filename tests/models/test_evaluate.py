"""`f1analyzer evaluate` and the evaluation report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from f1analyzer.cli import main
from f1analyzer.config import get_settings
from f1analyzer.data.store import RaceStore
from f1analyzer.errors import DataNotLoadedError
from f1analyzer.models.evaluate import evaluate_season, regression_metrics
from tests.models.test_train_synthdata import fill_store, synthetic_laps


@pytest.fixture
def synthetic_home(f1a_home):
    fill_store(RaceStore(get_settings().store_dir), synthetic_laps(seasons=(2021, 2022, 2023)))
    return f1a_home


def test_regression_metrics():
    m = regression_metrics(np.array([1.0, 2.0]), np.array([1.0, 3.0]), np.array([2.0, 2.0]))
    assert m == {"n_laps": 2, "mae_s": 0.5, "baseline_mae_s": 1.0, "improvement_pct": 50.0}
    assert regression_metrics(np.array([]), np.array([]), np.array([]))["n_laps"] == 0


def test_unknown_season_is_a_clear_error(synthetic_home, capsys):
    with pytest.raises(DataNotLoadedError, match="Stored seasons: 2021, 2022, 2023"):
        evaluate_season(RaceStore(get_settings().store_dir), 2030)
    assert main(["evaluate", "--season", "2030"]) != 0
    assert "Season 2030 is not in the store" in capsys.readouterr().err


def test_first_season_has_nothing_to_train_on(synthetic_home):
    assert main(["evaluate", "--season", "2021"]) != 0


def test_cli_json_and_predictions(synthetic_home, tmp_path, capsys):
    out_dir = tmp_path / "pred"
    assert main(["evaluate", "--season", "2023", "--json", "--predictions", str(out_dir)]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["season"] == 2023 and rep["train_seasons"] == [2021, 2022]
    for key in ("one_lap_ahead", "stint_forecast"):
        assert {"n_laps", "mae_s", "baseline_mae_s"} <= set(rep[key])
    assert {"pr_auc", "base_rate", "reliability", "n_laps"} <= set(rep["pit_stop"])
    one = pd.read_csv(out_dir / "one_lap_ahead.csv")
    assert list(one.columns) == ["season", "round", "event", "driver", "lap", "predicted", "actual", "baseline"]
    assert len(one) == rep["one_lap_ahead"]["n_laps"]
    st = pd.read_csv(out_dir / "stint_forecast.csv")
    assert list(st.columns) == ["season", "round", "event", "driver", "stint", "lap", "predicted", "actual",
                                "baseline"]
    assert len(st) == rep["stint_forecast"]["n_laps"]
    mae = (one["predicted"] - one["actual"]).abs().mean()
    assert mae == pytest.approx(rep["one_lap_ahead"]["mae_s"], abs=2e-3)


def test_cli_csv_is_the_evaluation_table(synthetic_home, capsys):
    import csv
    import io

    assert main(["evaluate", "--season", "2023", "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["task", "model", "baseline", "baseline is", "improvement", "n laps"]
    assert [r[0] for r in rows[1:]] == ["one lap ahead, MAE s", "stint forecast, MAE s", "pit in 3 laps, PR-AUC"]
    assert all(len(r) == 6 for r in rows[1:]) and float(rows[1][1]) > 0


@pytest.mark.realdata
def test_real_evaluate_cli(data_dir, f1a_home, capsys):
    assert main(["ingest", str(data_dir / "laps" / "2023.csv.gz"), str(data_dir / "laps" / "2024.csv.gz")]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--season", "2024", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["one_lap_ahead"]["mae_s"] < rep["one_lap_ahead"]["baseline_mae_s"]
    assert rep["stint_forecast"]["mae_s"] < rep["stint_forecast"]["baseline_mae_s"]
    assert rep["pit_stop"]["pr_auc"] > 2 * rep["pit_stop"]["base_rate"]
