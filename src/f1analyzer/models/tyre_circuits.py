"""From the pooled compound fit (:mod:`.tyre_pool`) to what the rest of the package uses.

* :func:`allocations` — which codes an event's SOFT/MEDIUM/HARD were (races table or laps).
* :func:`relative_models` — an event's SOFT/MEDIUM/HARD :class:`~.tyres.TyreModel` from the codes.
* :func:`fit_circuits` — per circuit and era the relative models of the circuit's latest
  allocation (``CircuitModel.compounds_by_era``), the per-code models (``tyre_codes_by_era``), the
  fuel effect from the race-lap effects, the driver-race intercepts and the ordering diagnostics.
* :func:`ordering` — whether a set of relative models is physically ordered, and by how much.
* :func:`wear_severity` / :func:`cross_era_severity` — how hard a circuit is on tyres against a
  typical track, and how much of that carries from one car era into the next (the prior for a
  circuit not yet raced with the new cars).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .tyre_pool import RELATIVE, CodeParams, canonical_code, fit_pool, hardness
from .tyres import DRY, TyreFit, TyreModel


# --------------------------------------------------------------------------- allocations
def allocations(races: pd.DataFrame) -> dict[tuple[int, int], dict[str, str]]:
    """(season, round) → {"HARD": code, "MEDIUM": code, "SOFT": code} from the races table's
    ``compounds`` (hardest first), on the canonical scale; events without one are left out."""
    out = {}
    if "compounds" not in races.columns:  # a races table built by hand (tests, live data)
        return out
    for s, r, comps in races[["season", "round", "compounds"]].itertuples(index=False):
        if comps is None or len(comps) != 3:
            continue
        codes = [canonical_code(c) for c in comps]
        if any(c is None for c in codes):
            continue
        codes = sorted(codes, key=hardness)
        out[(int(s), int(r))] = dict(zip(RELATIVE, codes))
    return out


def allocation_from_laps(counts: pd.DataFrame) -> dict[tuple[int, int], dict[str, str]]:
    """The same from the laps themselves (most laps of each relative compound), for races whose
    allocation is not in the races table."""
    out: dict[tuple[int, int], dict[str, str]] = {}
    if counts.empty:
        return out
    top = counts.sort_values("n").groupby(["season", "round", "compound"]).tail(1)
    for (s, r), g in top.groupby(["season", "round"]):
        out[(int(s), int(r))] = {str(c): str(k) for c, k in zip(g["compound"], g["code"])}
    return out


# --------------------------------------------------------------------------- relative models
def code_models(params: dict[str, CodeParams]) -> dict[str, TyreModel]:
    """Per-code :class:`~.tyres.TyreModel` (``compound`` = the code, offset against the era's C3
    level): linear wear, plus the circuit's cliff where one was found."""
    out = {}
    for code, p in params.items():
        cliff = p.cliff_lap is not None and p.cliff_slope_s > 0
        out[code] = TyreModel(compound=code, curve="cliff" if cliff else "linear",
                              coef_s=[p.wear_s_per_lap, 0.0],
                              cliff_lap=float(p.cliff_lap) if cliff else None,
                              cliff_slope_s=float(p.cliff_slope_s) if cliff else None,
                              pace_offset_s=p.offset_s, pace_offset_se_s=p.offset_se_s,
                              coef_se_s=[p.wear_se_s, 0.0], n_laps=p.n_laps, n_stints=p.n_stints,
                              codes={code: p.n_laps} if p.n_laps else {}, own_fit=p.n_laps > 0)
    return out


def relative_models(codes: dict[str, TyreModel], allocation: dict[str, str],
                    counts: dict[str, int] | None = None, min_laps: int = 40) -> dict[str, TyreModel]:
    """SOFT/MEDIUM/HARD models of an event whose allocation maps each to a code: offsets against
    its MEDIUM. ``counts`` (laps per relative compound at the circuit) set ``n_laps``/``own_fit``
    (False below ``min_laps``: the compound's numbers are then mostly the all-circuit trend)."""
    med = codes.get(allocation.get("MEDIUM", ""))
    base = med.pace_offset_s if med is not None else 0.0
    out = {}
    for rel in ("SOFT", "MEDIUM", "HARD"):
        m = codes.get(allocation.get(rel, ""))
        if m is None:
            continue
        t = TyreModel.from_dict(m.to_dict())
        t.compound = rel
        t.pace_offset_s = m.pace_offset_s - base
        if rel == "MEDIUM":
            t.pace_offset_s, t.pace_offset_se_s = 0.0, 0.0
        t.codes = {allocation[rel]: int((counts or {}).get(rel, m.n_laps))}
        if counts is not None:
            t.n_laps = int(counts.get(rel, 0))
            t.own_fit = t.n_laps >= min_laps
        out[rel] = t
    return out


