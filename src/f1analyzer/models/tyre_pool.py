"""Tyre model by Pirelli compound and era, partially pooled across circuits (see docs/MODELS.md).

Per car era, one penalised least-squares fit on the clean free-air laps of every circuit
(``tyres.prepare_clean_laps``), with ``h`` the compound's softness on the C-number scale centred
on C3 (C1 = -2 … C5 = +2; 2018's named compounds mapped by :func:`canonical_code`):

    lap_time_s = alpha[race, driver] + gamma[race, lap window] - fuel[race] * lap_number
                 + (P + u[circuit]) * h + od[code]                            fresh pace
                 + (W + v[circuit] + (S + z[circuit]) * h + wd[code]) * age    wear
                 + selection terms + noise

* ``alpha[race, driver]`` (car, driver, that day) and ``gamma[race, window]`` (everything that hits
  every car in a :data:`WINDOW_LAPS`-lap window: track evolution, weather, the start) are fixed
  effects, so compounds are compared between cars running *together* in the same race.
* ``fuel[race]`` is one slope per race inside the windows: fuel burnt plus rubbering in, shared by
  every car and stint of the race (identified across stints and cars, not from one stint's overlap
  of lap number and tyre age).
* Compounds sit on a hardness trend (``P``, ``S``: fresh pace and wear per C-step softer) with
  each code's own deviation (``od``, ``wd``); a circuit has a wear severity ``v`` shared by its
  compounds and its own steps between compounds (``u``, ``z``). ``od, wd, v, u, z`` are random
  effects: a ridge penalty ``deff * sigma**2 / tau**2`` pulls them to zero (a circuit's SOFT
  borrows from every other circuit's laps on the same code), ``tau`` from one EM step,
  ``deff`` the design effect of laps clustered by driver-race (standard errors are clustered too).
* Selection: the first :data:`WARMUP_LAPS` laps of a stint (drivers push on new tyres after a
  stop) get their own term; a set used before the race (qualifying) is a tightly shrunk random
  effect (before 2022 it is nearly the same laps as the softest compound); cliffs per circuit and
  code (:func:`find_cliffs`) so one track's worn-through sets do not tilt the shared trends.
  Traffic is left out by the free-air filter. Stint length is *not* controlled for: it is chosen
  because of wear.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..log import get_logger

log = get_logger("models.tyre_pool")

#: 2018's named compounds on the C-number scale (Pirelli's 2019 renaming: HARD≈C1, MEDIUM≈C2,
#: SOFT≈C3, ULTRASOFT≈C4, HYPERSOFT≈C5; SUPERSOFT sat between C3 and C4, SUPERHARD below C1)
NAMED_TO_CODE = {"SUPERHARD": "C0.5", "HARD": "C1", "MEDIUM": "C2", "SOFT": "C3", "SUPERSOFT": "C3.5",
                 "ULTRASOFT": "C4", "HYPERSOFT": "C5"}
RELATIVE = ("HARD", "MEDIUM", "SOFT")  # index in an allocation listed hardest first
#: prior spreads before the EM step: circuit deviations of a compound's offset (s) and wear
#: (s/lap), circuit wear severity (s/lap), and a compound's deviation from the hardness trend
TAU0 = {"u": 0.06, "v": 0.025, "z": 0.003, "od": 0.03, "wd": 0.002, "used": 0.02, "used_slope": 0.001}
#: EM estimates of tau are kept inside these bounds (a block with few levels can collapse to 0,
#: and the sandwich variance of a penalised estimate overstates the spread)
TAU_BOUNDS = {"u": (0.01, 0.06), "v": (0.01, 0.08), "z": (0.0005, 0.003), "od": (0.01, 0.08),
              "wd": (0.0005, 0.006), "used": (0.02, 0.02), "used_slope": (0.001, 0.001)}
RANDOM = ("u", "v", "z", "od", "wd", "used", "used_slope")
#: laps per race × lap-window fixed effect (cars compared when running together); inside the
#: windows one fuel slope per race
WINDOW_LAPS = 10
#: a stint whose set had at least this many laps when it started is on a used set (qualifying)
USED_SET_AGE = 2
#: the first laps of a stint on the clean-lap record (tyres still coming in)
WARMUP_LAPS = 2
TRIM_SIGMAS = 3.5
#: cliffs are looked for from this tyre age on (earlier bends are warm-up, not wear), and must
#: lower BIC by at least BIC_MARGIN
MIN_CLIFF_LAP = 12
BIC_MARGIN = 10.0
#: design effect assumed without the clustered covariance (2018–2024 fits give 3.8–4.3)
DEFAULT_DEFF = 4.0


def canonical_code(code) -> str | None:
    """'C3' → 'C3'; 2018 'ULTRASOFT' → 'C4'; unknown/wet → None."""
    if code is None or (isinstance(code, float) and np.isnan(code)):
        return None
    c = str(code).upper()
    if c in NAMED_TO_CODE:
        return NAMED_TO_CODE[c]
    if c.startswith("C") and c[1:].replace(".", "", 1).isdigit():
        return c
    return None


def hardness(code: str) -> float:
    """Softness number of a canonical code (C1 = 1 hardest … C6 = 6 softest)."""
    return float(code[1:])


@dataclass
class CodeParams:
    """One compound's fitted terms at one circuit (or all-circuit) and era."""

    code: str
    offset_s: float  # fresh pace against the era's reference code (absolute level is arbitrary)
    offset_se_s: float
    wear_s_per_lap: float
    wear_se_s: float
    n_laps: int = 0  # laps on this code at this circuit and era
    n_stints: int = 0
    cliff_lap: float | None = None  # past this tyre age the set is worn through (this circuit only)
    cliff_slope_s: float = 0.0  # extra s/lap past the cliff


