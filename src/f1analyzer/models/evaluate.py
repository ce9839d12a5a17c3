"""Evaluation by season: train on the seasons before *S*, score on *S*.

Every figure is reported next to its baseline and the number of laps it was scored on:

* one lap ahead — MAE of the model vs persistence (``LapTime(k−1)``);
* stint forecast — MAE of the model vs the constant level (mean of the last three clean laps among
  the stint's first six);
* pit within three laps — PR-AUC (average precision) vs the base rate (the PR-AUC of a constant
  guess), Brier score, expected calibration error and a ten-bin reliability table.

Example:
    >>> report = evaluate_season(RaceStore(settings.store_dir), 2024)
    >>> report.one_lap_ahead["mae_s"], report.one_lap_ahead["baseline_mae_s"]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataNotLoadedError, InvalidRequestError
from ..log import get_logger
from .features import CircuitPriors, attach_priors, prepare_laps
from .laptime import LapTimeModel, one_lap_frame, stint_frame
from .pitstop import PitStopModel, pit_frame

log = get_logger("models.evaluate")

Progress = Callable[[str], None]

PREDICTION_COLUMNS = ["season", "round", "event", "driver", "lap", "predicted", "actual", "baseline"]


@dataclass
class EvaluationReport:
    season: int
    train_seasons: list[int]
    one_lap_ahead: dict
    stint_forecast: dict
    pit_stop: dict
    one_lap_predictions: pd.DataFrame | None = field(default=None, repr=False)
    stint_predictions: pd.DataFrame | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {"season": self.season, "train_seasons": self.train_seasons,
                "one_lap_ahead": self.one_lap_ahead, "stint_forecast": self.stint_forecast,
                "pit_stop": self.pit_stop}

    def write_predictions(self, directory: Path) -> list[Path]:
        """Write ``one_lap_ahead.csv`` and ``stint_forecast.csv`` into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, df in (("one_lap_ahead.csv", self.one_lap_predictions),
                         ("stint_forecast.csv", self.stint_predictions)):
            if df is not None:
                p = directory / name
                df.to_csv(p, index=False, float_format="%.3f")
                paths.append(p)
        return paths


def regression_metrics(pred: np.ndarray, actual: np.ndarray, baseline: np.ndarray) -> dict:
    """MAE of ``pred`` and ``baseline`` against ``actual`` and the relative improvement."""
    n = int(len(actual))
    if n == 0:
        return {"n_laps": 0, "mae_s": None, "baseline_mae_s": None, "improvement_pct": None}
    mae = float(np.mean(np.abs(pred - actual)))
    base = float(np.mean(np.abs(baseline - actual)))
    return {"n_laps": n, "mae_s": round(mae, 4), "baseline_mae_s": round(base, 4),
            "improvement_pct": round(100.0 * (base - mae) / base, 1) if base > 0 else None}


def reliability_table(prob: np.ndarray, label: np.ndarray, bins: int = 10) -> list[dict]:
    """Equal-width probability bins: n, mean predicted probability, observed frequency."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(prob, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        m = idx == b
        rows.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": int(m.sum()),
                     "mean_predicted": round(float(prob[m].mean()), 4) if m.any() else None,
                     "observed": round(float(label[m].mean()), 4) if m.any() else None})
    return rows


def classification_metrics(prob: np.ndarray, label: np.ndarray) -> dict:
    from sklearn.metrics import average_precision_score, brier_score_loss

    n = int(len(label))
    if n == 0 or len(np.unique(label)) < 2:
        return {"n_laps": n, "pr_auc": None, "base_rate": float(label.mean()) if n else None}
    table = reliability_table(prob, label)
    ece = sum(r["n"] * abs(r["mean_predicted"] - r["observed"]) for r in table if r["n"]) / n
    return {"n_laps": n, "pr_auc": round(float(average_precision_score(label, prob)), 4),
            "base_rate": round(float(label.mean()), 4), "mean_predicted": round(float(prob.mean()), 4),
            "brier": round(float(brier_score_loss(label, prob)), 4), "ece": round(float(ece), 4),
            "reliability": table}


def prepare_for_season(prep_all: pd.DataFrame, season: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training rows of seasons < season with earlier-season priors, test rows of season)."""
    train = prep_all[prep_all["season"] < season]
    test = prep_all[prep_all["season"] == season]
    train = attach_priors(train, train)
    test = attach_priors(test, None, fixed=CircuitPriors.fit(prep_all[prep_all["season"] < season], tyres=True))
    return train, test