def ordering(compounds: dict[str, TyreModel], *, min_laps: int = 40, ref_laps: float = 20.0) -> dict:
    """Is a set of SOFT/MEDIUM/HARD models physically ordered? Compares consecutive compounds that
    each ran at least ``min_laps`` clean laps at the circuit and era: the softer must be faster when
    fresh and wear faster (mean slope over ``ref_laps`` laps). ``enough_laps`` is False when fewer
    than two compounds qualify (the fit is then not counted)."""
    names = [c for c in ("SOFT", "MEDIUM", "HARD") if c in compounds and compounds[c].n_laps >= min_laps]
    pace_ok, wear_ok, pairs = True, True, []
    for a, b in zip(names[:-1], names[1:]):
        ma, mb = compounds[a], compounds[b]
        wa, wb = float(ma.deg_s(ref_laps)) / ref_laps, float(mb.deg_s(ref_laps)) / ref_laps
        p, w = ma.pace_offset_s < mb.pace_offset_s, wa > wb
        pace_ok &= p
        wear_ok &= w
        pairs.append({"softer": a, "harder": b, "pace_step_s": round(mb.pace_offset_s - ma.pace_offset_s, 4),
                      "wear_step_s_per_lap": round(wa - wb, 5), "pace_ordered": bool(p), "wear_ordered": bool(w)})
    return {"compared": names, "enough_laps": len(names) >= 2, "pace_ordered": bool(pace_ok),
            "wear_ordered": bool(wear_ok), "ordered": bool(pace_ok and wear_ok), "pairs": pairs}


# --------------------------------------------------------------------------- per circuit
@dataclass
class CircuitTyres:
    """The pooled fit seen from one circuit and era."""

    fit: TyreFit  # relative models of ``allocation``, fuel, driver-race intercepts, residual sd
    codes: dict[str, TyreModel]  # every code of the era at this circuit (circuit effects included)
    allocation: dict[str, str]  # SOFT/MEDIUM/HARD → code behind ``fit.compounds``
    diagnostics: dict = field(default_factory=dict)


def _latest_allocation(keys: list[tuple[int, int]], alloc: dict) -> dict[str, str] | None:
    for key in sorted(keys, reverse=True):
        if key in alloc and all(r in alloc[key] for r in RELATIVE):
            return alloc[key]
    return None