@dataclass
class PoolFit:
    """Result of :func:`fit_pool` for one era."""

    era: str
    codes: dict[str, CodeParams]  # all-circuit (circuit effects 0)
    circuits: dict[str, dict[str, CodeParams]]  # circuit → code → params with circuit effects
    severity_s_per_lap: dict[str, float]  # v[circuit]
    fuel_by_race: pd.DataFrame  # season, round, circuit_key, fuel_s_per_lap, fuel_se_s, intercept_s, n_laps
    alpha: pd.DataFrame  # season, round, driver, team, alpha_s (fresh reference code, lap 0), n_laps
    resid_sd_s: float
    resid_sd_by_circuit: dict[str, float]
    tau: dict[str, float]
    design_effect: float
    n_laps: int
    lap_counts: pd.DataFrame = field(default_factory=pd.DataFrame)  # circuit, season, round, compound, code, n
    #: selection terms (s, with se): a stint on a set used in qualifying, the first laps of a stint,
    #: and the hardness trends (fresh pace s per step softer... as fitted)
    selection: dict = field(default_factory=dict)


def _factor(values) -> tuple[np.ndarray, pd.Index]:
    codes, uniques = pd.factorize(pd.Series(values), sort=False)
    return codes.astype(np.int64), pd.Index(uniques)


def fit_pool(df: pd.DataFrame, era: str, *, tau0: dict | None = None,
             window_laps: int | None = None, with_se: bool = True) -> PoolFit | None:
    """Fit the pooled model on one era's prepared clean laps (``circuit_key`` column added).

    ``with_se=False`` skips the clustered covariance and the EM step (the spreads stay at
    ``tau0``, design effect :data:`DEFAULT_DEFF`, standard errors 0): about three times faster,
    for the learned models' priors that only need the point estimates.

    Returns ``None`` when there are too few laps.
    """
    window_laps = WINDOW_LAPS if window_laps is None else int(window_laps)
    df = df.copy()
    df["code"] = [canonical_code(c) for c in df["compound_code"]]
    df = df[df["code"].notna()].reset_index(drop=True)
    if len(df) < 200:
        return None
    tau = dict(tau0 or TAU0)
    state = _System(df, window_laps)
    sol = state.solve(tau, design_effect=1.0)
    # cliffs first (on the untrimmed laps: worn-through laps look like outliers to a linear fit),
    # then they are part of the model the trimming and every later solve use
    cliffs = find_cliffs(df, state.residuals(sol), state)
    state = _System(df, window_laps, cliffs)
    sol = state.solve(tau, design_effect=1.0)
    resid = state.residuals(sol)
    scale = 1.4826 * np.median(np.abs(resid - np.median(resid)))
    keep = np.abs(resid) <= max(TRIM_SIGMAS * scale, 0.3)
    df = df[keep].reset_index(drop=True)
    state = _System(df, window_laps, cliffs)
    if not with_se:
        sol = state.solve(tau, design_effect=DEFAULT_DEFF)
        zero = np.zeros((state.m - state.p0, state.m - state.p0))
        return state.result(sol, zero, era, tau, DEFAULT_DEFF)
    sol = state.solve(tau, design_effect=1.0)
    cov, deff = state.covariance(sol)
    # one EM step for the random-effect spreads, then the final solve with the design effect
    for block in RANDOM:
        idx = state.block(block)
        if idx.size >= 3:
            t2 = float(np.mean(sol[idx] ** 2 + np.diag(cov)[idx - state.p0]))
            lo, hi = TAU_BOUNDS[block]
            tau[block] = float(np.clip(np.sqrt(t2), lo, hi))
    sol = state.solve(tau, design_effect=deff)
    cov, _ = state.covariance(sol)
    return state.result(sol, cov, era, tau, deff)


