"""Pit-stop time loss: what a stop costs against staying out, per circuit.

A stop slows two laps: the *in-lap* (the car brakes for the pit entry and crawls down the lane up to
its box) and the *out-lap* (stationary time, the rest of the lane, cold tyres). The loss is

    pit_loss_s = in_lap_time_s + out_lap_time_s - 2 * reference_lap_time_s

* green stops: the reference is the driver's own clean pace around the stop (median of up to three
  clean laps before the in-lap and three after the out-lap, averaged, so old and new tyres balance);
* stops under Safety Car / VSC (in-lap and out-lap both saw status 4 / 6-7) are **not** priced by
  a lap-time sum: the field bunches up behind the Safety Car, so lap times say little about what
  the stop cost. They are measured against the **pre-neutralisation gaps**
  (:func:`neutral_pairs`): for a stop made on the first neutralised lap (the lap before was
  green), every car that did not stop and was ``gap_s`` behind at the end of that green lap is
  either ahead of the stopper at the end of its out-lap (it gained the stop on it) or still
  behind. ``P(ahead | gap)`` falls from 1 to 0 around the loss; a logistic curve in
  ``gap / green loss`` gives the SC/green (VSC/green) ratio at which it crosses 1/2, pooled over
  all circuits and shrunk per circuit towards the pooled ratio with ``prior_stops`` stops of
  weight (:func:`summarise`). This is exactly what the simulator charges: under SC the stop is
  charged against the gaps at the start of the in-lap, then the queue forms
  (``simulation/core/engine.py``). The lap-time sum (``loss_s`` of neutralised stops) stays in
  :func:`stop_losses` for comparison (``benchmarks/bench_pit_loss.py``).

TU Munich's race simulation splits the same quantity into ``t_pitdrive_inlap + t_pitdrive_outlap +
t_pit_tirechange_min`` (+ a team extra); docs/MODELS.md compares the two.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .overtaking import fit_logistic_X

GREEN_RANGE_S = (5.0, 60.0)
NEUTRAL_RANGE_S = (-5.0, 60.0)
REFERENCE_WINDOW_LAPS = 6
#: reference cars further than this behind the stopper say nothing about its loss
MAX_PAIR_GAP_S = 60.0
#: round defaults, equal to the simulator's ``RaceParams`` defaults (a test checks it)
DEFAULT_PIT_LOSS_S = 22.0
DEFAULT_PIT_LOSS_SC_S = 12.0
DEFAULT_PIT_LOSS_VSC_S = 15.0
DEFAULT_PIT_LOSS_SD_S = 0.8
NEUTRAL_KINDS = ("sc", "vsc")


def _mad_sd(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    if len(x) < 2:
        return float("nan")
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def stop_losses(laps: pd.DataFrame, pit_stops: pd.DataFrame) -> pd.DataFrame:
    """One row per usable stop: season, round, driver, lap, kind ('green'/'sc'/'vsc'), loss_s."""
    cols = ["season", "round", "driver", "lap", "kind", "loss_s", "pit_lane_time_s"]
    if pit_stops.empty or laps.empty:
        return pd.DataFrame(columns=cols)
    lt = laps[["season", "round", "driver", "lap_number", "lap_time_s", "track_status", "is_clean",
               "pit_in", "pit_out"]].copy()
    lt["track_status"] = lt["track_status"].fillna("").astype(str)
    st = pit_stops[~pit_stops["under_red_flag"].astype(bool) & (pit_stops["lap"] > 1)].copy()
    idx = lt.set_index(["season", "round", "driver", "lap_number"])
    key_in = list(zip(st["season"], st["round"], st["driver"], st["lap"]))
    key_out = list(zip(st["season"], st["round"], st["driver"], st["lap"] + 1))
    t_in = idx["lap_time_s"].reindex(key_in).to_numpy()
    t_out = idx["lap_time_s"].reindex(key_out).to_numpy()
    s_in = idx["track_status"].reindex(key_in).fillna("").to_numpy()
    s_out = idx["track_status"].reindex(key_out).fillna("").to_numpy()
    st["t_in"], st["t_out"] = t_in, t_out
    # a stop counts as SC (VSC) only when both its in-lap and out-lap were neutralised: a stop on
    # the lap the SC came in, or was called at the line, costs nearly a green stop
    neutral = np.array([any(d in a + b for d in "4567") for a, b in zip(s_in, s_out)])
    sc = np.array(["4" in a and "4" in b for a, b in zip(s_in, s_out)])
    vsc = np.array([any(d in a for d in "67") and any(d in b for d in "67") for a, b in zip(s_in, s_out)]) & ~sc
    st["kind"] = np.where(sc, "sc", np.where(vsc, "vsc", np.where(neutral, "mixed", "green")))
    st = st[st["kind"] != "mixed"]
    st = st[np.isfinite(st["t_in"]) & np.isfinite(st["t_out"])]
    if st.empty:
        return pd.DataFrame(columns=cols)

    # field reference per lap: median of cars neither entering nor leaving the pits
    racing = lt[~lt["pit_in"] & ~lt["pit_out"] & lt["lap_time_s"].notna()]
    field = racing.groupby(["season", "round", "lap_number"])["lap_time_s"].median()
    f_in = field.reindex(list(zip(st["season"], st["round"], st["lap"]))).to_numpy()
    f_out = field.reindex(list(zip(st["season"], st["round"], st["lap"] + 1))).to_numpy()

    clean = lt[lt["is_clean"].astype(bool)]
    by_driver = {k: g[["lap_number", "lap_time_s"]].to_numpy() for k, g in
                 clean.groupby(["season", "round", "driver"], sort=False)}
    ref = np.full(len(st), np.nan)
    for i, (s, r, d, lap) in enumerate(zip(st["season"], st["round"], st["driver"], st["lap"])):
        arr = by_driver.get((s, r, d))
        if arr is None:
            continue
        before = arr[(arr[:, 0] < lap) & (arr[:, 0] >= lap - REFERENCE_WINDOW_LAPS)][-3:, 1]
        after = arr[(arr[:, 0] > lap + 1) & (arr[:, 0] <= lap + 1 + REFERENCE_WINDOW_LAPS)][:3, 1]
        parts = [np.median(x) for x in (before, after) if len(x)]
        if parts:
            ref[i] = float(np.mean(parts))
    green = st["kind"].to_numpy() == "green"
    loss = np.where(green, st["t_in"] + st["t_out"] - 2 * ref, (st["t_in"] - f_in) + (st["t_out"] - f_out))
    st["loss_s"] = loss
    st["pit_lane_time_s"] = st["duration_s"]
    lo_hi = np.where(green[:, None], GREEN_RANGE_S, NEUTRAL_RANGE_S)
    ok = np.isfinite(loss) & (loss >= lo_hi[:, 0]) & (loss <= lo_hi[:, 1])
    return st.loc[ok, cols].reset_index(drop=True)


def neutral_pairs(laps: pd.DataFrame, losses: pd.DataFrame, kinds=NEUTRAL_KINDS) -> pd.DataFrame:
    """(stop, reference car) pairs of stops made on the first neutralised lap.

    For each stop of ``losses`` of a kind in ``kinds`` whose in-lap ``L`` followed a green lap
    (the stopper's lap ``L - 1`` saw no status 4-7), every other car that did not stop on laps
    ``L - 1 .. L + 1`` and was ``0 < gap_s <= MAX_PAIR_GAP_S`` behind at the end of lap ``L - 1``
    gives one row: ``season, round, driver, lap, kind, ref, gap_s, ahead`` (``ahead``: the
    reference car was ahead at the end of the stopper's out-lap ``L + 1``). Green stops can be
    asked for too (``kinds=("green",)``) to compare the two measures.
    """
    cols = ["season", "round", "driver", "lap", "kind", "ref", "gap_s", "ahead"]
    st = losses[losses["kind"].isin(kinds)]
    if st.empty or laps.empty:
        return pd.DataFrame(columns=cols)
    need = laps[["season", "round", "driver", "lap_number", "session_time_s", "pit_in", "pit_out",
                 "track_status"]]
    out = []
    keys = set(zip(st["season"], st["round"]))
    for (season, rnd), g in need[[k in keys for k in zip(need["season"], need["round"])]].groupby(
            ["season", "round"], sort=False):
        drivers = pd.Index(g["driver"].unique())
        n_laps = int(g["lap_number"].max()) + 2
        t = np.full((n_laps, len(drivers)), np.nan)
        boxed = np.zeros((n_laps, len(drivers)), dtype=bool)
        neutral = np.zeros((n_laps, len(drivers)), dtype=bool)
        li, di = g["lap_number"].to_numpy(int), drivers.get_indexer(g["driver"])
        t[li, di] = g["session_time_s"].to_numpy(np.float64)
        boxed[li, di] = g["pit_in"].to_numpy(bool) | g["pit_out"].to_numpy(bool)
        neutral[li, di] = g["track_status"].fillna("").astype(str).str.contains("[4567]", regex=True).to_numpy()
        mine = st[(st["season"] == season) & (st["round"] == rnd)]
        for r in mine.itertuples(index=False):
            lap, d = int(r.lap), drivers.get_loc(r.driver)
            if not 2 <= lap <= n_laps - 3 or neutral[lap - 1, d]:
                continue  # a stop on a later neutralised lap: the gaps before it were bunching
            pre, post = t[lap - 1], t[lap + 1]
            ok = (~boxed[lap - 1:lap + 2].any(axis=0) & np.isfinite(pre) & np.isfinite(post)
                  & (np.arange(len(drivers)) != d))
            if not (np.isfinite(pre[d]) and np.isfinite(post[d])):
                continue
            gap = pre - pre[d]
            sel = np.flatnonzero(ok & (gap > 0) & (gap <= MAX_PAIR_GAP_S))
            for x in sel:
                out.append((int(season), int(rnd), r.driver, lap, r.kind, drivers[x], float(gap[x]),
                            bool(post[x] < post[d])))
    return pd.DataFrame(out, columns=cols)


def _design(pairs: pd.DataFrame, green_s) -> np.ndarray:
    """``[n, 3]`` design ``[1, gap / green loss, is VSC]`` of neutral pairs."""
    u = pairs["gap_s"].to_numpy(np.float64) / np.asarray(green_s, dtype=np.float64)
    return np.column_stack([np.ones(len(pairs)), u, (pairs["kind"] == "vsc").to_numpy(np.float64)])


def _n_stops(pairs: pd.DataFrame) -> int:
    return int(pairs[["season", "round", "driver", "lap"]].drop_duplicates().shape[0]) if len(pairs) else 0


def pooled_ratios(pairs: pd.DataFrame, green_by_circuit: dict[str, float]) -> dict:
    """All-circuit logistic fit of SC and VSC pairs together on ``u = gap_s / green loss``.

    ``logit P(ahead) = b0 + b1 * u + b2 * is_vsc``: the SC loss is ``-b0/b1`` green losses and the
    VSC loss ``-(b0 + b2)/b1``; circuits shift ``b0`` (:func:`summarise`), so a circuit's pit lane
    moves both. Returns ``{"beta", "info_per_stop", "sc_ratio", "vsc_ratio", "n_stops",
    "constrained"}``; ``pairs`` needs a ``circuit_key`` column.
    """
    default = np.array([DEFAULT_PIT_LOSS_SC_S, DEFAULT_PIT_LOSS_VSC_S]) / DEFAULT_PIT_LOSS_S
    q = pairs[pairs["kind"].isin(NEUTRAL_KINDS) & pairs["circuit_key"].isin(list(green_by_circuit))]
    n_stops, constrained = _n_stops(q), []
    if n_stops < 4 or q["ahead"].nunique() < 2:
        slope = -10.0
        beta = np.array([-slope * default[0], slope, -slope * (default[1] - default[0])])
        constrained.append("too few neutralised stops: default SC/VSC shares of the green loss")
        X = np.zeros((0, 3))
    else:
        X = _design(q, q["circuit_key"].map(green_by_circuit).astype(float))
        beta = fit_logistic_X(X, q["ahead"].to_numpy(float), np.zeros(3), 1e-6)
        if beta[1] >= -1e-6:  # no fall-off with the gap: nothing measured
            slope = -10.0
            beta = np.array([-slope * default[0], slope, -slope * (default[1] - default[0])])
            constrained.append("no usable neutralised stops: default SC/VSC shares of the green loss")
        elif beta[2] < 0:  # VSC cheaper than SC across all circuits: physically the SC is slower
            constrained.append(f"pooled VSC loss below SC ({-(beta[0] + beta[2]) / beta[1]:.2f} vs "
                               f"{-beta[0] / beta[1]:.2f} green losses): VSC set equal to SC")
            beta = np.array([beta[0], beta[1], 0.0])
    p = 1 / (1 + np.exp(-np.clip(X @ beta, -50, 50)))
    info = float((p * (1 - p)).sum()) / max(n_stops, 1) if len(X) else 1.0
    return {"beta": beta, "info_per_stop": max(info, 1e-3), "sc_ratio": float(-beta[0] / beta[1]),
            "vsc_ratio": float(-(beta[0] + beta[2]) / beta[1]), "n_stops": n_stops,
            "constrained": constrained}


def _circuit_shift(X: np.ndarray, y: np.ndarray, beta: np.ndarray, precision: float) -> float:
    """MAP shift of ``b0`` for one circuit's pairs (Gaussian prior at 0 with ``precision``)."""
    if len(X) == 0:
        return 0.0
    eta0, c = X @ beta, 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(eta0 + c, -50, 50)))
        step = (float((y - p).sum()) - precision * c) / (float((p * (1 - p)).sum()) + precision)
        c += step
        if abs(step) < 1e-9:
            break
    return float(c)


