"""Features for the learned lap-time and pit-stop models, built only from what was known then.

Everything is computed on the canonical lap table (``data.schema.LAP_COLUMNS``) of any number of
races. The rule throughout: a feature attached to the row of lap ``k`` of a driver describes the
race *at the end of that driver's lap k−1* (for the lap-time tasks) or *at the end of lap k* (for
the pit-stop task, whose target lies in the future). Field-wide signals (track evolution) are
taken "as of" the session time of that moment with ``merge_asof``, so a car behind that had not
finished its lap yet never leaks into a prediction.

Circuit priors (:class:`CircuitPriors`) summarise past seasons per circuit and compound: the net
lap-time trend over a stint (tyre degradation minus fuel burn, s/lap), the typical stint length
and the typical clean lap time. For training rows they are computed from *earlier seasons only*
(``CircuitPriors.fit(..., before=season)``), the same situation the model meets at prediction time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.schema import DRY_COMPOUNDS
from .tyre_pool import canonical_code, fit_pool
from .tyres import prepare_clean_laps

RACE = ["season", "round"]
DRIVER = ["season", "round", "driver"]
STINT = ["season", "round", "driver", "stint"]

COMPOUND_INDEX = {"SOFT": 0, "MEDIUM": 1, "HARD": 2, "INTERMEDIATE": 3, "WET": 4}


# ----------------------------------------------------------------------------------- base frame
def prepare_laps(laps: pd.DataFrame, races: pd.DataFrame) -> pd.DataFrame:
    """Canonical laps sorted by race, driver, lap with race info and per-lap helper columns.

    Added columns: ``circuit_key``, ``total_laps``, ``clean`` (bool), ``prev_*`` (the same
    driver's previous lap), ``same_stint_prev`` (lap k−1 exists and is in the same stint),
    ``gap_ahead_s`` / ``gap_behind_s`` (time to the car ahead / behind at the line at the end
    of this lap, among cars on the same lap), ``tyre_age_laps``, ``status_sc`` / ``status_vsc``,
    and the clean-lap running statistics of the stint *including this lap* (``cl_*``).
    """
    df = pd.DataFrame({
        "season": laps["season"].astype("int64").to_numpy(),
        "round": laps["round"].astype("int64").to_numpy(),
        "driver": laps["driver"].astype(str).to_numpy(),
        "lap_number": laps["lap_number"].astype("int64").to_numpy(),
        "lap_time_s": laps["lap_time_s"].astype("float64").to_numpy(),
        "session_time_s": laps["session_time_s"].astype("float64").to_numpy(),
        "stint": laps["stint"].astype("float64").fillna(1).astype("int64").to_numpy(),
        "compound": laps["compound"].astype(str).fillna("UNKNOWN").to_numpy(),
        "tyre_age_laps": laps["tyre_life_laps"].astype("float64").to_numpy(),
        "pit_in": laps["pit_in"].astype(bool).to_numpy(),
        "pit_out": laps["pit_out"].astype(bool).to_numpy(),
        "track_status": laps["track_status"].astype(str).fillna("").to_numpy(),
        "position": laps["position"].astype("float64").to_numpy(),
        "clean": laps["is_clean"].astype(bool).to_numpy(),
        "team": laps["team"].astype(str).to_numpy(),
        "is_accurate": (laps["is_accurate"].fillna(False).astype(bool).to_numpy() if "is_accurate" in laps
                        else np.ones(len(laps), bool)),
        "compound_code": ([canonical_code(c) for c in laps["compound_code"]] if "compound_code" in laps
                          else [None] * len(laps)),
    })
    info = races[["season", "round", "event", "circuit_key", "total_laps"]].copy()
    info["season"] = info["season"].astype("int64")
    info["round"] = info["round"].astype("int64")
    info["event"] = info["event"].astype(str)
    info["circuit_key"] = info["circuit_key"].astype(str)
    info["total_laps"] = info["total_laps"].astype("int64")
    df = df.merge(info, on=RACE, how="inner")
    df = df.sort_values(DRIVER + ["lap_number"], kind="stable").reset_index(drop=True)

    # tyre age: fill gaps from the stint start so models always see a number
    stint_first = df.groupby(STINT, sort=False)["lap_number"].transform("min")
    fallback = (df["lap_number"] - stint_first + 1).astype("float64")
    df["tyre_age_laps"] = df["tyre_age_laps"].fillna(fallback)
    df["stint_lap"] = df["lap_number"] - stint_first + 1
    df["status_sc"] = df["track_status"].str.contains("4") | df["track_status"].str.contains("5")
    df["status_vsc"] = df["track_status"].str.contains("6") | df["track_status"].str.contains("7")
    df["compound_idx"] = df["compound"].map(COMPOUND_INDEX).fillna(-1).astype("int64")
    df["race_frac"] = df["lap_number"] / df["total_laps"].clip(lower=1)
    df["laps_remaining"] = (df["total_laps"] - df["lap_number"]).clip(lower=0)

    g = df.groupby(DRIVER, sort=False)
    df["prev_lap_time_s"] = g["lap_time_s"].shift(1)
    df["prev_clean"] = g["clean"].shift(1, fill_value=False).astype(bool)
    prev_lap = g["lap_number"].shift(1)
    prev_stint = g["stint"].shift(1)
    df["same_stint_prev"] = ((prev_lap == df["lap_number"] - 1) & (prev_stint == df["stint"])).to_numpy()
    df["prev2_lap_time_s"] = g["lap_time_s"].shift(2)

    _add_gaps(df)
    _add_clean_stats(df)
    _add_field_trend(df)
    df["race_trend_s"] = _race_trend(df, by_compound=False)
    df["race_compound_trend_s"] = _race_trend(df, by_compound=True)
    _add_field_level(df)
    df["history_level_s"] = _history_level(df)
    return df


def _add_gaps(df: pd.DataFrame) -> None:
    """Gap (s) to the car ahead and behind at the line, cars on the same lap count only."""
    order = df.sort_values(RACE + ["lap_number", "session_time_s"]).index
    s = df.loc[order]
    t = s["session_time_s"]
    key = [s["season"], s["round"], s["lap_number"]]
    ahead = t - t.groupby(key).shift(1)
    behind = t.groupby(key).shift(-1) - t
    df["gap_ahead_s"] = ahead.reindex(df.index).clip(upper=60.0)
    df["gap_behind_s"] = behind.reindex(df.index).clip(upper=60.0)
    # the lap time of the car ahead on that lap (slower car ahead → held up next lap)
    df["ahead_lap_time_s"] = s["lap_time_s"].groupby(key).shift(1).reindex(df.index)
    df["gap_ahead_change_s"] = df["gap_ahead_s"] - df.groupby(DRIVER, sort=False)["gap_ahead_s"].shift(1)


def _add_clean_stats(df: pd.DataFrame) -> None:
    """Running statistics of the stint's clean laps up to and including each lap (``cl_*``)."""
    c = df[df["clean"] & df["lap_time_s"].notna()]
    gc = c.groupby(STINT, sort=False)["lap_time_s"]
    stats = pd.DataFrame(index=c.index)
    stats["cl_n"] = gc.cumcount() + 1
    stats["cl_last3"] = gc.transform(lambda s: s.rolling(3, min_periods=1).mean())
    stats["cl_med5"] = gc.transform(lambda s: s.rolling(5, min_periods=1).median())
    stats["cl_min"] = gc.cummin()
    # expanding least-squares slope of lap time on lap number within the stint so far
    x = c["lap_number"].astype("float64")
    y = c["lap_time_s"]
    key = [c[k] for k in STINT]
    n = stats["cl_n"].astype("float64")
    sx = x.groupby(key, sort=False).cumsum()
    sy = y.groupby(key, sort=False).cumsum()
    sxx = (x * x).groupby(key, sort=False).cumsum()
    sxy = (x * y).groupby(key, sort=False).cumsum()
    den = n * sxx - sx * sx
    stats["cl_slope"] = np.where((n >= 3) & (den > 0), (n * sxy - sx * sy) / den.where(den > 0, 1.0), np.nan)
    for col in stats.columns:
        df[col] = np.nan
        df.loc[stats.index, col] = stats[col]
    # carry the stint's last known values forward over non-clean laps
    cols = list(stats.columns)
    df[cols] = df.groupby(STINT, sort=False)[cols].ffill()
    df["cl_n"] = df["cl_n"].fillna(0)


def _add_field_trend(df: pd.DataFrame) -> None:
    """Track evolution: the field's mean lap-to-lap change on consecutive clean laps.

    ``field_delta_s`` is an exponentially weighted mean (over ~20 observations, about one lap of
    the field) of ``t_k − t_{k−1}`` for every car's consecutive clean laps, as known at each
    session time. Attached to every lap "as of" the end of that lap (exclusive of itself).
    """
    ok = df["clean"] & df["prev_clean"] & df["same_stint_prev"]
    d = (df["lap_time_s"] - df["prev_lap_time_s"]).where(ok).clip(-3, 3)
    df["field_delta_s"] = _as_of(df, d, lambda s: s.ewm(span=20).mean())


def _add_field_level(df: pd.DataFrame) -> None:
    """The field's current pace: ``field_level_s``, the median clean-lap level (``cl_last3``) of
    the last ~20 clean laps completed in the race (about one lap of the field), "as of" each lap
    end (exclusive). A car whose level sits above the field's is being held up or is managing its
    tyres; the stint forecast uses the difference."""
    ok = df["clean"] & df["cl_last3"].notna()
    df["field_level_s"] = _as_of(df, df["cl_last3"].where(ok), lambda s: s.rolling(20, min_periods=5).median())


#: a race's reference pace: this quantile of its clean dry laps between these fractions of the race
HISTORY_QUANTILE = 0.1
HISTORY_RACE_FRACTION = (0.3, 0.9)


def _history_level(df: pd.DataFrame) -> np.ndarray:
    """What earlier races say this race's laps should take (s), per row; NaN at a circuit's first race.

    Each race's pace is the 10th percentile of its clean dry laps in the middle of the race. The
    reference is the pace of the circuit's latest race in an earlier season, moved by this season's
    car-pace change: the median, over this season's earlier rounds (two or more), of how much
    faster or slower each was than its own reference. Only earlier races count, so a stint
    forecast made during the race never sees its own race. A stint run far slower than the
    history (a race managed to the flag after a red flag, a drying track) gets faster later.
    """
    lo, hi = HISTORY_RACE_FRACTION
    dry = df["clean"] & df["race_frac"].between(lo, hi) & df["compound"].isin(DRY_COMPOUNDS)
    pace = df[dry].groupby(RACE + ["circuit_key"])["lap_time_s"].quantile(HISTORY_QUANTILE)
    races = df[RACE + ["circuit_key"]].drop_duplicates().sort_values(RACE)
    latest: dict[str, tuple[int, float]] = {}  # circuit → (season, pace) of its latest earlier season
    seen_this_season: dict[int, list[float]] = {}
    level = {}
    for season, rnd, circ in races.itertuples(index=False):
        ref = latest.get(circ)
        ref_pace = ref[1] if ref is not None and ref[0] < season else None
        deltas = seen_this_season.setdefault(season, [])
        if ref_pace is not None:
            level[(season, rnd)] = ref_pace + (float(np.median(deltas)) if len(deltas) >= 2 else 0.0)
        own = pace.get((season, rnd, circ))
        if own is not None and np.isfinite(own):
            if ref_pace is not None:
                deltas.append(float(own) - ref_pace)
            if ref is None or ref[0] < season:
                latest[circ] = (season, float(own))
    key = pd.MultiIndex.from_frame(df[RACE])
    return pd.Series(level, dtype="float64").reindex(key).to_numpy() if level else np.full(len(df), np.nan)


def _race_trend(df: pd.DataFrame, *, by_compound: bool) -> np.ndarray:
    """This race's net stint trend so far (s/lap), overall or per compound, as of each lap end.

    Each clean lap of a stint with ≥ 5 clean laps contributes that stint's running slope; an
    exponentially weighted mean over ~40 contributions is attached "as of" each session time
    (exclusive), so only laps already completed count. Tells how hard this race is on its tyres
    compared with the circuit's history (track temperature, asphalt, compound step).
    """
    ok = df["clean"] & (df["cl_n"] >= 5) & df["cl_slope"].between(-0.5, 0.8)
    return _as_of(df, df["cl_slope"].where(ok), lambda s: s.ewm(span=40).mean(),
                  keys=RACE + (["compound"] if by_compound else []))


def _as_of(df: pd.DataFrame, values: pd.Series, running, *, keys: list[str] = RACE) -> np.ndarray:
    """A running statistic of ``values`` (NaN skipped) within each group of ``keys`` in session-time
    order, attached to every row "as of" its own session time, exclusive: only laps completed
    before it count, so no car still on track leaks into a prediction. ``running`` maps a group's
    values (a Series in time order) to the statistic after each of them."""
    obs = df[keys].assign(t=df["session_time_s"], v=values).dropna(subset=["t", "v"]).sort_values(keys + ["t"])
    obs["v"] = obs.groupby(keys, sort=False)["v"].transform(running)
    left = df[keys].assign(t=df["session_time_s"], _i=np.arange(len(df))).dropna(subset=["t"]).sort_values("t")
    m = pd.merge_asof(left, obs[keys + ["t", "v"]].sort_values("t"), on="t", by=keys, allow_exact_matches=False)
    out = np.full(len(df), np.nan)
    out[m["_i"].to_numpy()] = m["v"].to_numpy()
    return out


# ------------------------------------------------------------------------------------- priors
@dataclass
class CircuitPriors:
    """Per circuit and compound summaries of past seasons (see module docstring).

    Attributes:
        trend: (circuit_key, compound) → median within-stint net trend, s/lap (deg − fuel).
        compound_trend: compound → the same over every circuit (fallback).
        stint_len: (circuit_key, compound) → median stint length in laps.
        compound_stint_len: compound → median stint length over every circuit.
        pit_rate: circuit_key → stops per driver per race.
        tyre_trend: (circuit_key, era, code) → net lap-time trend of a set on that Pirelli code
            (wear − fuel, s/lap) from the pooled tyre model (``models.tyre_pool``) of these seasons.
        code_trend: (era, code) → the same at an average circuit (fallback).
    """

    trend: dict = field(default_factory=dict)
    compound_trend: dict = field(default_factory=dict)
    stint_len: dict = field(default_factory=dict)
    compound_stint_len: dict = field(default_factory=dict)
    pit_rate: dict = field(default_factory=dict)
    tyre_trend: dict = field(default_factory=dict)
    code_trend: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, prepared: pd.DataFrame, *, before: int | None = None, tyres: bool = False) -> "CircuitPriors":
        """Summaries of ``prepared`` laps of seasons ``< before`` (all when None); ``tyres`` also
        fits the pooled tyre model for :attr:`tyre_trend` (a few seconds)."""
        d = prepared if before is None else prepared[prepared["season"] < before]
        out = cls()
        if d.empty:
            return out
        if tyres:
            out.tyre_trend, out.code_trend = tyre_trends(d)
        # per-stint net trend: slope of clean lap time on lap number, stints with ≥ 8 clean laps
        c = d[d["clean"] & d["compound"].isin(DRY_COMPOUNDS)]
        last = c.groupby(STINT, sort=False).tail(1)
        last = last[(last["cl_n"] >= 8) & last["cl_slope"].between(-0.5, 0.8)]
        if len(last):
            out.trend = {(k, cmp): float(v) for (k, cmp), v in
                         last.groupby(["circuit_key", "compound"])["cl_slope"].median().items()}
            out.compound_trend = {k: float(v) for k, v in last.groupby("compound")["cl_slope"].median().items()}
        st = d.groupby(STINT + ["circuit_key", "compound"], sort=False).agg(
            n=("lap_number", "size"), total=("total_laps", "first"), last=("lap_number", "max")).reset_index()
        # only stints that ended in a pit stop (not at the flag) say how long a set lasts
        st = st[(st["last"] < st["total"] - 1) & st["compound"].isin(DRY_COMPOUNDS)]
        if len(st):
            out.stint_len = {(k, cmp): float(v) for (k, cmp), v in
                             st.groupby(["circuit_key", "compound"])["n"].median().items()}
            out.compound_stint_len = {k: float(v) for k, v in st.groupby("compound")["n"].median().items()}
        stops = d[d["pit_in"]].groupby(["circuit_key"]).size()
        drivers = d.drop_duplicates(DRIVER).groupby("circuit_key").size()
        out.pit_rate = {k: float(stops.get(k, 0) / max(v, 1)) for k, v in drivers.items()}
        return out

    def trend_for(self, circuit: np.ndarray, compound: np.ndarray) -> np.ndarray:
        default = float(np.median(list(self.compound_trend.values()))) if self.compound_trend else 0.0
        return np.array([self.trend.get((c, m), self.compound_trend.get(m, default))
                         for c, m in zip(circuit, compound)], dtype="float64")

    def tyre_trend_for(self, circuit: np.ndarray, season: np.ndarray, code: np.ndarray) -> np.ndarray:
        """Net trend (s/lap) of each row's set from the pooled tyre model: the circuit's value for
        its era, else the code's all-circuit value, else the code's value of the latest era, else NaN."""
        latest = {}
        for (era, c), v in self.code_trend.items():
            if c not in latest or era_order(era) > era_order(latest[c][0]):
                latest[c] = (era, v)
        out = np.full(len(circuit), np.nan)
        for i, (ck, s, c) in enumerate(zip(circuit, season, code)):
            era = era_label(int(s))
            v = self.tyre_trend.get((ck, era, c), self.code_trend.get((era, c)))
            if v is None and c in latest:
                v = latest[c][1]
            if v is not None:
                out[i] = v
        return out

    def stint_len_for(self, circuit: np.ndarray, compound: np.ndarray) -> np.ndarray:
        default = float(np.median(list(self.compound_stint_len.values()))) if self.compound_stint_len else 20.0
        return np.array([self.stint_len.get((c, m), self.compound_stint_len.get(m, default))
                         for c, m in zip(circuit, compound)], dtype="float64")

    def pit_rate_for(self, circuit: np.ndarray) -> np.ndarray:
        default = float(np.median(list(self.pit_rate.values()))) if self.pit_rate else 1.5
        return np.array([self.pit_rate.get(c, default) for c in circuit], dtype="float64")