def fit_circuits(clean: pd.DataFrame, races: pd.DataFrame, era_of, *, min_clean_laps: int = 40
                 ) -> tuple[dict[tuple[str, str], CircuitTyres], dict[str, dict]]:
    """Pooled tyre fit per era, then per circuit (see the module docstring).

    Args:
        clean: ``tyres.prepare_clean_laps`` output with ``circuit_key``.
        races: the races table (``compounds`` gives each event's allocation).
        era_of: season → era label.

    Returns:
        ``({(circuit, era): CircuitTyres}, {era: {"compounds", "codes", "allocation", "pool"}})``.
    """
    alloc = allocations(races)
    clean = clean.assign(era=[era_of(s) for s in clean["season"]])
    out: dict[tuple[str, str], CircuitTyres] = {}
    glob: dict[str, dict] = {}
    for era, d in clean.groupby("era", sort=True):
        pool = fit_pool(d.reset_index(drop=True), str(era))
        if pool is None:
            continue
        from_laps = allocation_from_laps(pool.lap_counts)
        full = {**from_laps, **alloc}
        g_codes = code_models(pool.codes)
        modal = pd.Series([tuple(sorted(full[k].items())) for k in
                           set(zip(d["season"].astype(int), d["round"].astype(int))) if k in full]).mode()
        g_alloc = dict(modal.iloc[0]) if len(modal) else {"HARD": "C2", "MEDIUM": "C3", "SOFT": "C4"}
        glob[str(era)] = {"compounds": relative_models(g_codes, g_alloc), "codes": g_codes,
                          "allocation": g_alloc,
                          "pool": {"tau": {k: round(v, 5) for k, v in pool.tau.items()},
                                   "design_effect": round(pool.design_effect, 2), "n_laps": pool.n_laps,
                                   "selection": pool.selection, "resid_sd_s": round(pool.resid_sd_s, 4)}}
        fuel = pool.fuel_by_race
        for ck, params in pool.circuits.items():
            cnt = pool.lap_counts[pool.lap_counts["circuit_key"] == ck]
            keys = sorted({(int(s), int(r)) for s, r in zip(cnt["season"], cnt["round"])})
            a = _latest_allocation(keys, full) or g_alloc
            counts = cnt.groupby("compound")["n"].sum().to_dict()
            codes = code_models(params)
            rel = relative_models(codes, a, counts, min_clean_laps)
            for c in DRY:
                if c in rel:
                    rel[c].n_stints = int(params.get(a[c], CodeParams(a[c], 0, 0, 0, 0)).n_stints)
            fr = fuel[fuel["circuit_key"] == ck]["fuel_s_per_lap"].to_numpy()
            f_mean = float(np.mean(fr)) if fr.size else float(fuel["fuel_s_per_lap"].median())
            f_se = float(np.std(fr, ddof=1) / np.sqrt(fr.size)) if fr.size > 1 else 0.01
            al = pool.alpha[[(int(s), int(r)) in set(keys) for s, r in zip(pool.alpha["season"], pool.alpha["round"])]]
            al = al.copy()
            med_code = [(full.get((int(s), int(r))) or a).get("MEDIUM") for s, r in zip(al["season"], al["round"])]
            al["alpha_s"] = al["alpha_s"].to_numpy() + np.array([codes[c].pace_offset_s if c in codes else 0.0
                                                                  for c in med_code])
            tf = TyreFit(rel, f_mean, max(f_se, 0.003), al.reset_index(drop=True),
                         float(pool.resid_sd_by_circuit.get(ck, pool.resid_sd_s)), int(cnt["n"].sum()))
            diag = ordering(rel, min_laps=min_clean_laps)
            diag.update({"allocation": a, "severity_s_per_lap": round(pool.severity_s_per_lap.get(ck, 0.0), 5),
                         "n_laps": int(cnt["n"].sum()), "seasons": sorted({s for s, _ in keys})})
            out[(str(ck), str(era))] = CircuitTyres(tf, codes, a, diag)
    return out, glob


def ordering_report(models, *, min_laps: int = 40) -> dict:
    """Share of circuit × era tyre fits that are physically ordered as fitted (no override).

    Works on any fitted ``RaceModels`` (also older model sets: a compound counts when it ran at
    least ``min_laps`` clean laps at the circuit in that era). Returns the counts, the share and one
    row per fit (``circuit``, ``era``, ``ordered``, ``pace_ordered``, ``wear_ordered``, ``pairs``).
    """
    rows = []
    for key, cm in sorted(models.circuits_.items()):
        for era, comps in sorted(cm.compounds_by_era.items()):
            o = ordering(comps, min_laps=min_laps)
            if o["enough_laps"]:
                rows.append({"circuit": key, "era": era, **o})
    n = len(rows)

    def share(k):
        return round(sum(r[k] for r in rows) / n, 3) if n else None

    by_era = {}
    for era in sorted({r["era"] for r in rows}):
        rs = [r for r in rows if r["era"] == era]
        by_era[era] = {"fits": len(rs), "ordered": sum(r["ordered"] for r in rs),
                       "share_ordered": round(sum(r["ordered"] for r in rs) / len(rs), 3)}
    return {"fits": n, "ordered": sum(r["ordered"] for r in rows), "share_ordered": share("ordered"),
            "share_pace_ordered": share("pace_ordered"), "share_wear_ordered": share("wear_ordered"),
            "by_era": by_era, "min_laps": min_laps, "rows": rows}


# --------------------------------------------------------------------------- cross-era prior
#: fewest circuits raced in both eras for the cross-era slope to be estimated (else none carried)
MIN_CIRCUITS_BOTH_ERAS = 4