def summarise(losses: pd.DataFrame, prior: dict | None = None, prior_stops: float = 5.0,
              pairs: pd.DataFrame | None = None, pooled: dict | None = None) -> dict:
    """Per-circuit pit loss from :func:`stop_losses` rows (and :func:`neutral_pairs`) of a circuit.

    Green loss is the median lap-time loss (robust to penalties and slow stops), shrunk to
    ``prior["pit_loss_s"]`` with ``prior_stops`` pseudo-stops. SC and VSC losses are the pooled
    ratios of :func:`pooled_ratios` (``pooled``) with the circuit's own shift of the curve, fitted
    on its pairs with a Gaussian prior at 0 worth ``prior_stops`` stops, times the green loss: a
    circuit with few neutralised stops keeps about the pooled ratios, one with many gets its own,
    and VSC ≥ SC holds whenever it holds pooled. Without ``pooled`` (the all-circuit green loss
    before the pairs exist) the lap-time medians are used.

    A constraint still applied is listed in ``pit_loss_constrained`` (one sentence each).
    """
    g = losses.loc[losses["kind"] == "green", "loss_s"].to_numpy(np.float64)
    out: dict = {}
    if prior is None:
        out["pit_loss_s"] = float(np.median(g)) if len(g) else DEFAULT_PIT_LOSS_S
        out["pit_loss_sd_s"] = _mad_sd(g) if len(g) > 1 else DEFAULT_PIT_LOSS_SD_S
    else:
        w = len(g) / (len(g) + prior_stops)
        out["pit_loss_s"] = float(w * np.median(g) + (1 - w) * prior["pit_loss_s"]) if len(g) else prior["pit_loss_s"]
        sd = _mad_sd(g)
        out["pit_loss_sd_s"] = float(sd) if len(g) >= 5 and np.isfinite(sd) else prior["pit_loss_sd_s"]
    green = out["pit_loss_s"]
    for kind in NEUTRAL_KINDS:
        out[f"n_{kind}_stops"] = int((losses["kind"] == kind).sum())
    constrained: list[str] = []
    if pooled is None:
        for kind, default in (("sc", DEFAULT_PIT_LOSS_SC_S), ("vsc", DEFAULT_PIT_LOSS_VSC_S)):
            x = losses.loc[losses["kind"] == kind, "loss_s"].to_numpy(np.float64)
            out[f"pit_loss_{kind}_s"] = float(np.median(x)) if len(x) else green * default / DEFAULT_PIT_LOSS_S
        out["n_neutral_stops_measured"] = 0
    else:
        beta = pooled["beta"]
        q = pairs[pairs["kind"].isin(NEUTRAL_KINDS)] if pairs is not None and len(pairs) else None
        shift = 0.0
        if q is not None and len(q):
            shift = _circuit_shift(_design(q, green), q["ahead"].to_numpy(float), beta,
                                   prior_stops * pooled["info_per_stop"])
        out["pit_loss_sc_s"] = float(-(beta[0] + shift) / beta[1] * green)
        out["pit_loss_vsc_s"] = float(-(beta[0] + beta[2] + shift) / beta[1] * green)
        out["n_neutral_stops_measured"] = _n_stops(q) if q is not None else 0
        constrained += list(pooled.get("constrained", []))
    constrained += _order(out)
    out["pit_loss_constrained"] = constrained
    lane = losses["pit_lane_time_s"].to_numpy(np.float64)
    lane = lane[np.isfinite(lane) & (losses["kind"].to_numpy() == "green")]
    out["pit_lane_time_s"] = round(float(np.median(lane)), 3) if len(lane) else None
    out["n_pit_stops"] = int(len(g))
    return out