def attach_priors(df: pd.DataFrame, prepared_history: pd.DataFrame, *,
                  fixed: CircuitPriors | None = None) -> pd.DataFrame:
    """Add ``prior_trend_s``, ``prior_stint_len``, ``prior_pit_rate``, ``prior_tyre_trend_s`` to ``df``.

    With ``fixed`` every row gets those priors (prediction time); otherwise each season's rows get
    priors fitted on ``prepared_history`` of earlier seasons only (training rows).
    """
    df = df.copy()
    for col in ("prior_trend_s", "prior_stint_len", "prior_pit_rate", "prior_tyre_trend_s"):
        df[col] = np.nan
    groups = [(None, df.index)] if fixed is not None else list(df.groupby("season").groups.items())
    for season, idx in groups:
        pri = fixed if fixed is not None else CircuitPriors.fit(prepared_history, before=int(season), tyres=True)
        circ = df.loc[idx, "circuit_key"].to_numpy()
        comp = df.loc[idx, "compound"].to_numpy()
        df.loc[idx, "prior_trend_s"] = pri.trend_for(circ, comp)
        df.loc[idx, "prior_stint_len"] = pri.stint_len_for(circ, comp)
        df.loc[idx, "prior_pit_rate"] = pri.pit_rate_for(circ)
        if "compound_code" in df.columns:
            df.loc[idx, "prior_tyre_trend_s"] = pri.tyre_trend_for(circ, df.loc[idx, "season"].to_numpy(),
                                                                   df.loc[idx, "compound_code"].to_numpy())
    return df