def wear_severity(circuit_codes: dict | None, pooled_codes: dict | None) -> float | None:
    """A circuit's wear severity in one era: the lap-weighted geometric mean, over the codes it
    ran, of its linear wear over the all-circuit wear of the same code (1 = a typical track;
    fitted on 2018–2023: Montréal, Baku, Jeddah 0.16–0.54, Suzuka, Spa, Bahrain 2.2–2.9). None
    without laps."""
    logs, weights = [], []
    for code, t in (circuit_codes or {}).items():
        g = (pooled_codes or {}).get(code)
        if g is None or not t.n_laps:
            continue
        w, gw = float(t.coef_s[0]), float(g.coef_s[0])
        if w <= 0 or gw <= 0:
            continue
        logs.append(np.log(w / gw))
        weights.append(float(t.n_laps))
    return float(np.exp(np.average(logs, weights=weights))) if logs else None


def cross_era_severity(circuits: dict, pooled_by_era: dict, era: str, from_era: str) -> tuple[float, int]:
    """(slope, circuits): how much of a circuit's log wear severity in ``from_era`` carries into
    ``era`` — least squares through the origin over the circuits raced in both eras, clipped to
    [0, 1] (1: a track as hard on the new tyres as on the old; 0: nothing carries). Slope 0 with
    fewer than :data:`MIN_CIRCUITS_BOTH_ERAS` such circuits (fitted on 2018–2023: 0.71 over 20
    circuits, correlation 0.82; on 2018–2024: 0.57 over 23)."""
    xs, ys = [], []
    for cm in circuits.values():
        codes = getattr(cm, "tyre_codes_by_era", None) or {}
        a = wear_severity(codes.get(from_era), pooled_by_era.get(from_era))
        b = wear_severity(codes.get(era), pooled_by_era.get(era))
        if a and b:
            xs.append(np.log(a))
            ys.append(np.log(b))
    x, y = np.asarray(xs), np.asarray(ys)
    if len(x) < MIN_CIRCUITS_BOTH_ERAS or float(x @ x) <= 0:
        return 0.0, len(x)
    return float(np.clip((x @ y) / (x @ x), 0.0, 1.0)), len(x)


def cross_era_check(models, era: str = "2022+", from_era: str = "pre-2022", min_laps: int = 40) -> dict:
    """How well a circuit's wear in ``era`` is known before it is raced with that era's cars,
    leave-one-circuit-out over the circuits raced in both eras: the relative compounds of its
    latest ``era`` allocation (fits with ≥ ``min_laps`` laps), predicted by (a) its own
    ``from_era`` fit, (b) the ``era``'s all-circuit model by code, (c) (b) with the circuit's
    ``from_era`` severity carried by the slope of the *other* circuits. Error: mean and median
    ``|log(predicted / fitted wear)|`` (``times`` = exp(mean): "off by a factor of")."""
    pooled = models.global_.tyre_codes_by_era
    errs: dict[str, list[float]] = {"own_earlier_era": [], "era_all_circuits": [], "carried_severity": []}
    circuits = 0
    for key, cm in models.circuits_.items():
        own = cm.tyre_codes_by_era or {}
        fitted, earlier = cm.compounds_by_era.get(era), cm.compounds_by_era.get(from_era)
        alloc = (getattr(cm, "tyre_allocation_by_era", None) or {}).get(era)
        if from_era not in own or era not in own or not fitted or not earlier or not alloc \
                or not all(c in pooled.get(era, {}) for c in alloc.values()):
            continue
        others = {k: c for k, c in models.circuits_.items() if k != key}
        slope, _ = cross_era_severity(others, pooled, era, from_era)
        severity = wear_severity(own[from_era], pooled[from_era]) or 1.0
        era_all = relative_models(pooled[era], alloc)
        circuits += 1
        for c in RELATIVE:
            if c not in fitted or c not in earlier or fitted[c].n_laps < min_laps:
                continue
            actual = float(fitted[c].coef_s[0])
            preds = {"own_earlier_era": float(earlier[c].coef_s[0]), "era_all_circuits": float(era_all[c].coef_s[0])}
            preds["carried_severity"] = preds["era_all_circuits"] * severity ** slope
            if actual <= 0 or min(preds.values()) <= 0:
                continue
            for name, p in preds.items():
                errs[name].append(abs(float(np.log(p / actual))))
    out = {"era": era, "from_era": from_era, "circuits": circuits, "fits": len(errs["carried_severity"])}
    for name, e in errs.items():
        out[name] = ({"mean_abs_log": round(float(np.mean(e)), 3), "median_abs_log": round(float(np.median(e)), 3),
                      "times": round(float(np.exp(np.mean(e))), 2)} if e else None)
    return out