class _System:
    """Sparse design and penalised normal equations of one era (see the module docstring)."""

    def __init__(self, df: pd.DataFrame, window_laps: int = 1, cliffs: dict | None = None):
        self.window_laps = int(window_laps)
        self.cliffs = dict(cliffs or {})
        self.df = df
        n = len(df)
        self.y = df["lap_time_s"].to_numpy(np.float64)
        self.age = df["tyre_age_laps"].to_numpy(np.float64)
        race_key = list(zip(df["season"].astype(int), df["round"].astype(int)))
        self.race, self.races = _factor(race_key)
        self.g, self.groups = _factor(list(zip(df["season"].astype(int), df["round"].astype(int), df["driver"])))
        self.t, self.tlaps = _factor(list(zip(df["season"].astype(int), df["round"].astype(int),
                                              df["lap_number"].astype(int) // self.window_laps)))
        self.k, self.codes = _factor(df["code"])
        self.c, self.circs = _factor(df["circuit_key"].astype(str))
        self.ck, self.ckeys = _factor(list(zip(df["circuit_key"].astype(str), df["code"])))
        G, T, K, C, P = len(self.groups), len(self.tlaps), len(self.codes), len(self.circs), len(self.ckeys)
        # reference race-lap per race (its gamma is 0) and reference code (offset 0): removes the
        # exact collinearities of the fixed effects
        first_t = pd.Series(self.t).groupby(self.race).min().to_numpy()
        self.t_is_ref = np.zeros(T, bool)
        self.t_is_ref[first_t] = True
        rows = np.arange(n)
        ones = np.ones(n)
        cols, vals, rr = [], [], []

        def add(col, val, mask=None):
            m = np.ones(n, bool) if mask is None else mask
            rr.append(rows[m])
            cols.append(col[m])
            vals.append(val[m])

        off = 0
        add(self.g + off, ones)
        off += G
        tcol = np.cumsum(~self.t_is_ref) - 1  # column of each non-reference race-lap
        add(tcol[self.t] + off, ones, ~self.t_is_ref[self.t])
        off += int((~self.t_is_ref).sum())
        if self.window_laps > 1:
            # one fuel slope per race inside the lap windows
            self.blocks_fuel = (off, off + len(self.races))
            add(self.race + off, df["lap_number"].to_numpy(np.float64))
            off += len(self.races)
        self.p0 = off
        hard = np.array([hardness(c) for c in self.codes]) - 3.0  # centred on C3
        self.hard = hard
        h_lap = hard[self.k]
        self.blocks = {}
        # compounds: a trend in hardness (fresh pace and wear) plus each code's penalised deviation,
        # so a code with few laps sits on the trend and a well-measured one follows its data
        self.blocks["trend"] = (off, off + 2)
        add(np.full(n, off), h_lap)
        add(np.full(n, off + 1), h_lap * self.age)
        off += 2
        self.blocks["wbase"] = (off, off + 1)
        add(np.full(n, off), self.age)
        off += 1
        self.blocks["od"] = (off, off + K)
        add(self.k + off, ones)
        off += K
        self.blocks["wd"] = (off, off + K)
        add(self.k + off, self.age)
        off += K
        # selection: stints on sets used in qualifying, and the first laps of every stint
        sk = df["stint_key"].to_numpy()
        lapn = df["lap_number"].to_numpy(np.float64)
        if "start_age_laps" in df and "stint_lap" in df:
            start_age = df["start_age_laps"].to_numpy(np.float64)
            into = df["stint_lap"].to_numpy(np.float64)
        else:  # from the clean laps alone (a stint's first laps may be missing)
            first_lap = pd.Series(lapn).groupby(sk).transform("min").to_numpy()
            into = lapn - first_lap
            start_age = pd.Series(self.age - into).groupby(sk).transform("min").to_numpy()
        self.used = (start_age >= USED_SET_AGE).astype(np.float64)
        self.warm = (into <= WARMUP_LAPS).astype(np.float64)
        # selection: the first laps of every stint (push on new tyres after a stop, or the start);
        # a set used before the race (qualifying) only as a tightly shrunk random effect: used
        # sets are run by a selected group at a selected time (before 2022 the top ten had to
        # start on their Q2 sets, mostly the softest compound), so a free term takes the
        # compound's step instead (it comes out *faster* than a new set, −0.1 s); the set's age
        # (qualifying laps included) carries its wear
        self.blocks["sel"] = (off, off + 1)
        add(np.full(n, off), self.warm)
        off += 1
        self.blocks["used"] = (off, off + 1)
        add(np.full(n, off), self.used)
        off += 1
        self.blocks["used_slope"] = (off, off + 1)
        add(np.full(n, off), self.used * self.age)
        off += 1
        self.blocks["v"] = (off, off + C)
        add(self.c + off, self.age)
        off += C
        # the circuit's own step between compounds (fresh pace, wear) around the era's trend
        self.blocks["u"] = (off, off + C)
        add(self.c + off, h_lap)
        off += C
        self.blocks["z"] = (off, off + C)
        add(self.c + off, h_lap * self.age)
        off += C
        # a compound worn through at one circuit: its own extra slope past the cliff lap
        ck_of = {key: p for p, key in enumerate(self.ckeys)}
        self.cliff_cols = {}
        for key, lap in self.cliffs.items():
            p = ck_of.get(key)
            if p is None:
                continue
            add(np.full(n, off), np.maximum(self.age - lap, 0.0), self.ck == p)
            self.cliff_cols[key] = off
            off += 1
        self.m = off
        self.A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rr), np.concatenate(cols))), shape=(n, off))
        self.AtA = (self.A.T @ self.A).tocsc()
        self.Aty = self.A.T @ self.y
        self.n_tcols = int((~self.t_is_ref).sum())

    def block(self, name: str) -> np.ndarray:
        a, b = self.blocks[name]
        return np.arange(a, b)

    def solve(self, tau: dict, design_effect: float) -> np.ndarray:
        resid_var = 0.16 if not hasattr(self, "sigma2") else self.sigma2
        pen = np.full(self.m, 1e-9)
        for name in RANDOM:
            pen[self.block(name)] = design_effect * resid_var / tau[name] ** 2
        N = (self.AtA + sp.diags(pen)).tocsc()
        self.lu = spla.splu(N, permc_spec="COLAMD")
        sol = self.lu.solve(self.Aty)
        r = self.y - self.A @ sol
        self.sigma2 = float(r @ r / max(len(r) - len(self.groups) - self.n_tcols, 1))
        return sol

    def residuals(self, sol: np.ndarray) -> np.ndarray:
        return self.y - self.A @ sol

    def covariance(self, sol: np.ndarray) -> tuple[np.ndarray, float]:
        """Sandwich covariance of the tyre terms, clustered by driver-race, and the median design
        effect (clustered variance over the iid model variance)."""
        q = self.m - self.p0
        E = np.zeros((self.m, q))
        E[np.arange(self.p0, self.m), np.arange(q)] = 1.0
        Ninv_p = self.lu.solve(E)  # m × q: columns of N^-1 for the tyre terms
        B = np.asarray(self.A @ Ninv_p)  # n × q: influence of each lap on each tyre term
        e = self.residuals(sol)
        G = len(self.groups)
        S = np.zeros((G, q))
        np.add.at(S, self.g, B * e[:, None])
        ng = G
        cov = (ng / max(ng - 1, 1)) * (S.T @ S)
        model_var = self.sigma2 * np.einsum("ij,ij->j", B, B)
        ratio = np.diag(cov)[model_var > 0] / model_var[model_var > 0]
        deff = float(np.clip(np.median(ratio), 1.0, 50.0)) if ratio.size else 1.0
        return cov, deff

    def result(self, sol: np.ndarray, cov: np.ndarray, era: str, tau: dict, deff: float) -> PoolFit:
        df = self.df
        K, p0 = len(self.codes), self.p0

        def idx(name, j):
            return self.blocks[name][0] + j

        tr = self.blocks["trend"][0]
        wb = self.blocks["wbase"][0]

        def lin(terms):
            """value and se of a weighted sum of solution entries ((index, weight) pairs)."""
            terms = [t if isinstance(t, tuple) else (t, 1.0) for t in terms if t is not None]
            ii = np.array([t[0] for t in terms], dtype=int)
            wv = np.array([t[1] for t in terms])
            val = float(sol[ii] @ wv)
            var = float(wv @ cov[np.ix_(ii - p0, ii - p0)] @ wv)
            return val, float(np.sqrt(max(var, 0.0)))

        def off_terms(j):
            return [(tr, float(self.hard[j])), idx("od", j)]

        def wear_terms(j):
            return [(tr + 1, float(self.hard[j])), wb, idx("wd", j)]

        n_code = np.bincount(self.k, minlength=K)
        stint_code = df.groupby(self.k)["stint_key"].nunique() if "stint_key" in df else pd.Series(dtype=int)
        codes = {}
        for j, code in enumerate(self.codes):
            o, ose = lin(off_terms(j))
            w, wse = lin(wear_terms(j))
            codes[str(code)] = CodeParams(str(code), o, ose, w, wse, int(n_code[j]), int(stint_code.get(j, 0)))
        sev = {str(c): float(sol[idx("v", j)]) for j, c in enumerate(self.circs)}
        ck_laps = np.bincount(self.ck, minlength=len(self.ckeys))
        ck_stints = df.groupby(self.ck)["stint_key"].nunique() if "stint_key" in df else pd.Series(dtype=int)
        ck_of = {key: p for p, key in enumerate(self.ckeys)}
        circuits: dict[str, dict[str, CodeParams]] = {}
        for ci, circ in enumerate(self.circs):
            out = {}
            for j, code in enumerate(self.codes):
                p = ck_of.get((circ, code))
                h = float(self.hard[j])
                o, ose = lin(off_terms(j) + [(idx("u", ci), h)])
                w, wse = lin(wear_terms(j) + [idx("v", ci), (idx("z", ci), h)])
                col = self.cliff_cols.get((circ, code))
                out[str(code)] = CodeParams(str(code), o, ose, w, wse,
                                            int(ck_laps[p]) if p is not None else 0,
                                            int(ck_stints.get(p, 0)) if p is not None else 0,
                                            self.cliffs.get((circ, code)) if col is not None else None,
                                            float(sol[col]) if col is not None else 0.0)
            circuits[str(circ)] = out
        # fuel from the race-lap effects: per race, gamma (0 at the race's reference lap) against
        # the lap number, weighted by the laps behind each effect
        G = len(self.groups)
        gamma_t = np.zeros(len(self.tlaps))
        gamma_t[~self.t_is_ref] = sol[G:G + self.n_tcols]
        t_laps = np.bincount(self.t, minlength=len(self.tlaps)).astype(float)
        lapno = np.array([k[2] for k in self.tlaps], dtype=float)
        t_race = np.zeros(len(self.tlaps), dtype=int)
        t_race[self.t] = self.race
        circ_of_race = pd.Series(df["circuit_key"].astype(str).to_numpy()).groupby(self.race).first()
        rows = []
        intercept = np.zeros(len(self.races))
        for r, key in enumerate(self.races):
            m = t_race == r
            x, yv, w = lapno[m], gamma_t[m], t_laps[m]
            if m.sum() < 5 or np.ptp(x) < 5:
                continue
            X = np.column_stack([np.ones(m.sum()), x])
            XtW = X.T * w
            beta = np.linalg.solve(XtW @ X, XtW @ yv)
            res = yv - X @ beta
            s2 = float((w * res * res).sum() / max(w.sum() - 2, 1)) * len(x) / max(w.sum(), 1)
            se = float(np.sqrt(max(np.linalg.inv(XtW @ X)[1, 1] * s2 * w.mean(), 0.0)))
            intercept[r] = beta[0]
            rows.append({"season": int(key[0]), "round": int(key[1]), "circuit_key": str(circ_of_race[r]),
                         "fuel_s_per_lap": float(-beta[1]), "fuel_se_s": se, "intercept_s": float(beta[0]),
                         "n_laps": int(w.sum())})
        fuel = pd.DataFrame(rows, columns=["season", "round", "circuit_key", "fuel_s_per_lap", "fuel_se_s",
                                           "intercept_s", "n_laps"])
        if self.window_laps > 1 and len(fuel):
            # the per-race slope inside the windows is the fuel effect; the windows' effects carry
            # what is not linear in the lap number
            slope = {tuple(k): -float(sol[self.blocks_fuel[0] + r]) for r, k in enumerate(self.races)}
            fuel["fuel_s_per_lap"] = [slope[(s_, r_)] for s_, r_ in zip(fuel["season"], fuel["round"])]
        # driver-race intercepts on the old scale: lap time at lap 0 on a fresh set of the
        # reference code (the race's MEDIUM level is added by the caller)
        g_race = np.zeros(G, dtype=int)
        g_race[self.g] = self.race
        alpha_g = sol[:G] + intercept[g_race]
        first = df.groupby(self.g, sort=True).agg(season=("season", "first"), round=("round", "first"),
                                                  driver=("driver", "first"), team=("team", "last"),
                                                  n_laps=("lap_time_s", "size"))
        first["alpha_s"] = alpha_g[first.index.to_numpy()]
        resid = self.residuals(sol)
        rsd = float(1.4826 * np.median(np.abs(resid - np.median(resid))))
        by_c = pd.Series(resid).groupby(df["circuit_key"].astype(str).to_numpy()).apply(
            lambda s: float(1.4826 * np.median(np.abs(s - np.median(s)))))
        counts = (df.assign(code=df["code"]).groupby(["circuit_key", "season", "round", "compound", "code"])
                  .size().rename("n").reset_index())
        selection = {name: [round(v, 4) for v in lin([self.blocks[b][0]])]
                     for name, b in (("used_set_s", "used"), ("warmup_s", "sel"),
                                     ("used_set_slope_s_per_lap", "used_slope"))}
        selection["pace_per_softer_step_s"] = [round(v, 4) for v in lin([tr])]
        selection["wear_per_softer_step_s_per_lap"] = [round(v, 5) for v in lin([tr + 1])]
        log.info("tyre pool %s: %d laps, %d codes, %d circuits, tau %s, deff %.1f", era, len(df), K,
                 len(self.circs), {k: round(v, 4) for k, v in tau.items()}, deff)
        return PoolFit(era, codes, circuits, sev, fuel, first.reset_index(drop=True), rsd,
                       by_c.to_dict(), dict(tau), deff, len(df), counts, selection)


