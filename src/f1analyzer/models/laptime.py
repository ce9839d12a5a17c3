"""Learned lap-time models: the next lap, and the rest of a stint.

Two tasks, each with an exact definition and a baseline it must beat (``models.evaluate``):

* **One lap ahead.** For every clean lap *k* whose lap *k−1* is clean and in the same stint,
  predict ``LapTime(k)`` from what is known at the end of lap *k−1*. Baseline: persistence,
  ``LapTime(k−1)``. Lap-to-lap noise (traffic, a lock-up, wind) makes the previous lap a noisy
  level, so the model predicts the residual against persistence from the deviation of the last
  two laps from the driver's recent clean-lap level (mean of the stint's last three clean laps), the stint's
  trend so far, tyre age, the circuit's typical deg/fuel trend, the gap to the car ahead and its
  pace (dirty air, DRS, being held up) and the field's current track evolution. LightGBM, absolute-error objective.
* **Stint forecast.** For every stint of ≥ 15 laps with ≥ 3 clean laps among its first 6,
  predict every clean lap from the 7th on, knowing the race only up to the stint's 6th lap.
  Baseline: the mean of the last three clean laps among the first six, held constant. The model
  predicts each lap's offset from that level from the horizon, tyre age, the circuit/compound
  net trend (degradation minus fuel burn) of earlier seasons, the stint's own early trend and
  the race so far (the net stint trend other cars showed in this race before the 6th lap), the
  car's level against the field's current level and against what earlier races at the circuit
  took (moved by this season's car-pace change): a car far slower than both is being held up or
  managing, and speeds up later.

Frames are built from ``features.prepare_laps`` output with priors attached
(``features.attach_priors``); see :func:`one_lap_frame` and :func:`stint_frame`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidRequestError, NotFittedError
from ._boosting import BoostedModel, compound_key
from .features import COMPOUND_INDEX, DRIVER, STINT, CircuitPriors

ONE_LAP_FEATURES = [
    "dev_prev", "dev_med5", "dev_min", "cl_slope", "cl_n", "tyre_age_laps", "stint_lap", "lap_number",
    "race_frac", "laps_remaining", "total_laps", "compound_idx", "gap_ahead_prev", "gap_behind_prev",
    "position_prev", "field_delta_prev", "prior_trend_s", "dev_prev2", "ahead_dev", "gap_change",
]
STINT_FEATURES = [
    "horizon_laps", "tyre_age_laps", "ref_tyre_age", "lap_number", "race_frac", "laps_remaining",
    "total_laps", "compound_idx", "stint", "prior_trend_s", "prior_shift_s", "early_slope",
    "early_shift_s", "dev_min", "dev_med5", "ref_n_clean", "field_delta_ref", "position_ref",
    "gap_ahead_ref", "prior_stint_len", "race_trend_s", "race_compound_trend_s", "race_shift_s",
    "race_compound_shift_s", "prior_tyre_trend_s", "tyre_shift_s", "field_level_gap_s", "level_vs_history_s",
]
#: stint-forecast task definition
STINT_MIN_LAPS = 15
STINT_REF_LAP = 6
STINT_MIN_CLEAN = 3


def one_lap_frame(prep: pd.DataFrame) -> pd.DataFrame:
    """Rows of the one-lap-ahead task: target lap *k*, features as of the end of lap *k−1*.

    Columns: identity (``season, round, event, driver, lap``), ``actual``, ``baseline``
    (persistence), ``level`` (recent clean-lap level the model predicts from) and
    :data:`ONE_LAP_FEATURES`.
    """
    g = prep.groupby(DRIVER, sort=False)
    prev = {c: g[c].shift(1) for c in ("cl_last3", "cl_med5", "cl_min", "cl_slope", "cl_n", "gap_ahead_s",
                                       "gap_behind_s", "position", "field_delta_s",
                                       "ahead_lap_time_s", "gap_ahead_change_s")}
    mask = (prep["clean"] & prep["prev_clean"] & prep["same_stint_prev"] & prep["lap_time_s"].notna()
            & prep["prev_lap_time_s"].notna()).to_numpy()
    level = prev["cl_last3"]
    out = pd.DataFrame({
        "season": prep["season"], "round": prep["round"], "event": prep["event"], "driver": prep["driver"],
        "lap": prep["lap_number"], "actual": prep["lap_time_s"], "baseline": prep["prev_lap_time_s"],
        "level": level, "circuit_key": prep["circuit_key"], "compound": prep["compound"],
        "dev_prev": prep["prev_lap_time_s"] - level,
        "dev_med5": prev["cl_med5"] - level,
        "dev_min": prev["cl_min"] - level,
        "cl_slope": prev["cl_slope"],
        "cl_n": prev["cl_n"],
        "gap_ahead_prev": prev["gap_ahead_s"],
        "gap_behind_prev": prev["gap_behind_s"],
        "position_prev": prev["position"],
        "field_delta_prev": prev["field_delta_s"],
        "dev_prev2": prep["prev2_lap_time_s"] - level,
        "ahead_dev": prev["ahead_lap_time_s"] - prep["prev_lap_time_s"],
        "gap_change": prev["gap_ahead_change_s"],
    })
    for c in ("tyre_age_laps", "stint_lap", "lap_number", "race_frac", "laps_remaining", "total_laps",
              "compound_idx", "prior_trend_s"):
        out[c] = prep[c]
    return out[mask].reset_index(drop=True)


def stint_frame(prep: pd.DataFrame) -> pd.DataFrame:
    """Rows of the stint-forecast task: one per scored lap (clean, stint lap ≥ 7).

    Columns: identity (``season, round, event, driver, stint, lap``), ``actual``, ``baseline``
    (the constant level) and :data:`STINT_FEATURES`.
    """
    slen = prep.groupby(STINT, sort=False)["lap_number"].transform("size")
    ref = prep[(prep["stint_lap"] == STINT_REF_LAP) & (slen >= STINT_MIN_LAPS)
               & (prep["cl_n"] >= STINT_MIN_CLEAN)]
    # first six laps of the stint must be present as rows 1..6 (stint_lap counts from the stint's first row)
    ref = ref[["season", "round", "driver", "stint", "lap_number", "tyre_age_laps", "cl_last3", "cl_med5",
               "cl_min", "cl_slope", "cl_n", "field_delta_s", "position", "gap_ahead_s", "race_trend_s",
               "race_compound_trend_s", "field_level_s"]].rename(columns={
        "lap_number": "ref_lap", "tyre_age_laps": "ref_tyre_age", "cl_last3": "level", "cl_med5": "ref_med5",
        "cl_min": "ref_min", "cl_slope": "early_slope", "cl_n": "ref_n_clean", "field_delta_s": "field_delta_ref",
        "position": "position_ref", "gap_ahead_s": "gap_ahead_ref", "race_trend_s": "race_trend_ref",
        "race_compound_trend_s": "race_compound_trend_ref", "field_level_s": "field_level_ref"})
    tgt = prep[prep["clean"] & (prep["stint_lap"] > STINT_REF_LAP) & prep["lap_time_s"].notna()]
    df = tgt.merge(ref, on=STINT, how="inner")
    h = (df["lap_number"] - df["ref_lap"]).astype("float64")
    early = df["early_slope"].clip(-0.5, 0.5)
    out = pd.DataFrame({
        "season": df["season"], "round": df["round"], "event": df["event"], "driver": df["driver"],
        "stint": df["stint"], "lap": df["lap_number"], "actual": df["lap_time_s"], "baseline": df["level"],
        "circuit_key": df["circuit_key"], "compound": df["compound"],
        "level": df["level"], "horizon_laps": h, "ref_tyre_age": df["ref_tyre_age"],
        "prior_shift_s": df["prior_trend_s"] * h,
        "early_shift_s": early * h,
        "early_slope": df["early_slope"],
        "dev_min": df["ref_min"] - df["level"], "dev_med5": df["ref_med5"] - df["level"],
        "ref_n_clean": df["ref_n_clean"], "field_delta_ref": df["field_delta_ref"],
        "position_ref": df["position_ref"], "gap_ahead_ref": df["gap_ahead_ref"],
        "race_trend_s": df["race_trend_ref"], "race_compound_trend_s": df["race_compound_trend_ref"],
        "race_shift_s": df["race_trend_ref"] * h, "race_compound_shift_s": df["race_compound_trend_ref"] * h,
        # the pooled tyre model's net trend of this set (Pirelli code, circuit, era) over the horizon
        "tyre_shift_s": df["prior_tyre_trend_s"] * h if "prior_tyre_trend_s" in df else np.nan,
        # how far this car's pace sits from the field's and from what earlier races here took
        "field_level_gap_s": df["field_level_ref"] - df["level"],
        "level_vs_history_s": df["level"] - df["history_level_s"],
    })
    for c in ("tyre_age_laps", "lap_number", "race_frac", "laps_remaining", "total_laps", "compound_idx",
              "prior_trend_s", "prior_stint_len"):
        out[c] = df[c].to_numpy()
    out["prior_tyre_trend_s"] = df["prior_tyre_trend_s"].to_numpy() if "prior_tyre_trend_s" in df else np.nan
    return out.reset_index(drop=True)


def _lgbm(params: dict):
    from lightgbm import LGBMRegressor

    return LGBMRegressor(objective="l1", verbose=-1, **params)


class LapTimeModel(BoostedModel):
    """Both lap-time tasks in one estimator (two LightGBM boosters on residuals).

    Args:
        n_estimators, learning_rate, num_leaves, min_child_samples: LightGBM settings.
        seed: random seed of the boosters.
        n_jobs: threads (1 by default: the server shares the machine).

    Example:
        >>> model = LapTimeModel().fit(prepared_with_priors)
        >>> model.predict_one_lap(one_lap_frame(prep_2024))   # seconds, shape (n_rows,)
    """

    def __init__(self, n_estimators: int = 400, learning_rate: float = 0.05, num_leaves: int = 31,
                 min_child_samples: int = 100, seed: int = 0, n_jobs: int = 1):
        super().__init__(n_estimators, learning_rate, num_leaves, min_child_samples, seed, n_jobs)

    def fit(self, prep: pd.DataFrame) -> "LapTimeModel":
        """Fit on ``prepare_laps`` output carrying earlier-season priors (``attach_priors``)."""
        if prep.empty:
            raise InvalidRequestError("No laps to fit the lap-time model on.")
        one = one_lap_frame(prep)
        one = one[one["level"].notna() & (one["actual"] - one["baseline"]).abs().lt(5)]
        st = stint_frame(prep)
        st = st[(st["actual"] - st["level"]).abs().lt(8)]
        if len(one) < 50 or len(st) < 50:
            raise InvalidRequestError(f"Too few laps to fit the lap-time model ({len(one)} one-lap rows, "
                                      f"{len(st)} stint rows).")
        self.one_lap_ = _lgbm(self._params()).fit(one[ONE_LAP_FEATURES], one["actual"] - one["baseline"])
        self.stint_ = _lgbm(self._params()).fit(st[STINT_FEATURES], st["actual"] - st["level"])
        self.priors_ = CircuitPriors.fit(prep)
        self.n_rows_ = {"one_lap_ahead": int(len(one)), "stint_forecast": int(len(st))}
        return self

    def _check(self) -> None:
        if not hasattr(self, "one_lap_"):
            raise NotFittedError("LapTimeModel is not fitted yet: call fit() or load a trained model set.")

    def predict_one_lap(self, frame: pd.DataFrame) -> np.ndarray:
        """Predicted lap times (s) for :func:`one_lap_frame` rows; persistence where no level."""
        self._check()
        return frame["baseline"].to_numpy() + self.one_lap_.predict(frame[ONE_LAP_FEATURES])

    def predict_stint(self, frame: pd.DataFrame) -> np.ndarray:
        """Predicted lap times (s) for :func:`stint_frame` rows."""
        self._check()
        # the booster's own columns: a model set trained before a feature was added still loads
        cols = list(getattr(self.stint_, "feature_name_", STINT_FEATURES))
        return frame["level"].to_numpy() + self.stint_.predict(frame[cols])

    def predict_next_lap(self, *, recent_lap_times_s: list[float], lap_number: int, total_laps: int,
                         compound: str, tyre_age_laps: float, stint_lap: int | None = None,
                         circuit_key: str | None = None, gap_ahead_s: float | None = None,
                         gap_behind_s: float | None = None, position: int | None = None) -> dict:
        """One lap ahead from a driver's recent clean laps of the current stint (oldest first).

        Returns ``{"predicted_s", "persistence_s", "level_s"}``.
        """
        self._check()
        laps = [float(t) for t in recent_lap_times_s if t is not None and np.isfinite(t)]
        if not laps:
            raise InvalidRequestError("At least one recent clean lap time of the current stint is needed.")
        comp = compound_key(compound)
        level = float(np.mean(laps[-3:]))
        slope = float("nan")
        if len(laps) >= 3:
            x = np.arange(len(laps), dtype="float64")
            slope = float(np.polyfit(x, np.asarray(laps), 1)[0])
        trend = self.priors_.trend_for(np.array([circuit_key or ""]), np.array([comp]))[0]
        row = {
            "dev_prev": laps[-1] - level, "dev_med5": float(np.median(laps[-5:])) - level,
            "dev_min": min(laps) - level, "cl_slope": slope, "cl_n": float(len(laps)),
            "tyre_age_laps": float(tyre_age_laps),
            "stint_lap": float(stint_lap if stint_lap is not None else tyre_age_laps),
            "lap_number": float(lap_number), "race_frac": lap_number / max(total_laps, 1),
            "laps_remaining": float(max(total_laps - lap_number, 0)), "total_laps": float(total_laps),
            "compound_idx": float(COMPOUND_INDEX[comp]),
            "gap_ahead_prev": np.nan if gap_ahead_s is None else float(gap_ahead_s),
            "gap_behind_prev": np.nan if gap_behind_s is None else float(gap_behind_s),
            "position_prev": np.nan if position is None else float(position),
            "field_delta_prev": np.nan, "prior_trend_s": trend,
            "dev_prev2": (laps[-2] - level) if len(laps) >= 2 else np.nan, "ahead_dev": np.nan,
            "gap_change": np.nan,
        }
        X = pd.DataFrame([row], columns=ONE_LAP_FEATURES).astype("float64")
        pred = laps[-1] + float(self.one_lap_.predict(X)[0])
        return {"predicted_s": pred, "persistence_s": laps[-1], "level_s": level}
