"""Features of the learned models: what each race-level and field-level signal may know."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from f1analyzer.data.circuits import circuit_for_event
from f1analyzer.models.features import _history_level, prepare_laps
from tests.models.test_train_synthdata import synthetic_laps


def _race_rows(season: int, rnd: int, circuit: str, pace: float, n: int = 40) -> pd.DataFrame:
    """Clean dry mid-race laps of one race whose 10th percentile is ``pace``."""
    t = pace + np.linspace(0.0, 2.0, n)  # 10th percentile of an evenly spread 0–2 s = pace + 0.2
    return pd.DataFrame({"season": season, "round": rnd, "circuit_key": circuit, "clean": True,
                         "race_frac": 0.5, "compound": "MEDIUM", "lap_time_s": t - 0.2})


def _history(races: list[tuple[int, int, str, float]]) -> dict:
    df = pd.concat([_race_rows(*r) for r in races], ignore_index=True)
    h = _history_level(df)
    return {(s, r): h[(df["season"] == s).to_numpy() & (df["round"] == r).to_numpy()][0] for s, r, _c, _p in races}


def test_history_level_is_last_season_moved_by_this_seasons_pace_change():
    h = _history([(2021, 1, "a", 90.0), (2021, 2, "b", 80.0), (2021, 3, "c", 70.0),
                  (2022, 1, "a", 92.0), (2022, 2, "b", 83.0), (2022, 3, "c", 71.0)])
    assert np.isnan(h[(2021, 1)]) and np.isnan(h[(2021, 3)])  # a circuit's first race: no history
    assert h[(2022, 1)] == pytest.approx(90.0)  # no earlier round this season: no shift yet
    assert h[(2022, 2)] == pytest.approx(80.0)  # one earlier round is not enough to shift by
    assert h[(2022, 3)] == pytest.approx(70.0 + 2.5)  # median of +2 (a) and +3 (b)


def test_history_level_never_sees_its_own_race_or_later_ones():
    base = [(2021, 1, "a", 90.0), (2021, 2, "b", 80.0), (2022, 1, "a", 92.0), (2022, 2, "b", 81.0)]
    h1 = _history(base + [(2022, 3, "a", 95.0)])
    h2 = _history([(s, r, c, p + (30.0 if (s, r) >= (2022, 2) else 0.0)) for s, r, c, p in base]
                  + [(2022, 3, "a", 60.0)])
    assert h1[(2022, 2)] == pytest.approx(h2[(2022, 2)]) == pytest.approx(80.0)
    assert h1[(2022, 1)] == h2[(2022, 1)]


def test_field_level_uses_only_laps_completed_before():
    laps = synthetic_laps(seasons=(2022,), rounds=1)
    races = laps.groupby(["season", "round"]).agg(event=("event", "first"),
                                                   total_laps=("lap_number", "max")).reset_index()
    races["circuit_key"] = races["event"].map(circuit_for_event)
    prep = prepare_laps(laps, races)
    cut = float(prep["session_time_s"].quantile(0.5))
    later = laps["session_time_s"] > cut
    altered = laps.copy()
    altered.loc[later, "lap_time_s"] += 7.0
    prep2 = prepare_laps(altered, races)
    before = (prep["session_time_s"] <= cut).to_numpy()
    a, b = prep.loc[before, "field_level_s"].to_numpy(), prep2.loc[before, "field_level_s"].to_numpy()
    assert np.isfinite(a).sum() > 100
    np.testing.assert_allclose(a, b, equal_nan=True)
    # and it is the field's level: within the spread of the clean laps' levels
    lv = prep.loc[prep["clean"], "cl_last3"]
    assert lv.min() <= np.nanmedian(prep["field_level_s"]) <= lv.max()
