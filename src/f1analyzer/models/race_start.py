"""The start: time lost on lap 1 and positions won or lost.

The lap files have no starting grid, so two proxies are used (docs/MODELS.md explains them):

* **Time.** Every car starts at the same instant, so a car's lap-1 time is its lap-1 end time minus
  the start time (the median of ``session_time_s - lap_time_s`` of the cars whose lap-1 time is
  recorded). Against the driver's clean pace (the tyre model's intercept at lap 1), lap 1 costs
  ``first_lap_loss_s + per_grid_slot_loss_s * (position_after_lap_1 - 1)``; the two are fitted by
  least squares over every car of every race at the circuit. The slope uses the position at the end
  of lap 1, so it measures the spread of the field after one lap (start-slot distance plus the
  concertina of the first corners), not the grid spacing alone.
* **Positions.** The *expected grid slot* of a car is its rank by clean race pace in that race
  (qualifying order follows pace; penalties and bad qualifying sessions are the noise).
  ``positions_gained_by_grid[s-1]`` is the mean of ``slot - position_after_lap_1`` for slot ``s``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

N_SLOTS = 20


def lap1_table(laps: pd.DataFrame, alpha: pd.DataFrame, fuel_by_race: dict) -> pd.DataFrame:
    """One row per car and race: lap-1 time, expected clean lap, position after lap 1, pace slot."""
    l1 = laps[laps["lap_number"] == 1][["season", "round", "driver", "lap_time_s", "session_time_s",
                                        "position"]].copy()
    l1["start_s"] = l1["session_time_s"] - l1["lap_time_s"]
    start = l1.groupby(["season", "round"])["start_s"].median()
    l1 = l1.join(start.rename("race_start_s"), on=["season", "round"])
    l1["lap1_time_s"] = l1["session_time_s"] - l1["race_start_s"]
    a = alpha[["season", "round", "driver", "alpha_s"]]
    l1 = l1.merge(a, on=["season", "round", "driver"], how="inner")
    fuel = np.array([fuel_by_race.get((int(s), int(r)), 0.06) for s, r in zip(l1["season"], l1["round"])])
    l1["expected_s"] = l1["alpha_s"] - fuel
    l1["slot"] = l1.groupby(["season", "round"])["alpha_s"].rank(method="first").astype(int)
    l1["pos1"] = l1["position"].astype("float64")
    # float64: an empty merge leaves object columns, which np.isfinite refuses
    l1["excess_s"] = (l1["lap1_time_s"] - l1["expected_s"]).astype("float64")
    ok = l1["pos1"].notna() & np.isfinite(l1["excess_s"]) & (l1["excess_s"] > -5) & (l1["excess_s"] < 40)
    return l1.loc[ok, ["season", "round", "driver", "slot", "pos1", "lap1_time_s", "expected_s",
                       "excess_s"]].reset_index(drop=True)


def fit_start(t: pd.DataFrame, prior: dict | None = None, shrinkage_races: float = 3.0) -> dict:
    """first_lap_loss_s, per_grid_slot_loss_s, lap1_position_change_sd, positions_gained_by_grid."""
    n_races = int(t.groupby(["season", "round"]).ngroups) if len(t) else 0
    out: dict = {}
    if len(t) >= 10:
        x, y = t["pos1"].to_numpy() - 1.0, t["excess_s"].to_numpy()
        # one robust pass: cars with an incident on lap 1 are not the start
        b, a = np.polyfit(x, y, 1)
        r = y - (a + b * x)
        keep = np.abs(r) <= max(3 * 1.4826 * np.median(np.abs(r - np.median(r))), 1.0)
        b, a = np.polyfit(x[keep], y[keep], 1)
        gained = (t["slot"] - t["pos1"]).to_numpy(np.float64)
        sd = float(np.std(gained))
        by_slot = np.full(N_SLOTS, np.nan)
        cnt = np.zeros(N_SLOTS)
        for s in range(1, N_SLOTS + 1):
            g = gained[t["slot"].to_numpy() == s]
            cnt[s - 1] = len(g)
            if len(g):
                by_slot[s - 1] = g.mean()
        own = {"first_lap_loss_s": float(a), "per_grid_slot_loss_s": float(b),
               "lap1_position_change_sd": sd, "positions_gained_by_grid": by_slot}
    else:
        own, cnt = None, np.zeros(N_SLOTS)
    if prior is None:
        if own is None:
            return {"first_lap_loss_s": 3.0, "per_grid_slot_loss_s": 0.3, "lap1_position_change_sd": 2.0,
                    "positions_gained_by_grid": [0.0] * N_SLOTS}
        own["positions_gained_by_grid"] = np.nan_to_num(own["positions_gained_by_grid"]).tolist()
        return own
    if own is None:
        return {k: (list(v) if isinstance(v, list) else v) for k, v in prior.items()}
    w = n_races / (n_races + shrinkage_races)
    for k in ("first_lap_loss_s", "per_grid_slot_loss_s", "lap1_position_change_sd"):
        out[k] = float(w * own[k] + (1 - w) * prior[k])
    pg = np.asarray(prior["positions_gained_by_grid"], dtype=np.float64)
    slot_w = cnt / (cnt + shrinkage_races)
    own_pg = np.nan_to_num(own["positions_gained_by_grid"])
    out["positions_gained_by_grid"] = (slot_w * own_pg + (1 - slot_w) * pg).round(4).tolist()
    return out
