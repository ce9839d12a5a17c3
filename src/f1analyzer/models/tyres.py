"""Tyre degradation and fuel effect, fitted from clean race laps.

A lap time is modelled as

    lap_time_s = alpha[race, driver] - fuel_effect_s_per_lap * lap_number
                 + pace_offset_s[compound] + deg[compound](tyre_age_laps) + noise

* ``alpha`` is one intercept per driver per race (a *fixed effect*): it absorbs the car, the driver,
  the weather and the track of that day, so only differences *within* a driver's race identify the
  rest. Fuel and tyre age both grow by one per lap inside a stint, so they are told apart by the
  pit stops: tyre age resets, lap number does not.
* ``fuel_effect_s_per_lap`` is the time gained per lap of fuel burnt (≈ 0.03 s/kg × 1.6–1.9 kg/lap,
  plus the track rubbering in, which the data cannot separate from fuel).
* ``tyre_age_laps`` is the number of laps the set had completed *before* this lap (FastF1's
  ``TyreLife`` minus one), so a fresh set has age 0 and ``deg(0) == 0``.
* ``deg`` is linear, quadratic, or linear with a *cliff* (an extra slope past ``cliff_lap`` when the
  rubber is worn through). The family is chosen per compound by BIC, and a richer curve is kept only
  when its extra coefficient is positive and significant with standard errors clustered by driver
  race (laps of one stint are not independent).
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
#: a richer curve must lower BIC by at least this much (strong evidence)
BIC_MARGIN = 10.0
#: a cliff is looked for from this tyre age on (earlier "cliffs" are tyre warm-up, not wear)
MIN_CLIFF_LAP = 12
EARLY_LAPS = 6
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
        df = df[[k not in wet for k in key]]
    df["tyre_age_laps"] = (df["tyre_life_laps"].astype("float64") - 1.0).clip(lower=0.0)
    df = df[df["tyre_age_laps"] <= MAX_AGE_LAPS]
    fast = df.groupby(["season", "round"])["lap_time_s"].transform(lambda s: s.quantile(0.05))
    df = df[df["lap_time_s"] <= SLOW_LAP_FACTOR * fast]
    df["compound"] = df["compound"].astype(str)
    df["compound_code"] = df["compound_code"].astype("object").where(df["compound_code"].notna(), None)
    df["group"] = df.groupby(["season", "round", "driver"], sort=False).ngroup()
    df["stint_key"] = df.groupby(["group", df["stint"].astype("float64")], sort=False).ngroup()
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------- fixed-effects OLS
@dataclass
class FEFit:
    coef: np.ndarray
    se: np.ndarray
    resid: np.ndarray
    alpha: np.ndarray  # per group intercept
    rss: float
    n: int
    k: int

    def bic(self) -> float:
        return self.n * np.log(max(self.rss, 1e-12) / self.n) + self.k * np.log(self.n)


def _demean(a: np.ndarray, g: np.ndarray, n_groups: int) -> np.ndarray:
    counts = np.bincount(g, minlength=n_groups).astype(np.float64)
    if a.ndim == 1:
        return a - (np.bincount(g, weights=a, minlength=n_groups) / counts)[g]
    out = np.empty_like(a)
    for j in range(a.shape[1]):
        out[:, j] = a[:, j] - (np.bincount(g, weights=a[:, j], minlength=n_groups) / counts)[g]
    return out


def fe_ols(y: np.ndarray, X: np.ndarray, groups: np.ndarray) -> FEFit:
    """OLS with one intercept per group (within transform) and SEs clustered by group."""
    g = pd.factorize(groups)[0]
    ng = int(g.max()) + 1
    yd, Xd = _demean(y, g, ng), _demean(X, g, ng)
    # normal equations: k is small (< 15) and this runs thousands of times in the curve search
    bread = np.linalg.pinv(Xd.T @ Xd)
    coef = bread @ (Xd.T @ yd)
    resid = yd - Xd @ coef
    n, k = Xd.shape
    scores = np.zeros((ng, k))
    np.add.at(scores, g, Xd * resid[:, None])
    dof = (ng / max(ng - 1, 1)) * ((n - 1) / max(n - k - ng, 1))
    cov = dof * bread @ (scores.T @ scores) @ bread
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    counts = np.bincount(g, minlength=ng)
    alpha = np.bincount(g, weights=y - X @ coef, minlength=ng) / counts
    return FEFit(coef, se, resid, alpha, float(resid @ resid), n, k + ng)


# --------------------------------------------------------------------------- design
def _design(df: pd.DataFrame, comps: list[str], ref: str, curves: dict[str, tuple]) -> tuple[np.ndarray, list]:
    """Columns: lap_number, then per compound its dummy (not for ``ref``), age, and curve terms."""
    age = df["tyre_age_laps"].to_numpy(np.float64)
    lap = df["lap_number"].to_numpy(np.float64)
    # laps 2..EARLY_LAPS: field bunched up, DRS trains, tyres coming in - slower for everyone
    cols, names = [lap, (lap <= EARLY_LAPS).astype(np.float64)], [("lap", None), ("early", None)]
    for c in comps:
        ind = (df["compound"].to_numpy() == c).astype(np.float64)
        if c != ref:
            cols.append(ind)
            names.append(("offset", c))
        cols.append(ind * age)
        names.append(("a1", c))
        kind = curves.get(c, ("linear",))
        if kind[0] == "quadratic":
            cols.append(ind * age * age)
            names.append(("a2", c))
        elif kind[0] == "cliff":
            cols.append(ind * np.maximum(age - kind[1], 0.0))
            names.append(("cliff", c))
    return np.column_stack(cols), names


def _fit(df, comps, ref, curves) -> tuple[FEFit, list]:
    X, names = _design(df, comps, ref, curves)
    return fe_ols(df["lap_time_s"].to_numpy(np.float64), X, df["group"].to_numpy()), names


def _plausible(fit: FEFit, names: list, c: str, j: int) -> bool:
    """Extra wear term positive and significant, and no falling curve before it (warm-up)."""
    i = names.index(("a1", c))
    return bool(fit.coef[j] > 2 * fit.se[j] > 0 and fit.coef[i] > -2 * fit.se[i])


def _cliff_grid(sub: pd.DataFrame, min_laps: int) -> list[float]:
    age = sub["tyre_age_laps"].to_numpy()
    stint = sub["stint_key"].to_numpy()
    out = []
    for L in range(MIN_CLIFF_LAP, int(np.nanmax(age)) if len(age) else 0):
        beyond = age > L
        if beyond.sum() >= max(min_laps, 0.05 * len(sub)) and len(np.unique(stint[beyond])) >= 3:
            out.append(float(L))
    return out


@dataclass
class TyreFit:
    """Result of :func:`fit_tyres` for one circuit and era."""

    compounds: dict[str, TyreModel]
    fuel_effect_s_per_lap: float
    fuel_effect_se_s: float
    alpha: pd.DataFrame  # season, round, driver, team, alpha_s, n_laps
    resid_sd_s: float
    n_laps: int


def fit_tyres(df: pd.DataFrame, *, min_clean_laps: int = 40, select_curves: bool = True) -> TyreFit | None:
    """Fit fuel effect and per-compound degradation on prepared clean laps of one circuit and era.

    Args:
        df: output of :func:`prepare_clean_laps` restricted to one circuit and era.
        min_clean_laps: compounds with fewer laps are left out (the caller fills them in).

    Returns:
        ``None`` when there are too few laps to fit anything.
    """
    counts = df["compound"].value_counts()
    comps = [c for c in DRY if counts.get(c, 0) >= min_clean_laps]
    if not comps or len(df) < 2 * min_clean_laps:
        return None
    df = df[df["compound"].isin(comps)]
    ref = "MEDIUM" if "MEDIUM" in comps else comps[0]
    curves: dict[str, tuple] = {}

    # robust pass: trim residual outliers (traffic, mistakes, lifts) then refit
    fit, names = _fit(df, comps, ref, curves)
    scale = 1.4826 * np.median(np.abs(fit.resid - np.median(fit.resid)))
    df = df[np.abs(fit.resid) <= max(3.5 * scale, 0.3)].reset_index(drop=True)
    fit, names = _fit(df, comps, ref, curves)

    if select_curves:
        for c in comps:
            sub = df[df["compound"] == c]
            best = (fit.bic() - BIC_MARGIN, ("linear",))
            trial, tnames = _fit(df, comps, ref, {**curves, c: ("quadratic",)})
            j = tnames.index(("a2", c))
            if trial.bic() < best[0] and _plausible(trial, tnames, c, j):
                best = (trial.bic(), ("quadratic",))
            for L in _cliff_grid(sub, min_clean_laps // 2):
                trial, tnames = _fit(df, comps, ref, {**curves, c: ("cliff", L)})
                j = tnames.index(("cliff", c))
                if trial.bic() < best[0] and _plausible(trial, tnames, c, j):
                    best = (trial.bic(), ("cliff", L))
            if best[1][0] != "linear":
                curves[c] = best[1]
        if curves:
            fit, names = _fit(df, comps, ref, curves)

    coef = dict(zip(names, fit.coef))
    se = dict(zip(names, fit.se))
    models: dict[str, TyreModel] = {}
    for c in comps:
        sub = df[df["compound"] == c]
        kind = curves.get(c, ("linear",))
        codes = sub["compound_code"].dropna().astype(str).value_counts()
        models[c] = TyreModel(
            compound=c,
            curve=kind[0],
            coef_s=[float(coef[("a1", c)]), float(coef.get(("a2", c), 0.0))],
            cliff_lap=float(kind[1]) if kind[0] == "cliff" else None,
            cliff_slope_s=float(coef[("cliff", c)]) if kind[0] == "cliff" else None,
            pace_offset_s=float(coef.get(("offset", c), 0.0)),
            pace_offset_se_s=float(se.get(("offset", c), 0.0)),
            coef_se_s=[float(se[("a1", c)]), float(se.get(("a2", c), se.get(("cliff", c), 0.0)))],
            n_laps=int(len(sub)),
            n_stints=int(sub["stint_key"].nunique()),
            codes={k: int(v) for k, v in codes.items()},
        )
    g = pd.factorize(df["group"])[0]
    first = df.groupby(g, sort=True).agg(season=("season", "first"), round=("round", "first"),
                                         driver=("driver", "first"), team=("team", "last"),
                                         n_laps=("lap_time_s", "size"))
    first["alpha_s"] = fit.alpha
    resid_sd = float(1.4826 * np.median(np.abs(fit.resid - np.median(fit.resid))))
    return TyreFit(models, float(-coef[("lap", None)]), float(se[("lap", None)]),
                   first.reset_index(drop=True), resid_sd, int(len(df)))


def reference_compound(compounds: dict[str, TyreModel]) -> str:
    return "MEDIUM" if "MEDIUM" in compounds else next(iter(compounds), "MEDIUM")


def shrink(own: TyreModel, prior: TyreModel, tau_slope_s: float, tau_offset_s: float) -> TyreModel:
    """Empirical-Bayes pull towards the all-circuit value, weighted by precision.

    ``w = tau**2 / (tau**2 + se**2)``: a circuit's estimate keeps its own value when its standard
    error is small against the spread between circuits (``tau``), and moves to the average otherwise.
    Only linear slopes are shrunk; a quadratic or cliff was chosen because the data were decisive.
    """
    if own.curve == "linear" and own.coef_se_s[0] > 0:
        w = tau_slope_s**2 / (tau_slope_s**2 + own.coef_se_s[0] ** 2)
        own.coef_s = [w * own.coef_s[0] + (1 - w) * prior.coef_s[0], 0.0]
    if own.pace_offset_se_s > 0:
        w = tau_offset_s**2 / (tau_offset_s**2 + own.pace_offset_se_s**2)
        own.pace_offset_s = w * own.pace_offset_s + (1 - w) * prior.pace_offset_s
    return own


def spread(models: list[TyreModel]) -> tuple[float, float]:
    """Between-circuit standard deviations (slope, offset) net of sampling error (moments)."""
    if len(models) < 3:
        return 0.05, 0.5
    a1 = np.array([m.coef_s[0] for m in models])
    se = np.array([m.coef_se_s[0] for m in models])
    off = np.array([m.pace_offset_s for m in models])
    ose = np.array([m.pace_offset_se_s for m in models])
    tau_a = np.sqrt(max(np.var(a1) - np.mean(se**2), 1e-4))
    tau_o = np.sqrt(max(np.var(off) - np.mean(ose**2), 1e-2))
    return float(tau_a), float(tau_o)


def average_models(models: list[TyreModel], compound: str) -> TyreModel:
    """All-circuit average of one compound: precision-weighted linear slope, median offset."""
    if not models:
        return TyreModel(compound=compound, own_fit=False)
    a1 = np.array([float(m.deg_s(30.0)) / 30.0 for m in models])  # mean slope over 30 laps
    codes: dict[str, int] = {}
    for m in models:
        for k, v in m.codes.items():
            codes[k] = codes.get(k, 0) + v
    mean = float(np.median(a1))
    tau = float(np.std(a1)) if len(a1) > 1 else 0.05
    return TyreModel(
        compound=compound, curve="linear", coef_s=[mean, 0.0],
        pace_offset_s=float(np.median([m.pace_offset_s for m in models])),
        coef_se_s=[tau, 0.0], n_laps=int(sum(m.n_laps for m in models)),
        n_stints=int(sum(m.n_stints for m in models)), codes=codes, own_fit=False,
    )
