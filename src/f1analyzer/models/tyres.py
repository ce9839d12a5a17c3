"""Tyre models as the rest of the package sees them, and the clean laps they are fitted on.

* :class:`TyreModel` — pace offset and wear of one compound (relative SOFT/MEDIUM/HARD at a
  circuit, or one Pirelli code), ``delta_s(age)`` and ``simulator_params()``.
* :func:`prepare_clean_laps` — clean, accurate, free-air, dry laps with tyre age and stint keys.
* :class:`TyreFit` — what :mod:`.tyre_circuits` hands :class:`~.race_models.RaceModels` per circuit
  and era (relative models, fuel, driver-race intercepts, residual spread).

The fit itself is one pooled model per era by Pirelli code (:mod:`.tyre_pool`, docs/MODELS.md).
``tyre_age_laps`` is the number of laps the set had completed *before* this lap (FastF1's
``TyreLife`` minus one), so a fresh set has age 0 and ``deg(0) == 0``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ..log import get_logger

log = get_logger("models.tyres")

DRY = ("SOFT", "MEDIUM", "HARD")
CURVES = ("linear", "quadratic", "cliff")
#: laps slower than this multiple of the race's 5th-percentile clean lap are not racing laps
SLOW_LAP_FACTOR = 1.07
MAX_AGE_LAPS = 60
#: laps closer than this to the car ahead are not free-air laps
FREE_AIR_GAP_S = 2.0


@dataclass
class TyreModel:
    """Pace and degradation of one relative compound at one circuit and era.

    ``delta_s(age)`` is the full tyre contribution to a lap time against a fresh MEDIUM:
    ``pace_offset_s + coef_s[0]*age + coef_s[1]*age**2 (+ cliff_slope_s*max(age-cliff_lap, 0))``.
    """

    compound: str
    curve: str = "linear"
    coef_s: list[float] = field(default_factory=lambda: [0.0, 0.0])
    cliff_lap: float | None = None
    cliff_slope_s: float | None = None
    pace_offset_s: float = 0.0
    pace_offset_se_s: float = 0.0
    coef_se_s: list[float] = field(default_factory=lambda: [0.0, 0.0])
    n_laps: int = 0
    n_stints: int = 0
    codes: dict[str, int] = field(default_factory=dict)
    #: False when the circuit had too few laps and the all-circuit average was used
    own_fit: bool = True

    def deg_s(self, tyre_age_laps) -> np.ndarray:
        """Wear alone (s): zero for a fresh set, vectorised over any array shape."""
        age = np.asarray(tyre_age_laps, dtype=np.float64)
        out = self.coef_s[0] * age + self.coef_s[1] * age * age
        if self.curve == "cliff" and self.cliff_lap is not None and self.cliff_slope_s:
            out = out + self.cliff_slope_s * np.maximum(age - self.cliff_lap, 0.0)
        return out

    def delta_s(self, tyre_age_laps) -> np.ndarray:
        """Pace offset plus wear (s) for sets that completed ``tyre_age_laps`` laps."""
        return self.pace_offset_s + self.deg_s(tyre_age_laps)

    def simulator_params(self) -> dict:
        """Keyword arguments of ``simulation.params.CompoundParams`` (wear terms clipped at 0:
        the simulator accepts no tyre that gets faster with age)."""
        cliff = self.curve == "cliff" and self.cliff_lap is not None
        return {"name": self.compound, "pace_offset_s": float(self.pace_offset_s),
                "linear_s_per_lap": max(float(self.coef_s[0]), 0.0),
                "quadratic_s_per_lap2": max(float(self.coef_s[1]), 0.0),
                "cliff_lap": int(round(self.cliff_lap)) if cliff else None,
                "cliff_slope_s_per_lap": max(float(self.cliff_slope_s or 0.0), 0.0) if cliff else 0.0}

    def to_dict(self) -> dict:
        return {k: _r(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "TyreModel":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def _r(v):
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, list):
        return [_r(x) for x in v]
    if isinstance(v, dict):
        return {k: _r(x) for k, x in v.items()}
    return v


# --------------------------------------------------------------------------- preparation
def wet_races(laps: pd.DataFrame, share: float = 0.10) -> set[tuple[int, int]]:
    """(season, round) of races where more than ``share`` of laps were on INTERMEDIATE/WET."""
    wet = laps["compound"].isin(["INTERMEDIATE", "WET"]).groupby([laps["season"], laps["round"]]).mean()
    return {(int(s), int(r)) for (s, r), v in wet.items() if v > share}


def gap_ahead_s(laps: pd.DataFrame) -> pd.Series:
    """Seconds to the car one position ahead at the end of the same lap (NaN for the leader)."""
    order = laps.sort_values(["season", "round", "lap_number", "position"])
    prev = order.groupby(["season", "round", "lap_number"], sort=False)["session_time_s"].shift(1)
    return (order["session_time_s"] - prev).reindex(laps.index)


def prepare_clean_laps(laps: pd.DataFrame, free_air_gap_s: float = FREE_AIR_GAP_S) -> pd.DataFrame:
    """Clean, accurate, free-air, dry laps of dry races, with ``tyre_age_laps`` and group keys.

    A lap run within ``free_air_gap_s`` of the car ahead is left out: in dirty air or a DRS train
    the lap time says how fast the car ahead was, not how worn the tyres are.
    """
    ok = laps["is_clean"].astype(bool) & laps["is_accurate"].fillna(False).astype(bool)
    if free_air_gap_s > 0 and "position" in laps.columns:
        ok &= ~(gap_ahead_s(laps) < free_air_gap_s).fillna(False).astype(bool)
    ok &= laps["compound"].isin(DRY) & laps["tyre_life_laps"].notna() & laps["lap_time_s"].notna()
    # where each stint began, from every lap (its first laps may not be clean): laps into the stint
    # and the set's age when it was fitted (> 0: a set used before, e.g. in qualifying)
    first = laps.groupby(["season", "round", "driver", "stint"], dropna=False)["lap_number"].transform("min")
    stint_lap = laps["lap_number"] - first
    start_age = laps["tyre_life_laps"].astype("float64") - 1.0 - stint_lap
    df = laps.loc[ok, ["season", "round", "driver", "team", "lap_number", "lap_time_s", "compound",
                       "compound_code", "tyre_life_laps", "stint"]].copy()
    df["stint_lap"] = stint_lap[ok].astype("float64")
    df["start_age_laps"] = start_age[ok].clip(lower=0.0)
    wet = wet_races(laps)
    if wet:
        key = list(zip(df["season"].astype(int), df["round"].astype(int)))
        # a boolean array, not a list: an empty list would select no *columns*
        df = df[np.array([k not in wet for k in key], dtype=bool)]
    df["tyre_age_laps"] = (df["tyre_life_laps"].astype("float64") - 1.0).clip(lower=0.0)
    df = df[df["tyre_age_laps"] <= MAX_AGE_LAPS]
    fast = df.groupby(["season", "round"])["lap_time_s"].transform(lambda s: s.quantile(0.05))
    df = df[df["lap_time_s"] <= SLOW_LAP_FACTOR * fast]
    df["compound"] = df["compound"].astype(str)
    df["compound_code"] = df["compound_code"].astype("object").where(df["compound_code"].notna(), None)
    df["group"] = df.groupby(["season", "round", "driver"], sort=False).ngroup()
    df["stint_key"] = df.groupby(["group", df["stint"].astype("float64")], sort=False).ngroup()
    return df.reset_index(drop=True)


@dataclass
class TyreFit:
    """Result of :func:`fit_tyres` for one circuit and era."""

    compounds: dict[str, TyreModel]
    fuel_effect_s_per_lap: float
    fuel_effect_se_s: float
    alpha: pd.DataFrame  # season, round, driver, team, alpha_s, n_laps
    resid_sd_s: float
    n_laps: int
