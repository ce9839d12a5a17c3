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
            "previous": prev}


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


def test_a_negative_window_is_refused_with_one_line(tmp_path, capsys):
    (tmp_path / "laps").mkdir()
    assert bp.main(["--data-dir", str(tmp_path), "--width", "-1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "--width must be at least 0"
