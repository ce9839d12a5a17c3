"""Overtaking difficulty and retirements, per circuit.

**Overtaking.** On green laps where neither car pits, take every pair of cars running nose to tail
(adjacent positions, within ``CLOSE_GAP_S`` at the line) and ask whether the follower is ahead one
lap later. The follower's *pace advantage* is the difference of the two cars' expected lap times on
that next lap (driver-race intercept + compound offset + wear at its tyre age, from the tyre model).
A logistic curve ``P(pass) = 1 / (1 + exp(-(b0 + b1 * advantage)))`` is fitted per circuit with a
Gaussian prior centred on the all-circuit fit (few pairs at some tracks), and
``overtake_threshold_s`` is the advantage at which a pass becomes more likely than not, ``-b0/b1``
(capped at ``MAX_THRESHOLD_S``: Monaco). ``overtakes_per_race`` counts every green-lap position
swap between two cars that did not pit (all pairs, not only adjacent ones), per race.

**Retirements.** A car whose classification says it did not finish (its last lap ended before the
winner took the flag, see ``data.derive.classification``) retired; the per-car probability is
pooled with ``shrinkage_races`` all-circuit races.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.derive import classification

CLOSE_GAP_S = 1.0
MAX_THRESHOLD_S = 5.0
MIN_THRESHOLD_S = 0.1
#: used when there are no close pairs at all: P(pass) = 0.5 at 1.5 s advantage
DEFAULT_BETA = np.array([-3.0, 2.0])


def _neutral(status: pd.Series) -> np.ndarray:
    s = status.fillna("").astype(str)
    return s.str.contains("[4567]", regex=True).to_numpy()


def pass_events(laps: pd.DataFrame, expected_s: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(close pairs with advantage_s and passed, per-race count of green position swaps).

    Args:
        laps: lap table of any number of races.
        expected_s: expected lap time of each lap row (same index as ``laps``; NaN when unknown).
    """
    cols = ["season", "round", "driver", "lap_number", "position", "session_time_s", "pit_in", "pit_out"]
    df = laps[cols].copy()
    df["neutral"] = _neutral(laps["track_status"])
    df["expected_s"] = expected_s.reindex(laps.index).to_numpy()
    pairs, swaps = [], []
    for (season, rnd), g in df.groupby(["season", "round"], sort=True):
        drivers = pd.Index(g["driver"].unique())
        n_laps = int(g["lap_number"].max())
        D, L = len(drivers), n_laps + 2
        pos = np.full((L, D), np.nan)
        t = np.full((L, D), np.nan)
        exp = np.full((L, D), np.nan)
        bad = np.ones((L, D), dtype=bool)
        li = g["lap_number"].to_numpy(int)
        di = drivers.get_indexer(g["driver"])
        pos[li, di] = g["position"].astype("float64").to_numpy()
        t[li, di] = g["session_time_s"].to_numpy(np.float64)
        exp[li, di] = g["expected_s"].to_numpy(np.float64)
        bad[li, di] = (g["neutral"].to_numpy() | g["pit_in"].to_numpy(bool) | g["pit_out"].to_numpy(bool))
        k = np.arange(2, n_laps)  # lap k and k+1 must both be clean racing laps
        ok = ~bad[k] & ~bad[k + 1] & np.isfinite(pos[k]) & np.isfinite(pos[k + 1])
        p0, p1 = pos[k], pos[k + 1]
        # all-pairs swaps: i behind j at k, ahead of j at k+1
        behind = p0[:, :, None] > p0[:, None, :]
        ahead = p1[:, :, None] < p1[:, None, :]
        both = ok[:, :, None] & ok[:, None, :]
        swaps.append({"season": int(season), "round": int(rnd), "passes": int((behind & ahead & both).sum())})
        # adjacent close pairs
        for kk, lap in enumerate(k):
            order = np.argsort(np.where(np.isfinite(p0[kk]), p0[kk], 1e9))
            for a, b in zip(order[:-1], order[1:]):
                if not (ok[kk, a] and ok[kk, b]) or p0[kk, b] != p0[kk, a] + 1:
                    continue
                gap = t[lap, b] - t[lap, a]
                if not (0 < gap <= CLOSE_GAP_S):
                    continue
                adv = exp[lap + 1, a] - exp[lap + 1, b]
                if np.isfinite(adv):
                    pairs.append((int(season), int(rnd), float(gap), float(adv), bool(p1[kk, b] < p1[kk, a])))
    pair_df = pd.DataFrame(pairs, columns=["season", "round", "gap_s", "advantage_s", "passed"])
    return pair_df, pd.DataFrame(swaps, columns=["season", "round", "passes"])


def fisher_information(x: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``X' W X`` of a logistic fit at ``beta`` (2×2)."""
    X = np.column_stack([np.ones_like(x), x])
    p = 1 / (1 + np.exp(-(X @ beta)))
    return (X.T * (p * (1 - p))) @ X


def fit_logistic(x: np.ndarray, y: np.ndarray, prior_mean: np.ndarray | None = None,
                 prior_precision: float | np.ndarray = 0.0, n_iter: int = 50) -> np.ndarray:
    """MAP logistic regression ``[b0, b1]`` by Newton steps.

    ``prior_precision`` (scalar or 2×2) is the precision of a Gaussian prior at ``prior_mean``.
    """
    m = DEFAULT_BETA if prior_mean is None else np.asarray(prior_mean, dtype=np.float64)
    P = np.asarray(prior_precision, dtype=np.float64)
    P = P * np.eye(2) if P.ndim == 0 else P
    if len(x) == 0 or (not P.any() and len(np.unique(y)) < 2):
        return m.copy()  # nothing to learn from (no pairs, or all passes / none)
    X = np.column_stack([np.ones_like(x), x])
    beta = m.copy()
    for _ in range(n_iter):
        p = 1 / (1 + np.exp(-(X @ beta)))
        grad = X.T @ (y - p) - P @ (beta - m)
        H = -(X.T * (p * (1 - p))) @ X - P - 1e-9 * np.eye(2)
        step = np.linalg.lstsq(H, grad, rcond=None)[0]
        beta = beta - step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def threshold_s(beta: np.ndarray) -> float:
    """Pace advantage at which P(pass) = 0.5, within [MIN_THRESHOLD_S, MAX_THRESHOLD_S]."""
    b0, b1 = float(beta[0]), float(beta[1])
    if b1 <= 1e-6:
        return MAX_THRESHOLD_S
    return float(np.clip(-b0 / b1, MIN_THRESHOLD_S, MAX_THRESHOLD_S))


def retirements(laps: pd.DataFrame) -> pd.DataFrame:
    """Per race: season, round, cars, retired."""
    rows = []
    for (season, rnd), g in laps.groupby(["season", "round"], sort=True):
        res = classification(g)
        rows.append({"season": int(season), "round": int(rnd), "cars": int(len(res)),
                     "retired": int((~res["finished"]).sum())})
    return pd.DataFrame(rows, columns=["season", "round", "cars", "retired"])
