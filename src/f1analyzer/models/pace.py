"""Driver and team pace relative to the field, per race and per season.

The tyre model's per-driver-race intercept (``alpha``) is the driver's lap time with the fuel, tyre
compound and tyre age taken out. A driver's *pace delta* in a race is that intercept minus the
median intercept of the race's field: negative = faster than a mid-field car, in s/lap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PACE_COLUMNS = ["season", "round", "driver", "team", "pace_delta_s"]
MIN_LAPS = 5
#: half-life (races) of the exponential weights of :func:`driver_pace`
HALF_LIFE_RACES = 3.0


def race_pace(alpha: pd.DataFrame, min_laps: int = MIN_LAPS) -> pd.DataFrame:
    """Pace delta per (season, round, driver) from intercepts (``alpha_s``, ``n_laps`` columns)."""
    if alpha.empty:
        return pd.DataFrame(columns=PACE_COLUMNS)
    a = alpha[alpha["n_laps"] >= min_laps].copy()
    a["pace_delta_s"] = a["alpha_s"] - a.groupby(["season", "round"])["alpha_s"].transform("median")
    out = a[PACE_COLUMNS].sort_values(["season", "round", "pace_delta_s"]).reset_index(drop=True)
    out["season"] = out["season"].astype(int)
    out["round"] = out["round"].astype(int)
    return out


def team_pace(pace: pd.DataFrame) -> pd.DataFrame:
    """Median over a season's races of the mean pace delta of the team's drivers."""
    if pace.empty:
        return pd.DataFrame(columns=["season", "team", "pace_delta_s"])
    per_race = pace.groupby(["season", "round", "team"], as_index=False)["pace_delta_s"].mean()
    out = per_race.groupby(["season", "team"], as_index=False)["pace_delta_s"].median()
    return out.sort_values(["season", "pace_delta_s"]).reset_index(drop=True)


def driver_pace(pace: pd.DataFrame, season: int, round: int | None = None) -> dict[str, float]:
    """Latest known pace delta per driver, using only races before ``round`` when it is given.

    An exponentially weighted mean of the driver's races of ``season`` (half-life
    ``HALF_LIFE_RACES``); drivers with no race yet that season take their last value of an earlier
    season (so round 1 is answered from the previous year).
    """
    if pace.empty:
        return {}
    p = pace[pace["season"] < season]
    cur = pace[pace["season"] == season]
    if round is not None:
        cur = cur[cur["round"] < round]
    out: dict[str, float] = {}
    for drv, g in p.sort_values(["season", "round"]).groupby("driver"):
        last = g[g["season"] == g["season"].max()]
        out[str(drv)] = _ewm(last["pace_delta_s"].to_numpy())
    for drv, g in cur.sort_values("round").groupby("driver"):
        out[str(drv)] = _ewm(g["pace_delta_s"].to_numpy())
    return out


def _ewm(x: np.ndarray) -> float:
    w = 0.5 ** (np.arange(len(x))[::-1] / HALF_LIFE_RACES)
    return float(np.sum(w * x) / np.sum(w))