def fit_circuits(laps: pd.DataFrame, pit_stops: pd.DataFrame, circuit_of: pd.Series,
                 prior_stops: float = 5.0) -> tuple[dict, dict[str, dict]]:
    """Pit losses of every circuit: ``(all-circuit summary, {circuit_key: summary})``.

    ``circuit_of`` maps ``(season, round)`` to a circuit key. Green losses are shrunk to the
    all-circuit median, SC/VSC ratios to the pooled fit (:func:`summarise`).
    """
    losses = stop_losses(laps, pit_stops)
    losses["circuit_key"] = circuit_of.reindex(list(zip(losses["season"], losses["round"]))).to_numpy()
    glob_green = summarise(losses)
    green = {str(k): summarise(d, glob_green, prior_stops)["pit_loss_s"]
             for k, d in losses.groupby("circuit_key")}
    pairs = neutral_pairs(laps, losses)
    pairs["circuit_key"] = circuit_of.reindex(list(zip(pairs["season"], pairs["round"]))).to_numpy()
    pooled = pooled_ratios(pairs, green)
    glob = summarise(losses, pooled=pooled)
    by_circuit = {str(k): summarise(losses[losses["circuit_key"] == k], glob, prior_stops, pooled=pooled,
                                    pairs=pairs[pairs["circuit_key"] == k])
                  for k in pd.unique(circuit_of.astype(str))}
    return glob, by_circuit


def _order(out: dict) -> list[str]:
    """Enforce 0 ≤ SC ≤ VSC ≤ green in ``out`` (in place); one sentence per change made."""
    changed = []
    sc, vsc, green = out["pit_loss_sc_s"], out["pit_loss_vsc_s"], out["pit_loss_s"]
    if sc > vsc:
        changed.append(f"SC loss {sc:.1f} s above VSC {vsc:.1f} s: SC set to the VSC loss")
        sc = vsc
    if vsc > green:
        changed.append(f"VSC loss {vsc:.1f} s above green {green:.1f} s: set to green")
        vsc = green
    if sc > green:
        changed.append(f"SC loss {sc:.1f} s above green {green:.1f} s: set to green")
        sc = green
    if sc < 0:
        changed.append(f"SC loss {sc:.1f} s below zero: set to 0")
        sc = 0.0
    out["pit_loss_sc_s"], out["pit_loss_vsc_s"] = float(sc), float(max(vsc, sc))
    return changed