def score_models(laptime: LapTimeModel, pitstop: PitStopModel, test: pd.DataFrame, season: int,
                 train_seasons: list[int]) -> EvaluationReport:
    """Score fitted models on the prepared laps of one season (with priors attached)."""
    one = one_lap_frame(test)
    one_pred = laptime.predict_one_lap(one) if len(one) else np.array([])
    st = stint_frame(test)
    st_pred = laptime.predict_stint(st) if len(st) else np.array([])
    pf = pit_frame(test)
    prob = pitstop.predict_proba(pf) if len(pf) else np.array([])
    one_out = one[["season", "round", "event", "driver", "lap", "actual", "baseline"]].assign(predicted=one_pred)
    st_out = st[["season", "round", "event", "driver", "stint", "lap", "actual", "baseline"]].assign(
        predicted=st_pred)
    return EvaluationReport(
        season=season, train_seasons=train_seasons,
        one_lap_ahead={**regression_metrics(one_pred, one["actual"].to_numpy(), one["baseline"].to_numpy()),
                       "baseline": "persistence (previous lap time)"},
        stint_forecast={**regression_metrics(st_pred, st["actual"].to_numpy(), st["baseline"].to_numpy()),
                        "baseline": "mean of the last 3 clean laps among the stint's first 6, held constant",
                        "stints": int(st[["season", "round", "driver", "stint"]].drop_duplicates().shape[0])},
        pit_stop={**classification_metrics(prob, pf["label"].to_numpy()),
                  "task": "P(tyre change with in-lap in the next 3 laps) at each lap end"},
        one_lap_predictions=one_out[PREDICTION_COLUMNS],
        stint_predictions=st_out[PREDICTION_COLUMNS[:4] + ["stint"] + PREDICTION_COLUMNS[4:]],
    )


def evaluate_season(store, season: int, *, train_seasons: list[int] | None = None,
                    progress: Progress | None = None, laptime_params: dict | None = None,
                    pitstop_params: dict | None = None) -> EvaluationReport:
    """Train the learned models on seasons before ``season`` (or ``train_seasons``) and score them.

    Raises:
        DataNotLoadedError: ``season`` is not in the store (message lists the stored seasons).
        InvalidRequestError: no earlier season to train on.
    """
    stored = store.seasons()
    if season not in stored:
        listed = ", ".join(map(str, stored)) or "none (run `f1analyzer ingest` first)"
        raise DataNotLoadedError(f"Season {season} is not in the store. Stored seasons: {listed}.")
    train_seasons = sorted(train_seasons or [s for s in stored if s < season])
    if not train_seasons or any(s >= season for s in train_seasons):
        raise InvalidRequestError(
            f"Evaluating {season} needs earlier seasons to train on; stored: {', '.join(map(str, stored))}.")
    say = progress or (lambda _m: None)
    say("preparing laps")
    laps = pd.concat([store.laps(s) for s in train_seasons + [season]], ignore_index=True)
    races = store.races()
    prep = prepare_laps(laps, races)
    train, test = prepare_for_season(prep, season)
    say(f"fitting lap-time models on {train_seasons[0]}–{train_seasons[-1]}")
    laptime = LapTimeModel(**(laptime_params or {})).fit(train)
    say("fitting pit-stop model")
    pitstop = PitStopModel(**(pitstop_params or {})).fit(train)
    say(f"scoring {season}")
    report = score_models(laptime, pitstop, test, season, train_seasons)
    log.info("evaluation %s: %s", season, report.to_dict())
    return report
