"""All fitted physical race models, per circuit, as one estimator over the whole store.

Example:
    >>> store = RaceStore(settings.store_dir)
    >>> models = RaceModels().fit(store.laps(), store.races(), store.pit_stops())
    >>> monza = models.circuit("Monza")
    >>> monza.compounds["SOFT"].delta_s(np.arange(20))     # pace offset + wear, s
    >>> monza.pit_loss_s, monza.sc.p_at_least_one
    >>> models.save(Path("race_models.json"))

Every circuit in the data gets a :class:`CircuitModel`; ``global_`` is the all-circuit average that
small samples are shrunk towards and that unknown tracks can fall back to. See docs/MODELS.md.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import MISSING, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.circuits import get_circuit, resolve_circuit
from ..errors import DataValidationError, InvalidRequestError, NotFittedError, NotFoundError
from ..log import get_logger
from . import overtaking as ot
from . import pace as pace_mod
from . import pitloss, race_start, venues
from .features import era_order, latest_era
from .neutral_stops import NeutralStopRates, richer_rates
from .safety_car import SafetyCarModel, fit_neutralisation, race_periods, statuses_by_race
from .stint_limits import StintLimits
from ..data.event_rules import capped_events
from .tyre_circuits import fit_circuits
from .tyres import TyreFit, TyreModel, prepare_clean_laps

log = get_logger("models.race_models")

FORMAT = 1
GLOBAL_KEY = "_all"


@dataclass
class CircuitModel:
    """Everything fitted about one circuit (or, for ``RaceModels.global_``, all of them).

    ``base_lap_time_s`` is a clean, fuel-corrected lap of a mid-field car on a fresh MEDIUM at
    race-end fuel, so ``expected_lap_time_s`` adds fuel still on board, tyre and driver deltas.
    """

    key: str
    name: str
    n_races: int = 0
    seasons: list[int] = field(default_factory=list)
    total_laps: int = 60
    base_lap_time_s: float = 90.0
    fuel_effect_s_per_lap: float = 0.06
    compounds: dict[str, TyreModel] = field(default_factory=dict)
    pit_loss_s: float = pitloss.DEFAULT_PIT_LOSS_S
    pit_loss_sd_s: float = pitloss.DEFAULT_PIT_LOSS_SD_S
    pit_loss_sc_s: float = pitloss.DEFAULT_PIT_LOSS_SC_S
    pit_loss_vsc_s: float = pitloss.DEFAULT_PIT_LOSS_VSC_S
    n_pit_stops: int = 0
    sc: SafetyCarModel = field(default_factory=SafetyCarModel)
    vsc: SafetyCarModel = field(default_factory=SafetyCarModel)
    first_lap_loss_s: float = 3.0
    per_grid_slot_loss_s: float = 0.3
    lap1_position_change_sd: float = 2.0
    positions_gained_by_grid: list[float] = field(default_factory=lambda: [0.0] * 20)
    overtake_threshold_s: float = 1.0
    overtakes_per_race: float = 0.0
    retirement_prob: float = 0.05
    lap_noise_sd_s: float = 0.5
    #: era label → compound → model; ``compounds`` is the latest era with data
    compounds_by_era: dict[str, dict[str, TyreModel]] = field(default_factory=dict)
    era: str = ""
    fuel_effect_by_era: dict[str, float] = field(default_factory=dict)
    #: median pit-lane time (entry to exit line, stationary time included) of green stops
    pit_lane_time_s: float | None = None
    #: where this model comes from when not fitted on this set's own laps: the set it was filled
    #: from (``RaceModels.fill_missing``) or the similar tracks of a new venue; "" = fitted here
    source: str = ""
    #: a new venue's model: the circuit keys its priors came from, comma-separated
    prior_from: str = ""
    #: longest sensible stint, era → compound → {value (laps of set life), spread, n, quantile,
    #: pooled, share (of the race distance)}: :class:`~.stint_limits.StintLimits`
    max_stint_laps: dict[str, dict] = field(default_factory=dict)
    #: era → Pirelli code (C1…C6, 2018 names mapped) → model at this circuit (offsets against the
    #: era's C3 level): an event's own SOFT/MEDIUM/HARD are built from its allocation
    tyre_codes_by_era: dict[str, dict[str, TyreModel]] = field(default_factory=dict)
    #: era → {"SOFT": code, ...}: the allocation behind ``compounds_by_era`` (the latest event's)
    tyre_allocation_by_era: dict[str, dict[str, str]] = field(default_factory=dict)
    #: era → ordering diagnostics of the raw pooled fit (``tyre_circuits.ordering``) and its terms
    tyre_diagnostics_by_era: dict[str, dict] = field(default_factory=dict)
    #: stops seen under SC / VSC (the loss is measured on those made on the first neutralised
    #: lap, against the gaps before it: models/pitloss.py)
    n_sc_stops: int = 0
    n_vsc_stops: int = 0
    #: constraints applied to the fitted SC/VSC losses after the fit, one sentence each
    pit_loss_constrained: list[str] = field(default_factory=list)
    #: logistic P(pass | caught): all-circuit coefficients + this circuit's effect
    #: (models/overtaking.py; the simulator's PassingParams)
    passing_intercept: float = ot.DEFAULT_PASSING["intercept"]
    passing_pace_coef_per_s: float = ot.DEFAULT_PASSING["pace_coef_per_s"]
    passing_drs_coef: float = ot.DEFAULT_PASSING["drs_coef"]
    passing_circuit_effect: float = 0.0
    passing_n_pairs: int = 0
    #: era → quantiles (s, at ``overtaking.HELD_GAP_PROBS``) of the gap at which a follower that
    #: does not get past is held (the all-circuit model only; the simulator's ``held_gap_s``)
    held_gap_by_era: dict[str, list[float]] = field(default_factory=dict)

    def expected_lap_time_s(self, compound, tyre_age_laps, lap_number, driver_delta_s=0.0) -> np.ndarray:
        """Clean lap time (s) for arrays of compound names, tyre ages and lap numbers (broadcast).

        ``base + fuel_effect * (total_laps - lap_number) + tyre.delta_s(age) + driver_delta_s``.
        """
        comp = np.asarray(compound, dtype=object)
        age = np.asarray(tyre_age_laps, dtype=np.float64)
        lap = np.asarray(lap_number, dtype=np.float64)
        comp, age, lap = np.broadcast_arrays(comp, age, lap)
        tyre = np.zeros(age.shape)
        for name in np.unique(comp.astype(str)):
            m = self.compounds.get(name.upper())
            if m is None:
                raise InvalidRequestError(
                    f"No tyre model for compound {name!r} at {self.key}. Available: "
                    + ", ".join(self.compounds) + ".", details={"options": list(self.compounds)})
            sel = comp.astype(str) == name
            tyre[sel] = m.delta_s(age[sel])
        return (self.base_lap_time_s + self.fuel_effect_s_per_lap * (self.total_laps - lap) + tyre
                + np.asarray(driver_delta_s, dtype=np.float64))

    def degradation_curves(self, max_age_laps: int = 40) -> dict[str, list[dict]]:
        """Per compound, ``[{"tyre_age_laps", "delta_s"}]`` for ages 1..max_age_laps (charts)."""
        ages = np.arange(1, max_age_laps + 1)
        return {c: [{"tyre_age_laps": int(a), "delta_s": round(float(d), 4)} for a, d in zip(ages, m.delta_s(ages))]
                for c, m in self.compounds.items()}

    def __setstate__(self, state: dict) -> None:
        """Unpickle (joblib model sets) objects saved before a field existed: it takes its default."""
        for name, f in self.__dataclass_fields__.items():
            if name not in state:
                state[name] = f.default_factory() if f.default_factory is not MISSING else f.default
        self.__dict__.update(state)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__
             if k not in ("compounds", "compounds_by_era", "sc", "vsc", "tyre_codes_by_era")}
        d = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in d.items()}
        d["positions_gained_by_grid"] = [round(float(x), 4) for x in self.positions_gained_by_grid]
        d["fuel_effect_by_era"] = {k: round(v, 6) for k, v in self.fuel_effect_by_era.items()}
        d["compounds_by_era"] = {e: {c: m.to_dict() for c, m in cm.items()} for e, cm in self.compounds_by_era.items()}
        d["sc"], d["vsc"] = self.sc.to_dict(), self.vsc.to_dict()
        d["tyre_codes_by_era"] = {e: {c: m.to_dict() for c, m in cm.items()} for e, cm in self.tyre_codes_by_era.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "CircuitModel":
        nested = ("compounds", "compounds_by_era", "sc", "vsc", "tyre_codes_by_era")
        kw = {k: d[k] for k in cls.__dataclass_fields__ if k in d and k not in nested}
        obj = cls(**kw)
        obj.compounds_by_era = {e: {c: TyreModel.from_dict(m) for c, m in cm.items()}
                                for e, cm in d.get("compounds_by_era", {}).items()}
        obj.compounds = dict(obj.compounds_by_era.get(obj.era, {}))
        obj.tyre_codes_by_era = {e: {c: TyreModel.from_dict(m) for c, m in cm.items()}
                                 for e, cm in d.get("tyre_codes_by_era", {}).items()}
        obj.sc = SafetyCarModel.from_dict(d.get("sc", {}))
        obj.vsc = SafetyCarModel.from_dict(d.get("vsc", {}))
        return obj


class RaceModels:
    """Estimator fitting every physical race model for every circuit in the data.

    Args:
        min_clean_laps: fewest clean laps of a compound at a circuit and era for its own tyre fit
            (fewer: the all-circuit average is used).
        shrinkage_races: weight, in races, of the all-circuit average in per-circuit estimates
            (SC/VSC rates, start, retirements, overtaking).
        era_split_season: first season of the second car era (2022: ground-effect cars, 18" tyres).
    """

    #: how often cars boxed at the SC/VSC starts of the races fitted on (None: not fitted, or a
    #: set saved before the rates existed)
    neutral_stops_: NeutralStopRates | None = None

    def __init__(self, *, min_clean_laps: int = 40, shrinkage_races: float = 3.0, era_split_season: int = 2022):
        self.min_clean_laps = min_clean_laps
        self.shrinkage_races = shrinkage_races
        self.era_split_season = era_split_season

    def get_params(self) -> dict:
        return {"min_clean_laps": self.min_clean_laps, "shrinkage_races": self.shrinkage_races,
                "era_split_season": self.era_split_season}

    def era_of(self, season: int) -> str:
        return f"{self.era_split_season}+" if int(season) >= self.era_split_season else f"pre-{self.era_split_season}"

    # ------------------------------------------------------------------ fit
    def fit(self, laps, races: pd.DataFrame, pit_stops: pd.DataFrame) -> "RaceModels":
        """Fit on a lap table (``Laps`` or DataFrame), the races table and the pit stops table."""
        t0 = time.perf_counter()
        laps = pd.DataFrame(laps)
        need = {"season", "round", "driver", "lap_number", "lap_time_s", "compound", "tyre_life_laps",
                "is_clean", "is_accurate", "track_status", "position", "session_time_s"}
        missing = need - set(laps.columns)
        if missing:
            raise DataValidationError(f"laps lack columns: {', '.join(sorted(missing))}")
        if laps.empty:
            raise DataValidationError("No laps to fit race models on. Ingest races first.")
        races = races.copy()
        races["season"], races["round"] = races["season"].astype(int), races["round"].astype(int)
        laps = laps.merge(races[["season", "round"]], on=["season", "round"], how="inner")
        m = float(self.shrinkage_races)

        # ---- tyres and fuel: one pooled fit per era by Pirelli code (models/tyre_pool.py) ------
        clean = prepare_clean_laps(laps).merge(races[["season", "round", "circuit_key"]], on=["season", "round"])
        pooled, glob_pool = fit_circuits(clean, races, self.era_of, min_clean_laps=self.min_clean_laps)
        fits: dict[tuple[str, str], TyreFit] = {k: v.fit for k, v in pooled.items()}
        eras = sorted({e for _, e in fits}, key=era_order)
        glob_tyres: dict[str, dict[str, TyreModel]] = {e: glob_pool[e]["compounds"] for e in eras}
        fuel_all = {e: np.array([f.fuel_effect_s_per_lap for (_, e2), f in fits.items() if e2 == e]) for e in eras}
        fuel_se = {e: np.array([f.fuel_effect_se_s for (_, e2), f in fits.items() if e2 == e]) for e in eras}
        glob_fuel = {e: float(np.median(v)) for e, v in fuel_all.items()}
        tau_fuel = {e: float(np.sqrt(max(np.var(fuel_all[e]) - np.mean(fuel_se[e] ** 2), 1e-6))) for e in eras}

        for (ck, era), f in fits.items():
            w = tau_fuel[era] ** 2 / (tau_fuel[era] ** 2 + f.fuel_effect_se_s ** 2)
            f.fuel_effect_s_per_lap = float(w * f.fuel_effect_s_per_lap + (1 - w) * glob_fuel[era])

        alpha = pd.concat([f.alpha for f in fits.values()], ignore_index=True) if fits else pd.DataFrame(
            columns=["season", "round", "driver", "team", "n_laps", "alpha_s"])
        self.pace_ = pace_mod.race_pace(alpha)
        self.team_pace_ = pace_mod.team_pace(self.pace_)
        fuel_by_race = {}
        for (ck, era), f in fits.items():
            for s, r in f.alpha[["season", "round"]].drop_duplicates().itertuples(index=False):
                fuel_by_race[(int(s), int(r))] = f.fuel_effect_s_per_lap

        # ---- pit loss, SC/VSC, start, overtaking, retirements ---------------------------------
        ck_of = races.set_index(["season", "round"])["circuit_key"].astype(str)
        glob_pit, pit_by_circuit = pitloss.fit_circuits(laps, pit_stops, ck_of)
        statuses = statuses_by_race(laps)  # the track status per lap, read once for SC/VSC and stop rates
        periods, counts = race_periods(laps, races, statuses)
        glob_sc = fit_neutralisation(counts["sc"].to_numpy(), periods[periods["kind"] == "sc"])
        glob_vsc = fit_neutralisation(counts["vsc"].to_numpy(), periods[periods["kind"] == "vsc"])
        lap1 = race_start.lap1_table(laps, alpha, fuel_by_race)
        # a start behind the Safety Car or a red flag on lap 1 says nothing about starts
        neutral_start = {(int(s), int(r)) for s, r in periods.loc[periods["start_lap"] <= 2, ["season", "round"]]
                         .itertuples(index=False)}
        # a boolean *array*: an empty Python list would select no columns instead of no rows
        lap1 = lap1[np.array([k not in neutral_start for k in zip(lap1["season"], lap1["round"])], dtype=bool)]
        lap1 = lap1[~lap1.set_index(["season", "round"]).index.isin(list(red_lap1(laps)))].reset_index(drop=True)
        lap1["circuit_key"] = ck_of.reindex(list(zip(lap1["season"], lap1["round"]))).to_numpy()
        glob_start = race_start.fit_start(lap1)
        expected = self._expected_for_laps(laps, races, alpha, fits)
        pairs, swaps = ot.pass_events(laps, expected)
        for df in (pairs, swaps):
            df["circuit_key"] = ck_of.reindex(list(zip(df["season"], df["round"]))).to_numpy()
        n_race_total = max(len(counts), 1)
        # circuit effects: a prior worth ``m`` average races of the all-circuit information
        beta_g, pass_prior = ot.fit_passing(pairs, n_race_total, m)
        # the gap held-up followers keep: per car era (2022's cars were built to follow closer),
        # an era with too few pairs takes all eras' fit
        held_all = ot.fit_held_gap(pairs)
        pair_era = np.array([self.era_of(s) for s in pairs["season"]], dtype=object)
        held_by_era = {e: list(ot.fit_held_gap(pairs[pair_era == e], held_all)) for e in eras}
        retire = ot.retirements(laps)
        retire["circuit_key"] = ck_of.reindex(list(zip(retire["season"], retire["round"]))).to_numpy()
        p_ret_g = float(retire["retired"].sum() / max(retire["cars"].sum(), 1))
        cars_per_race = float(retire["cars"].mean()) if len(retire) else 20.0

        def circuit_model(key: str, name: str, rs: pd.DataFrame) -> CircuitModel:
            cm = CircuitModel(key=key, name=name)
            cm.n_races = int(len(rs))
            cm.seasons = sorted({int(s) for s in rs["season"]})
            cm.total_laps = int(np.median(rs["total_laps"].astype(int))) if len(rs) else 60
            own = {e: fits[(key, e)] for e in eras if (key, e) in fits}
            cm.compounds_by_era = {e: f.compounds for e, f in own.items()} or {
                e: {c: TyreModel.from_dict(t.to_dict()) for c, t in glob_tyres[e].items()} for e in eras[-1:]}
            cm.era = latest_era(cm.compounds_by_era) if cm.compounds_by_era else ""
            cm.compounds = cm.compounds_by_era.get(cm.era, {})
            cm.tyre_codes_by_era = {e: pooled[(key, e)].codes for e in own}
            cm.tyre_allocation_by_era = {e: pooled[(key, e)].allocation for e in own}
            cm.tyre_diagnostics_by_era = {e: pooled[(key, e)].diagnostics for e in own}
            cm.fuel_effect_by_era = {e: f.fuel_effect_s_per_lap for e, f in own.items()}
            cm.fuel_effect_s_per_lap = cm.fuel_effect_by_era.get(cm.era, glob_fuel.get(cm.era, 0.06))
            f = own.get(cm.era)
            if f is not None:
                tl = rs.set_index(["season", "round"])["total_laps"].astype(int)
                med = f.alpha.groupby(["season", "round"])["alpha_s"].median()
                base = [a - cm.fuel_effect_s_per_lap * tl.get((int(s), int(r)), cm.total_laps)
                        for (s, r), a in med.items()]
                cm.base_lap_time_s = float(np.median(base))
                cm.lap_noise_sd_s = f.resid_sd_s
            pit = pit_by_circuit.get(key, glob_pit) if key != GLOBAL_KEY else glob_pit
            for k in ("pit_loss_s", "pit_loss_sd_s", "pit_loss_sc_s", "pit_loss_vsc_s", "n_pit_stops",
                      "pit_lane_time_s", "n_sc_stops", "n_vsc_stops", "pit_loss_constrained"):
                setattr(cm, k, pit[k])
            if key == GLOBAL_KEY:
                cm.sc, cm.vsc = glob_sc, glob_vsc
                st, effect = glob_start, 0.0
                sw, rt = swaps, retire
                cm.passing_n_pairs = int(len(pairs))
                cm.retirement_prob = p_ret_g
            else:
                c = counts[counts["circuit_key"] == key]
                p = periods[periods["circuit_key"] == key]
                cm.sc = fit_neutralisation(c["sc"].to_numpy(), p[p["kind"] == "sc"], glob_sc, m)
                cm.vsc = fit_neutralisation(c["vsc"].to_numpy(), p[p["kind"] == "vsc"], glob_vsc, m)
                st = race_start.fit_start(lap1[lap1["circuit_key"] == key], glob_start, m)
                pr = pairs[pairs["circuit_key"] == key]
                effect = ot.circuit_effect(pr, beta_g, pass_prior["prior_precision"])
                cm.passing_n_pairs = int(len(pr))
                sw = swaps[swaps["circuit_key"] == key]
                rt = retire[retire["circuit_key"] == key]
                cm.retirement_prob = float((rt["retired"].sum() + m * cars_per_race * p_ret_g)
                                           / (rt["cars"].sum() + m * cars_per_race))
            for k, v in st.items():
                setattr(cm, k, v)
            cm.passing_intercept, cm.passing_pace_coef_per_s, cm.passing_drs_coef = (float(b) for b in beta_g)
            cm.passing_circuit_effect = float(effect)
            cm.overtake_threshold_s = ot.threshold_s(beta_g[:2], effect)
            if key == GLOBAL_KEY:
                cm.overtakes_per_race = float(sw["passes"].mean()) if len(sw) else 0.0
            else:
                g_opr = float(swaps["passes"].mean()) if len(swaps) else 0.0
                cm.overtakes_per_race = float((sw["passes"].sum() + m * g_opr) / (len(sw) + m))
            return cm

        self.circuits_ = {}
        for ck, rs in races.groupby("circuit_key", sort=True):
            c = get_circuit(str(ck))
            self.circuits_[str(ck)] = circuit_model(str(ck), c.name if c else str(ck), rs)
        self.global_ = circuit_model(GLOBAL_KEY, "All circuits", races)
        self.global_.compounds_by_era = glob_tyres
        self.global_.era = eras[-1] if eras else ""
        self.global_.compounds = glob_tyres.get(self.global_.era, {})
        self.global_.tyre_codes_by_era = {e: glob_pool[e]["codes"] for e in eras}
        self.global_.tyre_allocation_by_era = {e: glob_pool[e]["allocation"] for e in eras}
        self.global_.tyre_diagnostics_by_era = {e: glob_pool[e]["pool"] for e in eras}
        self.global_.held_gap_by_era = held_by_era
        self.global_.fuel_effect_by_era = glob_fuel
        self.global_.fuel_effect_s_per_lap = glob_fuel.get(self.global_.era, 0.06)
        self.global_.base_lap_time_s = float(np.median([c.base_lap_time_s for c in self.circuits_.values()]))
        self._fit_stint_limits(laps, races)
        # the advisor's field history for a call its simulation cannot separate
        self.neutral_stops_ = NeutralStopRates(era_split_season=self.era_split_season).fit(laps, races, statuses,
                                                                                         pit_stops)
        self.seasons_ = sorted({int(s) for s in races["season"]})
        self.n_laps_ = int(len(laps))
        self.data_hash_ = data_hash(laps)
        self.fit_seconds_ = round(time.perf_counter() - t0, 2)
        log.info("fitted race models for %d circuits on %d laps in %.1fs", len(self.circuits_), self.n_laps_,
                 self.fit_seconds_)
        return self

    def _fit_stint_limits(self, laps: pd.DataFrame, races: pd.DataFrame) -> None:
        """``max_stint_laps`` of every circuit (and the all-circuit shares on ``global_``); races
        run under an event stint cap (the event-rules table) are left out of what is learned."""
        if "stint" not in laps.columns:  # lap tables without stints (older callers): no limits
            return
        lim = StintLimits(era_split_season=self.era_split_season, exclude_events=capped_events()).fit(laps, races)
        eras = sorted(lim.pooled_)
        for key, cm in self.circuits_.items():
            cm.max_stint_laps = {e: lim.predict(key, e, cm.total_laps) for e in eras}
        self.global_.max_stint_laps = {e: lim.predict(GLOBAL_KEY, e, self.global_.total_laps) for e in eras}

    def _expected_for_laps(self, laps, races, alpha, fits) -> pd.Series:
        """Expected lap time (no fuel term) of each lap: driver-race intercept + tyre delta."""
        a = alpha.set_index(["season", "round", "driver"])["alpha_s"]
        key = list(zip(laps["season"].astype(int), laps["round"].astype(int), laps["driver"]))
        base = a.reindex(key).to_numpy()
        ck = races.set_index(["season", "round"])["circuit_key"].astype(str)
        circ = ck.reindex(list(zip(laps["season"].astype(int), laps["round"].astype(int)))).to_numpy()
        era = np.array([self.era_of(s) for s in laps["season"]])
        age = (laps["tyre_life_laps"].astype("float64") - 1).clip(lower=0).to_numpy()
        comp = laps["compound"].astype(str).to_numpy()
        tyre = np.full(len(laps), np.nan)
        for (c_key, e), f in fits.items():
            sel_ce = (circ == c_key) & (era == e)
            for c, tm in f.compounds.items():
                sel = sel_ce & (comp == c)
                tyre[sel] = tm.delta_s(age[sel])
        return pd.Series(base + tyre, index=laps.index)

    # ------------------------------------------------------------------ queries
    def _check(self) -> None:
        if not hasattr(self, "circuits_"):
            raise NotFittedError("RaceModels is not fitted: call fit(...) or load a saved model set.")

    def circuit(self, key_or_name: str) -> CircuitModel:
        """The model of a circuit by key ('monza'), name, location or event ('Italian GP')."""
        self._check()
        text = str(key_or_name).strip()
        if text in self.circuits_:
            return self.circuits_[text]
        if text.lower() in ("_all", "all", "global"):
            return self.global_
        key = resolve_circuit(text)
        if key in self.circuits_:
            return self.circuits_[key]
        options = list(self.circuits_) + [c.name for c in self.circuits_.values()]
        raise NotFoundError.with_suggestions("circuit", text, options)

    def driver_pace(self, season: int, round: int | None = None) -> dict[str, float]:
        """Pace delta (s/lap, negative = faster than the field median) per driver before a race."""
        self._check()
        return pace_mod.driver_pace(self.pace_, int(season), None if round is None else int(round))

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        self._check()
        return {
            "format": FORMAT,
            "kind": "f1analyzer.RaceModels",
            "params": self.get_params(),
            "seasons": self.seasons_,
            "n_laps": self.n_laps_,
            "data_hash": self.data_hash_,
            "fit_seconds": getattr(self, "fit_seconds_", None),
            "global": self.global_.to_dict(),
            "circuits": {k: c.to_dict() for k, c in self.circuits_.items()},
            "pace": _frame_to_dict(self.pace_, 4),
            "team_pace": _frame_to_dict(self.team_pace_, 4),
            "neutral_stops": self.neutral_stops_.to_dict() if self.neutral_stops_ is not None else None,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "RaceModels":
        if d.get("format") != FORMAT:
            raise DataValidationError(f"Unsupported race-models format {d.get('format')!r} (expected {FORMAT}).")
        obj = cls(**d.get("params", {}))
        obj.seasons_ = [int(s) for s in d["seasons"]]
        obj.n_laps_ = int(d["n_laps"])
        obj.data_hash_ = str(d["data_hash"])
        if d.get("fit_seconds") is not None:
            obj.fit_seconds_ = float(d["fit_seconds"])
        obj.global_ = CircuitModel.from_dict(d["global"])
        obj.circuits_ = {k: CircuitModel.from_dict(c) for k, c in d["circuits"].items()}
        obj.pace_ = _frame_from_dict(d["pace"])
        obj.team_pace_ = _frame_from_dict(d["team_pace"])
        obj.neutral_stops_ = NeutralStopRates.from_dict(d.get("neutral_stops"))  # None: a set from before it
        return obj

    def save(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "RaceModels":
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise DataValidationError(f"{path}: not a readable race-models file ({exc})") from None
        return cls.from_dict(d)

    # ------------------------------------------------------------------ gaps and new venues
    def fill_missing(self, fallback: "RaceModels", *, source: str | None = None) -> list[str]:
        """Take from ``fallback`` every circuit this set lacks or knows from fewer races (per
        circuit, never one that saw a season after this set's last); returns the keys filled.
        Each filled circuit's ``source`` names where it came from (``source``, default: the
        fallback's seasons). See :func:`~f1analyzer.models.venues.fill_missing`."""
        self._check()
        fallback._check()
        filled = venues.fill_missing(self, fallback, source=source)
        if max(fallback.seasons_) <= max(self.seasons_):  # the SC/VSC stop rates too, no hindsight
            self.neutral_stops_ = richer_rates(self.neutral_stops_, fallback.neutral_stops_,
                                               source or venues.describe_set(fallback))
        return filled

    def filled_circuits(self) -> dict[str, str]:
        """Circuit key → where its model came from, for circuits not fitted on this set's laps."""
        self._check()
        return {k: c.source for k, c in self.circuits_.items() if c.source}

    def venue_prior(self, key: str) -> CircuitModel | None:
        """A model for a venue this set never saw, from the most similar known tracks (None when
        the venue is not in the circuit table). See :func:`~f1analyzer.models.venues.new_venue_model`."""
        self._check()
        return venues.new_venue_model(self, key)

    def __repr__(self) -> str:
        if not hasattr(self, "circuits_"):
            return f"RaceModels({self.get_params()}, not fitted)"
        return f"RaceModels({len(self.circuits_)} circuits, seasons {self.seasons_[0]}-{self.seasons_[-1]})"


def red_lap1(laps: pd.DataFrame) -> set[tuple[int, int]]:
    """Races whose first two laps saw a red flag (restarts from the grid)."""
    first = laps[laps["lap_number"] <= 2]
    red = first["track_status"].fillna("").astype(str).str.contains("5")
    return {(int(s), int(r)) for s, r in first.loc[red, ["season", "round"]].drop_duplicates().itertuples(index=False)}


def data_hash(laps: pd.DataFrame) -> str:
    """Short content hash of the laps a model set was fitted on."""
    cols = [c for c in ("season", "round", "driver", "lap_number", "lap_time_s") if c in laps.columns]
    df = laps[cols].sort_values(cols[:4]).reset_index(drop=True)
    h = pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy()
    return hashlib.sha256(h.tobytes()).hexdigest()[:16]


def _frame_to_dict(df: pd.DataFrame, ndigits: int) -> dict:
    rows = [[round(v, ndigits) if isinstance(v, float) else (v.item() if hasattr(v, "item") else v)
             for v in r] for r in df.itertuples(index=False)]
    return {"columns": list(df.columns), "rows": rows}


def _frame_from_dict(d: dict) -> pd.DataFrame:
    df = pd.DataFrame(d["rows"], columns=d["columns"])
    for c in ("season", "round"):
        if c in df.columns:
            df[c] = df[c].astype(int)
    return df
