"""Pit-stop time loss: what a stop costs against staying out, per circuit.

A stop slows two laps: the *in-lap* (the car brakes for the pit entry and crawls down the lane up to
its box) and the *out-lap* (stationary time, the rest of the lane, cold tyres). The loss is

    pit_loss_s = in_lap_time_s + out_lap_time_s - 2 * reference_lap_time_s

* green stops: the reference is the driver's own clean pace around the stop (median of up to three
  clean laps before the in-lap and three after the out-lap, averaged, so old and new tyres balance);
* stops under Safety Car / VSC (in-lap and out-lap both saw status 4 / 6-7): everyone is slow, so the reference is
  the median time of the cars that did not stop on the same two laps. This is why a stop under SC is
  "cheap": the field loses time too.

TU Munich's race simulation splits the same quantity into ``t_pitdrive_inlap + t_pitdrive_outlap +
t_pit_tirechange_min`` (+ a team extra); docs/MODELS.md compares the two.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GREEN_RANGE_S = (5.0, 60.0)
NEUTRAL_RANGE_S = (-5.0, 60.0)
REFERENCE_WINDOW_LAPS = 6


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


def summarise(losses: pd.DataFrame, prior: dict | None = None, prior_stops: float = 5.0) -> dict:
    """Per-circuit pit loss from :func:`stop_losses` rows of that circuit.

    Green loss is the median (robust to penalties and slow stops); SC/VSC losses are shrunk towards
    ``green × all-circuit ratio`` with ``prior_stops`` pseudo-stops, since few stops happen under SC.
    """
    g = losses.loc[losses["kind"] == "green", "loss_s"].to_numpy(np.float64)
    out: dict = {}
    if prior is None:
        out["pit_loss_s"] = float(np.median(g)) if len(g) else 22.0
        out["pit_loss_sd_s"] = _mad_sd(g) if len(g) > 1 else 2.0
    else:
        w = len(g) / (len(g) + prior_stops)
        out["pit_loss_s"] = float(w * np.median(g) + (1 - w) * prior["pit_loss_s"]) if len(g) else prior["pit_loss_s"]
        sd = _mad_sd(g)
        out["pit_loss_sd_s"] = float(sd) if len(g) >= 5 and np.isfinite(sd) else prior["pit_loss_sd_s"]
    for kind in ("sc", "vsc"):
        x = losses.loc[losses["kind"] == kind, "loss_s"].to_numpy(np.float64)
        name = f"pit_loss_{kind}_s"
        if prior is None:
            out[name] = float(np.median(x)) if len(x) else out["pit_loss_s"] * (0.5 if kind == "sc" else 0.65)
        else:
            target = out["pit_loss_s"] * prior[name] / prior["pit_loss_s"]
            w = len(x) / (len(x) + prior_stops)
            out[name] = float(w * np.median(x) + (1 - w) * target) if len(x) else float(target)
        # a neutralised stop is never dearer than a green one: higher medians come from double
        # stacking and the queue forming mid-lap (docs/MODELS.md)
        out[name] = float(min(out[name], out["pit_loss_s"]))
        out[f"n_{kind}_stops"] = int(len(x))
    lane = losses["pit_lane_time_s"].to_numpy(np.float64)
    lane = lane[np.isfinite(lane) & (losses["kind"].to_numpy() == "green")]
    out["pit_lane_time_s"] = round(float(np.median(lane)), 3) if len(lane) else None
    out["n_pit_stops"] = int(len(g))
    return out
