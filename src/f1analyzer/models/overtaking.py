"""Passing probability and retirements, per circuit.

**Passing.** Take every pair of cars running nose to tail (adjacent positions, within
``CLOSE_GAP_S`` at the line at the end of lap ``k``) where neither pits on laps ``k`` and ``k + 1``
and lap ``k + 1`` is green, and ask whether the follower is ahead at the end of lap ``k + 1``.
Lap ``k`` itself may be neutralised: the **restart** laps (the Safety Car comes in, the field
is bunched and DRS is still off) are where many real passes happen. The follower's *pace
advantage* is the difference of the two cars' expected lap times on lap ``k + 1`` (driver-race
intercept + compound offset + wear at its tyre age, from the tyre model), plus the DRS gain
``DRS_GAIN_S`` when it has DRS (within ``DRS_WINDOW_S`` and DRS enabled: lap ``k + 1`` from lap
3 and lap ``k`` green) - the same pace delta the simulator compares (its lap times without
their noise: these odds already average over the noise of real laps). The model is

    logit P(pass) = intercept + circuit_effect + pace_coef_per_s * delta_s + drs_coef * drs

with ``intercept``, ``pace_coef_per_s`` and ``drs_coef`` fitted on all circuits together and
``circuit_effect`` per circuit with a Gaussian prior at 0 worth ``shrinkage_races`` average races
(:func:`fit_passing`). The simulator uses it as ``RaceParams.passing``.
**Held-up gap.** A follower that does not get past cannot sit on the leader's gearbox: dirty air
keeps it some way back. The gap at which real followers are held up is measured on the same
pairs: the line gap at the end of lap ``k + 1`` of the pairs that did not swap, where the follower
was expected to be quicker (``advantage_s > 0``, so it is held up rather than dropping back) and
lap ``k`` was not a restart. Its quantiles at :data:`HELD_GAP_PROBS` (:func:`fit_held_gap`) are
``RaceParams.passing.held_gap_s``: the simulator draws each held-up car's gap from them.

``overtake_threshold_s`` (kept for reports) is the advantage without DRS at which a pass becomes
more likely than not (capped at ``MAX_THRESHOLD_S``: Monaco). ``overtakes_per_race`` counts every
green-lap position swap between two cars that did not pit (all pairs, not only adjacent ones).

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
#: the simulator's DRS window and gain (``RaceParams.drs_window_s`` / ``drs_gain_s`` defaults)
DRS_WINDOW_S = 1.0
DRS_GAIN_S = 0.4
#: passing defaults, equal to ``simulation.core.params.PassingParams`` (a test checks it):
#: the all-circuit fit on 2018-2024, rounded
DEFAULT_PASSING = {"intercept": -2.0, "pace_coef_per_s": 1.2, "drs_coef": -0.7}
#: probabilities of the held-up gap's quantiles (5 %, 15 %, ..., 95 %)
HELD_GAP_PROBS = tuple(round(0.05 + 0.1 * i, 2) for i in range(10))
#: held-up gap quantiles at HELD_GAP_PROBS (s), equal to ``PassingParams.held_gap_s``'s default
#: (a test checks it): the all-circuit fit on 2018-2024, rounded
DEFAULT_HELD_GAP_S = (0.27, 0.44, 0.53, 0.61, 0.68, 0.75, 0.82, 0.91, 1.04, 1.48)
#: fewest held-up pairs for a fit of the held-up gap (fewer: the default)
MIN_HELD_PAIRS = 100


def _neutral(status: pd.Series) -> np.ndarray:
    s = status.fillna("").astype(str)
    return s.str.contains("[4567]", regex=True).to_numpy()


def pass_events(laps: pd.DataFrame, expected_s: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(close pairs with advantage_s, drs, restart and passed; per-race count of green swaps).

    Args:
        laps: lap table of any number of races.
        expected_s: expected lap time of each lap row (same index as ``laps``; NaN when unknown).

    The pairs' ``advantage_s`` is the expected lap-time advantage of the follower on the next
    lap without DRS; ``delta_s`` adds ``DRS_GAIN_S`` when ``drs`` (the simulator's lap delta);
    ``gap_next_s`` is the line gap at the end of the next lap (NaN when the follower passed).
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
        boxed = np.ones((L, D), dtype=bool)
        neutral = np.ones((L, D), dtype=bool)
        li = g["lap_number"].to_numpy(int)
        di = drivers.get_indexer(g["driver"])
        pos[li, di] = g["position"].astype("float64").to_numpy()
        t[li, di] = g["session_time_s"].to_numpy(np.float64)
        exp[li, di] = g["expected_s"].to_numpy(np.float64)
        boxed[li, di] = g["pit_in"].to_numpy(bool) | g["pit_out"].to_numpy(bool)
        neutral[li, di] = g["neutral"].to_numpy()
        bad = boxed | neutral
        # all-pairs swaps on green racing laps: i behind j at k, ahead of j at k+1
        k = np.arange(2, n_laps)
        ok = ~bad[k] & ~bad[k + 1] & np.isfinite(pos[k]) & np.isfinite(pos[k + 1])
        p0, p1 = pos[k], pos[k + 1]
        behind = p0[:, :, None] > p0[:, None, :]
        ahead = p1[:, :, None] < p1[:, None, :]
        both = ok[:, :, None] & ok[:, None, :]
        swaps.append({"season": int(season), "round": int(rnd), "passes": int((behind & ahead & both).sum())})
        # adjacent close pairs: lap k+1 green racing for both, lap k may be a neutralised lap
        # (a restart) but not a pit lap
        for lap in range(1, n_laps):
            okk = (~boxed[lap] & ~boxed[lap + 1] & ~neutral[lap + 1] & np.isfinite(pos[lap])
                   & np.isfinite(pos[lap + 1]))
            order = np.argsort(np.where(np.isfinite(pos[lap]), pos[lap], 1e9))
            restart = bool(neutral[lap][okk].any()) if okk.any() else False
            drs_open = lap + 1 >= 3 and not restart
            for a, b in zip(order[:-1], order[1:]):
                if not (okk[a] and okk[b]) or pos[lap, b] != pos[lap, a] + 1:
                    continue
                gap = t[lap, b] - t[lap, a]
                if not (0 < gap <= CLOSE_GAP_S):
                    continue
                adv = exp[lap + 1, a] - exp[lap + 1, b]
                if np.isfinite(adv):
                    drs = bool(drs_open and gap < DRS_WINDOW_S)
                    passed = bool(pos[lap + 1, b] < pos[lap + 1, a])
                    gap_next = np.nan if passed else float(t[lap + 1, b] - t[lap + 1, a])
                    pairs.append((int(season), int(rnd), lap, float(gap), float(adv), drs, restart,
                                  passed, gap_next))
    pair_df = pd.DataFrame(pairs, columns=["season", "round", "lap", "gap_s", "advantage_s", "drs",
                                           "restart", "passed", "gap_next_s"])
    pair_df["delta_s"] = pair_df["advantage_s"] + DRS_GAIN_S * pair_df["drs"].astype(float)
    return pair_df, pd.DataFrame(swaps, columns=["season", "round", "passes"])


def fit_held_gap(pairs: pd.DataFrame, default: tuple[float, ...] = DEFAULT_HELD_GAP_S) -> tuple[float, ...]:
    """Quantiles (s) at :data:`HELD_GAP_PROBS` of the gap at which followers are held up.

    The pairs of :func:`pass_events` where the follower was expected to be quicker and did not
    get past on a green lap that was not a restart: their line gap at the end of that lap.
    Fewer than :data:`MIN_HELD_PAIRS` such pairs give ``default``.
    """
    if len(pairs) == 0 or "gap_next_s" not in pairs:
        return tuple(default)
    g = pairs["gap_next_s"].to_numpy(np.float64)
    held = ((pairs["advantage_s"].to_numpy(np.float64) > 0) & ~pairs["restart"].to_numpy(bool)
            & ~pairs["passed"].to_numpy(bool) & np.isfinite(g) & (g > 0))
    if held.sum() < MIN_HELD_PAIRS:
        return tuple(default)
    return tuple(round(float(q), 4) for q in np.quantile(g[held], HELD_GAP_PROBS))


def passing_design(pairs: pd.DataFrame) -> np.ndarray:
    """``[n, 3]`` design ``[1, delta_s, drs]`` of :func:`pass_events` pairs."""
    return np.column_stack([np.ones(len(pairs)), pairs["delta_s"].to_numpy(np.float64),
                            pairs["drs"].to_numpy(np.float64)])


def fit_passing(pairs: pd.DataFrame, n_races: int, shrinkage_races: float) -> tuple[np.ndarray, dict]:
    """All-circuit ``[intercept, pace_coef_per_s, drs_coef]`` and a per-circuit effect function.

    Returns ``(beta, effect)`` where ``effect(circuit_pairs)`` is the circuit's intercept shift
    (MAP with a Gaussian prior at 0 whose precision is ``shrinkage_races`` times the all-circuit
    intercept information per race).
    """
    if len(pairs) == 0 or pairs["passed"].nunique() < 2:
        beta = np.array([DEFAULT_PASSING["intercept"], DEFAULT_PASSING["pace_coef_per_s"],
                         DEFAULT_PASSING["drs_coef"]])
        return beta, {"prior_precision": 1.0}
    X = passing_design(pairs)
    y = pairs["passed"].to_numpy(float)
    beta = fit_logistic_X(X, y, np.zeros(3), 1e-6)
    p = 1 / (1 + np.exp(-np.clip(X @ beta, -50, 50)))  # clipped: separable small samples
    info_per_race = float((p * (1 - p)).sum()) / max(n_races, 1)
    return beta, {"prior_precision": shrinkage_races * info_per_race}


def circuit_effect(pairs: pd.DataFrame, beta: np.ndarray, prior_precision: float, n_iter: int = 50) -> float:
    """MAP intercept shift of one circuit's pairs given the all-circuit ``beta`` (prior N(0, 1/prec))."""
    if len(pairs) == 0:
        return 0.0
    X = passing_design(pairs)
    y = pairs["passed"].to_numpy(float)
    eta0 = X @ beta
    c = 0.0
    for _ in range(n_iter):
        p = 1 / (1 + np.exp(-np.clip(eta0 + c, -50, 50)))
        grad = float((y - p).sum()) - prior_precision * c
        hess = float((p * (1 - p)).sum()) + prior_precision
        step = grad / max(hess, 1e-9)
        c += step
        if abs(step) < 1e-9:
            break
    return float(c)


