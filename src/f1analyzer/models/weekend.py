"""Same-weekend tyre evidence: a sprint's laps update the circuit's tyre models before its Grand Prix.

Strategists read Saturday's running before Sunday's race; the sprint is run before the Grand Prix,
so using it in a pre-race answer is not hindsight. The sprint is short (17–24 laps), mostly on one
compound, with no stops, so it says most about **wear**: within one car's stint, a lap time is

    lap_time_s = alpha[driver] - fuel_effect_s_per_lap * lap_number + deg[compound](tyre_age_laps)

and with the fuel effect taken from the circuit's model, the slope of the fuel-corrected time on
tyre age inside each car's stint is the wear rate. Fuel and tyre age both grow by one per lap in a
sprint, so an error in the fuel effect goes straight into the slope: its uncertainty
(:data:`FUEL_SE_S_PER_LAP`) is added to the sprint's. The **pace offset** of a compound against
MEDIUM is only updated from cars that ran both in the sprint (within-driver differences), because
across cars the compound choice is confounded with car pace.

The update is precision-weighted: the fitted wear (its standard error, plus
:data:`SEASON_SPREAD_S_PER_LAP` for how much one weekend differs from the multi-season fit) and the
sprint's estimate (driver-clustered standard error) are combined by their inverse variances, and
the difference moves the linear term of the curve (its shape — quadratic, cliff — is kept). A
compound needs :data:`MIN_SPRINT_LAPS` clean laps from :data:`MIN_DRIVERS` cars to count.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .tyres import DRY, TyreModel, prepare_clean_laps, wet_races

#: clean sprint laps of a compound (from at least MIN_DRIVERS cars) needed to update it
MIN_SPRINT_LAPS = 40
MIN_DRIVERS = 4
#: how far a sprint's fuel-plus-track-evolution trend (and tyre saving early in it) may sit from the
#: race fit's fuel effect, s/lap; it enters the sprint slope 1:1. Set from the 2021–2024 sprints:
#: sprint-minus-fit slopes spread by about 0.04 s/lap, of which about 0.02 is sampling noise and
#: 0.02 the weekend-to-weekend spread already in SEASON_SPREAD_S_PER_LAP
FUEL_SE_S_PER_LAP = 0.025
#: how far one weekend's wear rate typically sits from a circuit's multi-season fit, s/lap
SEASON_SPREAD_S_PER_LAP = 0.02
#: how far one weekend's compound pace step typically sits from the fit, s
SEASON_SPREAD_OFFSET_S = 0.15
#: prior standard errors used when a fit carries none
DEFAULT_SE = {"linear_s_per_lap": 0.03, "pace_offset_s": 0.3}


@dataclass
class WeekendUpdate:
    """Tyre models after the sprint, and what moved."""

    tyres: dict[str, TyreModel]
    #: clean sprint laps that went into an update
    n_laps: int = 0
    #: compound → {parameter: {"prior", "sprint", "sprint_se", "posterior"}}
    changes: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def describe(self) -> str:
        parts = []
        for comp, ch in self.changes.items():
            for name, v in ch.items():
                parts.append(f"{comp} {name} {v['prior']:+.3f} → {v['posterior']:+.3f} "
                             f"(sprint {v['sprint']:+.3f} ± {v['sprint_se']:.3f})")
        return "; ".join(parts)


def sprint_clean_laps(laps: pd.DataFrame) -> pd.DataFrame:
    """The clean, free-air, dry laps of a sprint (as :func:`~f1analyzer.models.tyres.prepare_clean_laps`);
    empty for a wet sprint or one without usable laps."""
    laps = pd.DataFrame(laps)
    if laps.empty or wet_races(laps):
        return pd.DataFrame(columns=["driver", "lap_number", "lap_time_s", "compound", "tyre_age_laps", "stint"])
    dry = laps[laps["is_clean"].astype(bool) & laps["compound"].isin(DRY)]
    if dry.empty:
        return pd.DataFrame(columns=["driver", "lap_number", "lap_time_s", "compound", "tyre_age_laps", "stint"])
    return prepare_clean_laps(laps)


def _demean(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    s = pd.Series(values)
    return (s - s.groupby(groups).transform("mean")).to_numpy()


def _slope(y: np.ndarray, x: np.ndarray, groups: np.ndarray) -> tuple[float, float, float]:
    """Within-group OLS slope of y on x, its driver-clustered SE, and Σx̃² (0 when unidentified)."""
    xt, yt = _demean(x, groups), _demean(y, groups)
    sxx = float(np.dot(xt, xt))
    if sxx <= 1e-9:
        return float("nan"), float("inf"), 0.0
    b = float(np.dot(xt, yt) / sxx)
    e = yt - b * xt
    score = pd.Series(xt * e).groupby(groups).sum().to_numpy()
    g = len(score)
    var = float(np.dot(score, score)) / sxx ** 2 * (g / max(g - 1, 1))
    return b, float(np.sqrt(max(var, 1e-12))), sxx


def _combine(prior: float, prior_se: float, obs: float, obs_se: float) -> tuple[float, float]:
    wp, wo = 1.0 / prior_se ** 2, 1.0 / obs_se ** 2
    return (wp * prior + wo * obs) / (wp + wo), float(np.sqrt(1.0 / (wp + wo)))


def _nonnegative(mean: float, sd: float) -> tuple[float, float]:
    """Mean and sd of N(mean, sd²) restricted to ≥ 0: tyres do not get faster as they wear, so a
    negative wear estimate (a sprint whose track improved faster than the fuel fit says) is
    pulled back by the physics rather than clipped to a corner."""
    import math

    a = -mean / sd
    tail = 0.5 * math.erfc(a / math.sqrt(2.0))  # P(X >= 0)
    if tail < 1e-12:
        return 0.0, sd
    lam = math.exp(-0.5 * a * a) / math.sqrt(2.0 * math.pi) / tail
    var = sd * sd * (1.0 + a * lam - lam * lam)
    return mean + sd * lam, math.sqrt(max(var, 1e-12))


def update_tyres_from_sprint(tyres: dict[str, TyreModel], sprint_laps: pd.DataFrame, *,
                             fuel_effect_s_per_lap: float) -> WeekendUpdate:
    """Tyre models of a circuit updated with the clean laps of that weekend's sprint.

    Args:
        tyres: compound → fitted :class:`TyreModel` (not modified; copies are returned).
        sprint_laps: clean sprint laps (:func:`sprint_clean_laps`): ``driver``, ``lap_number``,
            ``lap_time_s``, ``compound``, ``tyre_age_laps`` (and ``stint``).
        fuel_effect_s_per_lap: the circuit's fuel effect, to correct lap times for fuel burnt.

    Returns:
        :class:`WeekendUpdate`; ``n_laps`` is 0 when no compound had enough laps.
    """
    out = {c: copy.deepcopy(t) for c, t in tyres.items()}
    upd = WeekendUpdate(tyres=out)
    if sprint_laps is None or len(sprint_laps) == 0:
        return upd
    df = pd.DataFrame(sprint_laps)
    y_all = df["lap_time_s"].astype("float64").to_numpy() + fuel_effect_s_per_lap * df["lap_number"].astype("float64").to_numpy()
    age_all = df["tyre_age_laps"].astype("float64").to_numpy()
    stint = df["stint"].astype("float64").fillna(0).to_numpy() if "stint" in df.columns else np.zeros(len(df))
    car_stint = (df["driver"].astype(str) + ":" + pd.Series(stint, index=df.index).astype(int).astype(str)).to_numpy()
    used = np.zeros(len(df), dtype=bool)
    for comp, model in out.items():
        sel = (df["compound"].astype(str) == comp).to_numpy()
        if sel.sum() < MIN_SPRINT_LAPS or df.loc[sel, "driver"].nunique() < MIN_DRIVERS:
            continue
        groups, age = car_stint[sel], age_all[sel]
        b, se, sxx = _slope(y_all[sel], age, groups)
        if sxx == 0.0 or not np.isfinite(b):
            continue
        se = float(np.hypot(se, FUEL_SE_S_PER_LAP))
        # the fitted curve's own slope over the ages the sprint ran (its shape is kept)
        prior_b, _, _ = _slope(np.asarray(model.deg_s(age), dtype=np.float64), age, groups)
        coef_se = (list(model.coef_se_s) or [0.0])[0] or DEFAULT_SE["linear_s_per_lap"]
        prior_se = float(np.hypot(coef_se, SEASON_SPREAD_S_PER_LAP))
        post, post_se = _nonnegative(*_combine(prior_b, prior_se, b, se))
        coef = list(model.coef_s) + [0.0, 0.0]
        model.coef_s = [float(coef[0] + post - prior_b), *[float(c) for c in list(model.coef_s)[1:]]]
        model.coef_se_s = [post_se, *list(model.coef_se_s)[1:]]
        upd.changes.setdefault(comp, {})["linear_s_per_lap"] = {
            "prior": prior_b, "sprint": b, "sprint_se": se, "posterior": post}
        used |= sel
    _update_offsets(df, y_all, out, upd, used)
    upd.n_laps = int(used.sum())
    return upd


def _update_offsets(df: pd.DataFrame, y: np.ndarray, tyres: dict[str, TyreModel], upd: WeekendUpdate,
                    used: np.ndarray) -> None:
    """Pace offsets against MEDIUM from cars that ran both compounds in the sprint."""
    if "MEDIUM" not in tyres:
        return
    wear = np.array([float(tyres[c].deg_s(a)) if c in tyres else np.nan
                     for c, a in zip(df["compound"].astype(str), df["tyre_age_laps"].astype("float64"))])
    fresh = pd.DataFrame({"driver": df["driver"].astype(str).to_numpy(), "compound": df["compound"].astype(str).to_numpy(),
                          "v": y - wear})
    per = fresh.groupby(["driver", "compound"])["v"].agg(["mean", "size"]).reset_index()
    med = per[per["compound"] == "MEDIUM"].set_index("driver")
    for comp in DRY:
        if comp == "MEDIUM" or comp not in tyres:
            continue
        other = per[(per["compound"] == comp) & per["driver"].isin(med.index)].set_index("driver")
        if len(other) < MIN_DRIVERS or (other["size"].sum() + med.loc[other.index, "size"].sum()) < MIN_SPRINT_LAPS:
            continue
        diffs = (other["mean"] - med.loc[other.index, "mean"]).to_numpy()
        obs, obs_se = float(diffs.mean()), float(diffs.std(ddof=1) / np.sqrt(len(diffs)))
        m = tyres[comp]
        prior_se = float(np.hypot(m.pace_offset_se_s or DEFAULT_SE["pace_offset_s"], SEASON_SPREAD_OFFSET_S))
        post, post_se = _combine(float(m.pace_offset_s), prior_se, obs, max(obs_se, 0.05))
        upd.changes.setdefault(comp, {})["pace_offset_s"] = {
            "prior": float(m.pace_offset_s), "sprint": obs, "sprint_se": max(obs_se, 0.05), "posterior": post}
        m.pace_offset_s, m.pace_offset_se_s = post, post_se
        sel = df["driver"].astype(str).isin(other.index).to_numpy() & df["compound"].isin([comp, "MEDIUM"]).to_numpy()
        used |= sel


__all__ = ["WeekendUpdate", "update_tyres_from_sprint", "sprint_clean_laps", "MIN_SPRINT_LAPS", "MIN_DRIVERS"]
