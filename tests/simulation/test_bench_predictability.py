"""benchmarks/bench_predictability.py: its yardsticks on hand-made races (the script itself runs on
the real data; see benchmarks/RESULTS.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_predictability as bp  # noqa: E402


def _row(season, circuit, stops, seq, first, total=50, prev=None, wet=False, era="2022+"):
    return {"season": season, "round": 1, "circuit_key": circuit, "era": era, "wet": wet, "total_laps": total,
            "modal": {"stops": stops, "compounds": seq, "median_first_stop_lap": first},
            "share_on_modal_stops": 0.8, "share_on_modal_sequence": 0.5, "first_stop_iqr_laps": 3.0,
            "previous": prev, "neutralisation_calls": 10, "neutralisation_calls_with_majority": 8}


def test_same_as_last_time_is_scored_like_the_recommendation():
    prev = {"stops": 1, "compounds": ["MEDIUM", "HARD"], "median_first_stop_lap": 20.0}
    hit = bp.persistence(_row(2023, "x", 1, ["MEDIUM", "HARD"], 22.0, prev=prev), width=5)
    assert hit == {"stop_count": True, "compound_sequence": True, "first_stop_in_window": True}
    miss = bp.persistence(_row(2023, "x", 2, ["MEDIUM", "HARD", "HARD"], 25.0, prev=prev), width=5)
    assert miss == {"stop_count": False, "compound_sequence": False, "first_stop_in_window": False}
    assert bp.persistence(_row(2023, "x", 1, ["MEDIUM", "HARD"], 20.0), width=5) is None


def test_year_to_year_spread_is_within_circuits():
    rows = [_row(2022, "a", 1, [], 20.0), _row(2023, "a", 1, [], 20.0),
            _row(2022, "b", 1, [], 10.0), _row(2023, "b", 1, [], 40.0),
            _row(2024, "c", 1, [], 30.0)]  # one race: no spread
    sd = bp.year_to_year_sd(rows)["2022+"]
    logs = np.log([10 / 50, 40 / 50])
    assert sd["circuits"] == 2 and sd["races"] == 4
    assert sd["sd_log_share"] == pytest.approx(np.sqrt(np.sum((logs - logs.mean()) ** 2) / 2), abs=1e-3)


def test_summary_per_season_leaves_wet_races_out():
    prev = {"stops": 1, "compounds": ["MEDIUM", "HARD"], "median_first_stop_lap": 20.0}
    rows = [_row(2023, "a", 1, ["MEDIUM", "HARD"], 21.0, prev=prev),
            _row(2023, "b", 2, ["SOFT", "HARD", "HARD"], 12.0, prev=prev),
            _row(2023, "c", 1, ["MEDIUM", "HARD"], 21.0, prev=prev, wet=True)]
    s = bp.summary(rows, width=5)["seasons"][2023]
    assert s["dry_races"] == 2 and s["same_as_last_time_races"] == 2
    assert s["same_as_last_time_stop_count_rate"] == 0.5 and s["same_as_last_time_first_stop_in_window_rate"] == 0.5
    assert s["neutralisation_calls"] == 20 and s["top10_calls_with_sc_vsc_majority"] == 0.8


def test_a_negative_window_is_refused_with_one_line(tmp_path, capsys):
    (tmp_path / "laps").mkdir()
    assert bp.main(["--data-dir", str(tmp_path), "--width", "-1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "--width must be at least 0"


def test_race_rows_on_the_bundled_demo_races(tmp_path):
    # the script's own reading of a store (imports included), on the four real demo races
    from f1analyzer.data import RaceStore
    from f1analyzer.data.demo import load_demo

    store = RaceStore(tmp_path / "store")
    assert load_demo(store)
    rows = bp.race_rows(store)
    assert len(rows) == 4 and all(r["era"] == "2022+" for r in rows)
    for r in rows:
        assert 0 < r["share_on_modal_stops"] <= 1
        assert 0 <= r["neutralisation_calls_with_majority"] <= r["neutralisation_calls"]
    s = bp.summary(rows, width=5)["seasons"][2024]
    calls = s["neutralisation_calls"]
    assert calls == sum(r["neutralisation_calls"] for r in rows if not r["wet"])
    assert s["top10_calls_with_sc_vsc_majority"] is None or 0.5 <= s["top10_calls_with_sc_vsc_majority"] <= 1


def test_the_field_agrees_with_its_own_majority_at_a_sc_start():
    from types import SimpleNamespace

    import pandas as pd

    from f1analyzer.simulation.backtest import majority_calls, neutralisation_calls
    from f1analyzer.simulation.core.params import TrackStatus

    sched = np.full(20, TrackStatus.GREEN, dtype=np.int8)
    sched[9:11] = TrackStatus.SC  # laps 10-11 neutralised
    race = SimpleNamespace(results=pd.DataFrame({"driver": ["A", "B", "C", "D"], "laps": [20, 20, 20, 8]}))
    stops = {"A": [(10, "HARD")], "B": [(11, "HARD")], "C": [(15, "HARD")]}
    calls = neutralisation_calls(race, sched, ["A", "B", "C", "D"], stops, 20)
    assert [(c["driver"], c["lap"], c["real"]) for c in calls] == [("A", 9, "BOX"), ("B", 9, "BOX"), ("C", 9, "STAY")]
    assert majority_calls(calls) == {9: "BOX"}
    assert majority_calls(calls[1:]) == {9: None}  # one box, one stay: no majority
