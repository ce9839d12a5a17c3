"""`f1analyzer season-preview | sweep | backtest` on the synthetic store: files written, the
executor options honoured, failures and a missing Ray each said in one line."""

from __future__ import annotations

import re

import csv
import json
import sys

import pytest

from f1analyzer.app.batch import PREVIEW_COLUMNS
from f1analyzer.cli import main
from tests.factories import strategy_env


@pytest.fixture
def home(tmp_path, capsys):
    h = tmp_path / "home"
    strategy_env(h)  # the store lands in <home>/store, the CLI's store
    capsys.readouterr()
    return h


def test_season_preview_writes_csv_and_json(home, tmp_path, capsys):
    out = tmp_path / "preview.csv"
    rc = main(["--home", str(home), "season-preview", "--season", "2023", "--rounds", "2,3", "--drivers", "D00,D03",
               "--sims", "20", "--executor", "local", "--workers", "2", "--out", str(out), "--json"])
    assert rc == 0
    answer = json.loads(capsys.readouterr().out)
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == PREVIEW_COLUMNS
    assert {(int(r["round"]), r["driver"]) for r in rows} == {(2, "D00"), (2, "D03"), (3, "D00"), (3, "D03")}
    assert [r["driver"] for r in answer["rows"]] == [r["driver"] for r in rows]
    assert {s["driver"] for s in answer["standings"]} == {"D00", "D03"}
    assert all(s["races"] == 2 for s in answer["standings"])
    # kept for the dashboard's season view (GET /seasons/2023/preview)
    kept = json.loads((home / "previews" / "2023.json").read_text())
    assert kept["rows"] == answer["rows"] and kept["season"] == 2023


def test_sweep_table_one_race(home, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    rc = main(["--home", str(home), "sweep", "--season", "2023", "--event", "Bahrain", "--parameter",
               "degradation_scale", "--values", "0.5:1.5:0.5", "--sims", "20", "--executor", "serial"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "sweep of degradation_scale" in text and "plan" in text
    for v in ("0.5", "1", "1.5"):
        assert re.search(rf"^{re.escape(v)}\s", text, re.M), v


def test_failed_tasks_are_listed_and_exit_1(home, capsys):
    # 2022 cannot be backtested (nothing earlier to train on); 2023 still is
    rc = main(["--home", str(home), "backtest", "--seasons", "2022-2023", "--rounds", "1", "--no-advisor",
               "--sims", "20", "--replay-sims", "40", "--executor", "serial", "--json"])
    captured = capsys.readouterr()
    assert rc == 1
    out = json.loads(captured.out)
    assert [s["season"] for s in out["seasons"]] == [2022, 2023] and len(out["seasons"][1]["races"]) == 1
    assert "failed: backtest-models/2022: DataNotLoadedError: A backtest of 2022 trains on earlier seasons" in captured.err


def test_executor_ray_without_ray_says_how_to_install(home, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    rc = main(["--home", str(home), "backtest", "--season", "2023", "--executor", "ray"])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and len(err.splitlines()) == 1
    assert "pip install 'f1analyzer[ray]'" in err


def test_executor_comes_from_the_setting(home, capsys, monkeypatch):
    monkeypatch.setenv("F1A_EXECUTOR", "spark")
    rc = main(["--home", str(home), "sweep", "--season", "2023", "--event", "1", "--parameter",
               "pit_loss_offset_s", "--values", "0"])
    assert rc == 1



def test_backtest_says_the_modal_rates_next_to_the_naive_forecast():
    from f1analyzer.cli.batch import modal_line

    s = {"dry_races": 16, "modal_stop_count_match_rate": 0.6875, "modal_compound_sequence_in_top3_rate": 0.4375,
         "modal_first_stop_in_window_rate": 0.4667, "history_baseline_races": 16,
         "history_baseline_stop_count_match_rate": 0.6875, "history_baseline_compound_sequence_rate": 0.4375,
         "history_baseline_first_stop_in_window_rate": 0.1333, "advisor_neutralisation_agreement": 0.75,
         "advisor_neutralisation_decisions": 80}
    line = modal_line(s)
    assert line.startswith("modal plan of the top ten, 16 dry races: stop count 0.69 (as last time 0.69)")
    assert "first stop in window 0.47 (as last time 0.13) (16 races with an earlier one)" in line
    assert line.endswith("SC/VSC starts 0.75 of 80")
    no_history = modal_line({**s, "history_baseline_races": 0})
    assert "as last time" not in no_history and "earlier one" not in no_history
    wet = modal_line({**s, "advisor_neutralisation_agreement_dry": 0.68, "advisor_neutralisation_decisions_dry": 60,
                      "advisor_decisions_not_priced": 43})
    assert wet.endswith("SC/VSC starts 0.75 of 80 (dry races 0.68 of 60); 43 decisions not priced "
                        "(wet track or no legal plan)")
    close = modal_line({**s, "advisor_neutralisation_agreement_dry": 0.72, "advisor_neutralisation_decisions_dry": 60,
                        "advisor_neutralisation_too_close_dry": 12, "advisor_neutralisation_decided_by_field_dry": 5,
                        "field_history_neutralisation_agreement_dry": 0.75})
    assert close.endswith("(dry races 0.72 of 60, 12 too close to call, 5 of them decided by the field's habit; "
                          "the field's habit alone 0.75)")
    planned = modal_line({**s, "modal_stop_count_is_planned_rate": 0.875, "modal_planned_stop_count_match_rate": 0.75})
    assert ("(16 races with an earlier one); the modal stop count is the field's planned (green-flag) count in "
            "0.88 of the races, which the plan matches in 0.75; advisor vs") in planned