def find_cliffs(df: pd.DataFrame, resid: np.ndarray, state: "_System", *, min_laps: int = 20) -> dict:
    """(circuit, code) → cliff lap where the residuals of a fit without cliffs bend upwards.

    Per circuit and code, ``resid ~ a + b*age + s*max(age - L, 0)`` against the line alone for
    every ``L`` from :data:`MIN_CLIFF_LAP` while ≥ ``min_laps`` laps of ≥ 3 stints lie beyond it;
    the best ``L`` is kept when BIC improves by ≥ :data:`BIC_MARGIN` and ``s`` is positive and
    more than two standard errors (inflated by :data:`DEFAULT_DEFF`) from zero.
    """
    age = df["tyre_age_laps"].to_numpy(np.float64)
    stint = df["stint_key"].to_numpy()
    out = {}
    for p, key in enumerate(state.ckeys):
        m = state.ck == p
        n = int(m.sum())
        if n < 2 * min_laps:
            continue
        a, r, st = age[m], resid[m], stint[m]
        X0 = np.column_stack([np.ones(n), a])
        rss0 = float(np.sum((r - X0 @ np.linalg.lstsq(X0, r, rcond=None)[0]) ** 2))
        best = None
        for L in range(MIN_CLIFF_LAP, int(a.max())):
            beyond = a > L
            if beyond.sum() < max(min_laps, 0.05 * n) or len(np.unique(st[beyond])) < 3:
                break
            X = np.column_stack([X0, np.maximum(a - L, 0.0)])
            beta = np.linalg.lstsq(X, r, rcond=None)[0]
            rss = float(np.sum((r - X @ beta) ** 2))
            gain = n * np.log(max(rss0, 1e-12) / max(rss, 1e-12)) - np.log(n)
            if gain < BIC_MARGIN or beta[2] <= 0:
                continue
            se = np.sqrt(rss / max(n - 3, 1) * np.linalg.pinv(X.T @ X)[2, 2] * DEFAULT_DEFF)
            if beta[2] > 2 * se and (best is None or gain > best[0]):
                best = (gain, float(L))
        if best is not None:
            out[(str(key[0]), str(key[1]))] = best[1]
    return out
