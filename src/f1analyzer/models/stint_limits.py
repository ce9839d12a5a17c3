"""The longest sensible stint per circuit, car era and (relative) compound, learned from races.

A strategist never plans a soft stint far beyond what any team has run at that track: past that
point the tyre model is extrapolating and the real tyre may fall off a cliff or fail. This
estimator measures that limit from the data.

* **What is measured.** The *set life* at the end of every completed dry stint (SOFT / MEDIUM /
  HARD) of a classified finisher: ``tyre_life_laps`` on the stint's last lap, which counts laps
  the set did before the race (qualifying sets), falling back to the stint's lap count when the
  life is missing. Stints of cars that retired are left out (their last stint ended for another
  reason); stints that ran to the flag are kept (they are real lengths run).
* **The limit.** The ``quantile`` (default 99th percentile) of those lengths per circuit × era ×
  compound, with a bootstrap standard deviation (``spread``) and the number of stints (``n``).
  It is a hard constraint on every plan, the live advisor's included, so it marks what almost no
  team has run, not what most teams stop before: the cost of a long stint is the tyre model's job
  (wear and the life term of :mod:`.tyre_life`). At the 95th percentile the cap bound cars that were
  already deep into a stint when a SC came out, forcing their stay-out plan into an extra green
  stop, and the advisor boxed under neutralisations far more often than the real top ten (2023:
  agreement with the top-10 majority 0.55 → 0.67 with the 99th; pre-race plans unchanged).
* **Thin data.** Stint lengths scale with the race distance, so the all-circuit limit is kept as
  a share of the race distance and shrunk into each circuit's estimate with a weight of
  ``prior_stints`` stints: ``(n * own + k * pooled * total_laps) / (n + k)``. A circuit (or
  compound) with no stints gets the pooled value with a wider spread.

Example:
    >>> lim = StintLimits().fit(laps, races)
    >>> lim.predict("monza", "2022+")["SOFT"]  # 2018-2024 data
    {'value': 26, 'spread': 2.05, 'n': 21, 'quantile': 0.99, 'pooled': False, 'share': 0.4906, ...}
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..log import get_logger
from .tyre_life import MEDIAN_SURVIVAL, ONSET_SURVIVAL, km_quantiles

log = get_logger("models.stint_limits")

DRY = ("SOFT", "MEDIUM", "HARD")
#: a car that covered less than this share of the winner's laps retired
FINISH_SHARE = 0.9


class StintLimits:
    """Estimator of the longest sensible stint (laps of set life) per circuit × era × compound.

    Args:
        quantile: the high quantile of completed stint lengths taken as the limit.
        prior_stints: weight, in stints, of the all-circuit limit in each circuit's estimate.
        n_boot: bootstrap resamples for the spread.
        era_split_season: first season of the second car era (as :class:`RaceModels`).
    """

    def __init__(self, *, quantile: float = 0.99, prior_stints: float = 10.0, n_boot: int = 200,
                 era_split_season: int = 2022, seed: int = 0, exclude_events=()):
        self.quantile = quantile
        #: ``(season, circuit_key)`` of races whose stints were capped by an event rule (their
        #: lengths were imposed, not chosen: see :func:`f1analyzer.data.event_rules.capped_events`)
        self.exclude_events = tuple(sorted((int(s), str(c)) for s, c in exclude_events))
        self.prior_stints = prior_stints
        self.n_boot = n_boot
        self.era_split_season = era_split_season
        self.seed = seed

    def era_of(self, season: int) -> str:
        s = self.era_split_season
        return f"{s}+" if int(season) >= s else f"pre-{s}"

    # ------------------------------------------------------------------ data
    @staticmethod
    def stint_table(laps: pd.DataFrame, races: pd.DataFrame) -> pd.DataFrame:
        """One row per completed dry stint of a finisher: season, round, circuit_key, total_laps,
        driver, compound, life_laps (set life at the stint's end), laps, fresh (new set at start)."""
        need = ["season", "round", "driver", "lap_number", "compound", "tyre_life_laps", "stint"]
        d = pd.DataFrame(laps)[need + [c for c in ("fresh_tyre", "track_status") if c in laps.columns]].copy()
        d = d[d["stint"].notna()]
        d["season"], d["round"] = d["season"].astype(int), d["round"].astype(int)
        last = d.groupby(["season", "round", "driver"])["lap_number"].transform("max")
        winner = d.groupby(["season", "round"])["lap_number"].transform("max")
        d = d[last >= FINISH_SHARE * winner]
        g = d.sort_values("lap_number").groupby(["season", "round", "driver", "stint"], sort=False)
        agg = {"compound": ("compound", "first"), "laps": ("lap_number", "size"),
               "life_end": ("tyre_life_laps", "last"), "life_start": ("tyre_life_laps", "first")}
        if "fresh_tyre" in d.columns:
            agg["fresh"] = ("fresh_tyre", "first")
        if "track_status" in d.columns:
            agg["status_end"] = ("track_status", "last")
        st = g.agg(**agg).reset_index()
        # a stint "ended by a stop" unless it is the driver's last (that one ran to the flag);
        # a stop on a lap under SC / VSC / red flag was taken because it was cheap, not because
        # the set was done (a competing risk): the tyre-life estimate censors it there
        last_stint = st.groupby(["season", "round", "driver"])["stint"].transform("max")
        st["stopped"] = st["stint"] < last_stint
        status = st["status_end"].astype(str) if "status_end" in st.columns else pd.Series("", index=st.index)
        st["neutral_end"] = status.str.contains("[4567]", regex=True).to_numpy()
        st = st[st["compound"].isin(DRY)]
        life = st["life_end"].astype("float64")
        # a set life shorter than the stint itself is a data glitch: trust the lap count then
        st["life_laps"] = np.where(life.notna() & (life >= st["laps"]), life, st["laps"]).astype(float)
        r = races[["season", "round", "circuit_key", "total_laps"]].copy()
        r["season"], r["round"] = r["season"].astype(int), r["round"].astype(int)
        st = st.merge(r, on=["season", "round"], how="inner")
        return st.reset_index(drop=True)

    # ------------------------------------------------------------------ fit
    def fit(self, laps: pd.DataFrame, races: pd.DataFrame) -> "StintLimits":
        """Fit on the lap table (with ``stint`` and ``tyre_life_laps``) and the races table."""
        st = self.stint_table(laps, races)
        if self.exclude_events:
            capped = set(self.exclude_events)
            st = st[[(int(s), str(c)) not in capped for s, c in zip(st["season"], st["circuit_key"])]]
        st["era"] = [self.era_of(s) for s in st["season"]]
        st["share"] = st["life_laps"] / st["total_laps"].astype(float)
        # tyre life (models/tyre_life.py): a green-flag stop says the set was done
        st["life_event"] = (st["stopped"] & ~st["neutral_end"]) if "stopped" in st.columns else False
        rng = np.random.default_rng(self.seed)
        q = float(self.quantile)
        self.pooled_ = {}  # era -> compound -> {share, spread_share, n}
        for (era, comp), g in st.groupby(["era", "compound"]):
            x = g["share"].to_numpy()
            sd = self._boot(x, rng)
            self.pooled_.setdefault(str(era), {})[str(comp)] = {
                # one stint says nothing about the spread: a tenth of the race
                "share": round(float(np.quantile(x, q)), 5), "spread_share": round(sd if np.isfinite(sd) else 0.1, 5),
                "n": int(x.size)}
            life = km_quantiles(x, g["life_event"].to_numpy(bool))
            for name, level in (("life_onset_share", ONSET_SURVIVAL), ("life_median_share", MEDIAN_SURVIVAL)):
                if level in life:
                    self.pooled_[str(era)][str(comp)][name] = round(life[level], 5)
        self.limits_ = {}  # circuit -> era -> compound -> {value, spread, n, quantile, pooled}
        self.total_laps_ = {}
        for ck, gc in st.groupby("circuit_key"):
            ck = str(ck)
            self.total_laps_[ck] = int(np.median(gc["total_laps"]))
            for era, ge in gc.groupby("era"):
                tl = float(np.median(ge["total_laps"]))
                out = {}
                for comp in DRY:
                    sel = ge["compound"] == comp
                    x = ge.loc[sel, "life_laps"].to_numpy(float)
                    out[comp] = self._combine(x, str(era), comp, tl, rng)
                    if out[comp]:
                        out[comp].update(self._life(x, ge.loc[sel, "life_event"].to_numpy(bool), str(era), comp, tl))
                self.limits_.setdefault(ck, {})[str(era)] = out
        self.n_stints_ = int(len(st))
        log.info("stint limits: %d stints, %d circuits", self.n_stints_, len(self.limits_))
        return self

    def _boot(self, x: np.ndarray, rng) -> float:
        if x.size < 2:
            return float("nan")
        idx = rng.integers(0, x.size, size=(self.n_boot, x.size))
        return float(np.std(np.quantile(x[idx], self.quantile, axis=1)))

    def _combine(self, x: np.ndarray, era: str, comp: str, total_laps: float, rng) -> dict:
        pool = self.pooled_.get(era, {}).get(comp)
        k = float(self.prior_stints)
        if pool is None and x.size == 0:
            return {}
        prior = pool["share"] * total_laps if pool else None
        prior_sd = pool["spread_share"] * total_laps if pool else None
        if x.size == 0:
            # no stint on this compound here: the all-circuit share, with its spread plus the
            # between-circuit uncertainty it ignores (a tenth of the race)
            return {"value": int(round(prior)), "spread": round(float(np.hypot(prior_sd or 0.0, 0.1 * total_laps)), 2),
                    "n": 0, "quantile": self.quantile, "pooled": True, "share": round(prior / total_laps, 4)}
        own = float(np.quantile(x, self.quantile))
        sd = self._boot(x, rng)
        if prior is None:
            return {"value": int(round(own)), "spread": round(sd, 2) if np.isfinite(sd) else None,
                    "n": int(x.size), "quantile": self.quantile, "pooled": False,
                    "share": round(own / total_laps, 4)}
        w = x.size / (x.size + k)
        value = w * own + (1 - w) * prior
        spread = float(np.hypot(w * (sd if np.isfinite(sd) else prior_sd), (1 - w) * 0.1 * total_laps))
        spread = spread if np.isfinite(spread) else 0.1 * total_laps
        return {"value": int(round(value)), "spread": round(spread, 2), "n": int(x.size),
                "quantile": self.quantile, "pooled": w < 0.5, "share": round(value / total_laps, 4)}

    def _life(self, x: np.ndarray, event: np.ndarray, era: str, comp: str, total_laps: float) -> dict:
        """{life_onset, life_median, life_stops}: the Kaplan–Meier onset and median set life
        (:mod:`.tyre_life`), the circuit's own shrunk to the all-circuit share with the weight of
        ``prior_stints`` stints. An own survival that never falls to the level counts as "beyond
        the longest stint seen" (longest + 1). Missing when neither has it."""
        pool = self.pooled_.get(era, {}).get(comp) or {}
        own = km_quantiles(x, event)
        w = x.size / (x.size + float(self.prior_stints))
        out = {"life_stops": int(np.sum(event))}
        for name, level in (("life_onset", ONSET_SURVIVAL), ("life_median", MEDIAN_SURVIVAL)):
            prior = pool.get(f"{name}_share")
            prior = None if prior is None else float(prior) * total_laps
            mine = own.get(level)
            if mine is None and x.size:
                mine = float(np.max(x)) + 1.0
            if mine is None and prior is None:
                continue
            value = prior if mine is None else mine if prior is None else w * mine + (1 - w) * prior
            out[name] = round(float(value), 1)
        return out

    # ------------------------------------------------------------------ predict
    def predict(self, circuit_key: str, era: str, total_laps: int | None = None) -> dict[str, dict]:
        """compound -> {value, spread, n, quantile, pooled} for a circuit and era.

        A circuit or era the data never saw gets the all-circuit share of ``total_laps``."""
        own = self.limits_.get(str(circuit_key), {}).get(str(era))
        if own:
            return {c: dict(v) for c, v in own.items() if v}
        tl = float(total_laps or self.total_laps_.get(str(circuit_key), 0) or 57)
        rng = np.random.default_rng(self.seed)
        out = {c: self._combine(np.array([]), str(era), c, tl, rng) for c in DRY}
        for c, v in out.items():
            if v:
                v.update(self._life(np.array([]), np.array([], bool), str(era), c, tl))
        return {c: v for c, v in out.items() if v}

    def to_dict(self) -> dict:
        return {"params": {"quantile": self.quantile, "prior_stints": self.prior_stints, "n_boot": self.n_boot,
                           "era_split_season": self.era_split_season, "seed": self.seed,
                           "exclude_events": [list(e) for e in self.exclude_events]},
                "pooled": self.pooled_, "limits": self.limits_, "total_laps": self.total_laps_,
                "n_stints": self.n_stints_}

    @classmethod
    def from_dict(cls, d: dict) -> "StintLimits":
        obj = cls(**d.get("params", {}))
        obj.pooled_, obj.limits_ = d["pooled"], d["limits"]
        obj.total_laps_, obj.n_stints_ = d.get("total_laps", {}), int(d.get("n_stints", 0))
        return obj


__all__ = ["StintLimits", "DRY", "FINISH_SHARE"]