# ------------------------------------------------------------------------------ tyre model
#: first season of the ground-effect era (``RaceModels.era_split_season``'s default)
ERA_SPLIT_SEASON = 2022
_TYRE_CACHE: dict = {}


def era_label(season: int) -> str:
    return f"{ERA_SPLIT_SEASON}+" if season >= ERA_SPLIT_SEASON else f"pre-{ERA_SPLIT_SEASON}"


def era_order(era: str) -> tuple[bool, str]:
    """Sort key of car-era labels, oldest first ("pre-2022" before "2022+")."""
    return (not str(era).startswith("pre"), str(era))


def latest_era(eras) -> str:
    """The newest of some car-era labels (:func:`era_order`)."""
    return max(eras, key=era_order)


def tyre_trends(prepared: pd.DataFrame) -> tuple[dict, dict]:
    """Net set trends (wear − fuel, s/lap) per (circuit, era, code) and per (era, code) from the
    pooled tyre model fitted on ``prepared`` laps (point estimates only; cached per history, as
    training asks for the same seasons more than once)."""
    key = (tuple(sorted(prepared["season"].unique().tolist())), len(prepared),
           round(float(prepared["lap_time_s"].sum(skipna=True)), 3))
    if key in _TYRE_CACHE:
        return _TYRE_CACHE[key]
    d = prepared
    laps = pd.DataFrame({
        "season": d["season"], "round": d["round"], "driver": d["driver"], "team": d["team"],
        "lap_number": d["lap_number"], "lap_time_s": d["lap_time_s"], "compound": d["compound"],
        "compound_code": d["compound_code"], "tyre_life_laps": d["tyre_age_laps"], "stint": d["stint"],
        "is_clean": d["clean"], "is_accurate": d["is_accurate"], "position": d["position"],
        "session_time_s": d["session_time_s"],
    })
    clean = prepare_clean_laps(laps)
    ck = d.drop_duplicates(RACE)[RACE + ["circuit_key"]]
    clean = clean.merge(ck, on=RACE)
    clean["era"] = [era_label(int(s)) for s in clean["season"]]
    trend, code_trend = {}, {}
    for era, e in clean.groupby("era"):
        pool = fit_pool(e.reset_index(drop=True), str(era), with_se=False)
        if pool is None:
            continue
        fuel = pool.fuel_by_race.groupby("circuit_key")["fuel_s_per_lap"].mean().to_dict()
        f_all = float(pool.fuel_by_race["fuel_s_per_lap"].median()) if len(pool.fuel_by_race) else 0.055
        for code, p in pool.codes.items():
            code_trend[(str(era), code)] = p.wear_s_per_lap - f_all
        for circ, codes in pool.circuits.items():
            for code, p in codes.items():
                trend[(circ, str(era), code)] = p.wear_s_per_lap - fuel.get(circ, f_all)
    if len(_TYRE_CACHE) > 16:
        _TYRE_CACHE.clear()
    _TYRE_CACHE[key] = (trend, code_trend)
    return trend, code_trend