def fit_logistic_X(X: np.ndarray, y: np.ndarray, prior_mean: np.ndarray,
                   prior_precision: float | np.ndarray = 0.0, n_iter: int = 50) -> np.ndarray:
    """MAP logistic regression on a design matrix ``X`` ``[n, k]`` by Newton steps."""
    m = np.asarray(prior_mean, dtype=np.float64)
    k = X.shape[1]
    P = np.asarray(prior_precision, dtype=np.float64)
    P = P * np.eye(k) if P.ndim == 0 else P
    beta = m.copy()
    for _ in range(n_iter):
        p = 1 / (1 + np.exp(-np.clip(X @ beta, -50, 50)))
        grad = X.T @ (y - p) - P @ (beta - m)
        H = -(X.T * (p * (1 - p))) @ X - P - 1e-9 * np.eye(k)
        step = np.linalg.lstsq(H, grad, rcond=None)[0]
        beta = beta - step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def fisher_information(x: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``X' W X`` of a logistic fit at ``beta`` (2×2)."""
    X = np.column_stack([np.ones_like(x), x])
    p = 1 / (1 + np.exp(-np.clip(X @ beta, -50, 50)))
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
        p = 1 / (1 + np.exp(-np.clip(X @ beta, -50, 50)))
        grad = X.T @ (y - p) - P @ (beta - m)
        H = -(X.T * (p * (1 - p))) @ X - P - 1e-9 * np.eye(2)
        step = np.linalg.lstsq(H, grad, rcond=None)[0]
        beta = beta - step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def threshold_s(beta: np.ndarray, circuit_effect: float = 0.0) -> float:
    """Pace advantage (no DRS) at which P(pass) = 0.5, within [MIN_THRESHOLD_S, MAX_THRESHOLD_S]."""
    b0, b1 = float(beta[0]) + circuit_effect, float(beta[1])
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
