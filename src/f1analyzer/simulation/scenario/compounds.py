"""The dry compounds' simulator parameters from the fitted tyre models (used by :mod:`.build`).

* :func:`compound_params` — a fitted :class:`~f1analyzer.models.tyres.TyreModel` as
  :class:`~f1analyzer.simulation.core.params.CompoundParams`.
* :func:`event_allocation` — an event's three dry compounds as {"HARD", "MEDIUM", "SOFT"} → code.
* :func:`carried_severity` — a circuit not yet raced with the season's cars: the era's all-circuit
  tyre models, its wear scaled by the circuit's severity from its latest other era, and
  :func:`new_era_reasons` (the answer's sentence).
* :func:`ordered_compounds` — the safety net (:mod:`.tyre_sanity`) applied to a circuit's fits, with
  :func:`tyre_se` (weights) and :func:`pace_step_for` (minimum fresh-pace step); when it has to move
  something, :func:`tyre_override_reason` is the sentence the answer carries.
"""

from __future__ import annotations

from dataclasses import replace

from f1analyzer.log import get_logger
from f1analyzer.models.features import latest_era
from f1analyzer.models.tyre_circuits import MIN_CIRCUITS_BOTH_ERAS, cross_era_severity, relative_models, wear_severity
from f1analyzer.models.tyre_life import life_slope_s
from f1analyzer.models.tyre_pool import RELATIVE, canonical_code, hardness
from f1analyzer.models.tyres import TyreModel
from f1analyzer.simulation.core.params import DRY_COMPOUNDS, CompoundParams, RaceParams
from f1analyzer.simulation.scenario.tyre_sanity import (
    SAFETY_NET_PACE_STEP_S,
    TyreAdjustment,
    order_compounds,
    typical_pace_step_s,
)

log = get_logger("simulation.compounds")

#: standard errors given to compounds that took the all-circuit model (``own_fit`` False): about the
#: between-circuit spread, so a circuit's own fits outweigh them when the ordering is restored
NON_OWN_SE = {"pace_offset_s": 0.3, "linear_s_per_lap": 0.05}


def compound_params(tyre) -> CompoundParams:
    """A fitted :class:`~f1analyzer.models.tyres.TyreModel` as simulator :class:`CompoundParams`."""
    coef = list(tyre.coef_s) + [0.0, 0.0]
    cliff_lap, cliff_slope = None, 0.0
    if tyre.curve == "cliff" and tyre.cliff_lap is not None and tyre.cliff_slope_s:
        cliff_lap = int(round(float(tyre.cliff_lap)))
        cliff_slope = max(float(tyre.cliff_slope_s), 0.0)
    return CompoundParams(
        name=str(tyre.compound).upper(),
        pace_offset_s=float(tyre.pace_offset_s),
        linear_s_per_lap=max(float(coef[0]), 0.0),
        quadratic_s_per_lap2=max(float(coef[1]), 0.0),
        cliff_lap=cliff_lap,
        cliff_slope_s_per_lap=cliff_slope,
    )


def tyre_se(tyres: dict) -> dict[str, dict[str, float]]:
    """Standard errors of the fitted pace offsets and linear slopes, per compound, for
    :func:`~f1analyzer.simulation.scenario.tyre_sanity.order_compounds`. Compounds on the all-circuit model
    get :data:`NON_OWN_SE` (at least); MEDIUM's offset is the reference (0 by construction)."""
    out = {}
    for name, t in tyres.items():
        off = float(t.pace_offset_se_s or 0.0)
        slope = float((list(t.coef_se_s) or [0.0])[0] or 0.0)
        if not getattr(t, "own_fit", True):
            off = max(off, NON_OWN_SE["pace_offset_s"])
            slope = max(slope, NON_OWN_SE["linear_s_per_lap"])
        out[str(name).upper()] = {"pace_offset_s": off if off > 0 else None,
                                  "linear_s_per_lap": slope if slope > 0 else None}
    return out


def pace_step_for(models, era: str) -> float:
    """Smallest fresh-pace step between consecutive dry compounds for ``era`` that the safety net
    enforces. Model sets with the pooled compound fit (``tyre_codes_by_era``) carry the step in the
    fit itself, so only strict order is asked (:data:`~.tyre_sanity.SAFETY_NET_PACE_STEP_S`);
    older model sets keep the median positive step of the circuits' own fits, floored at
    :data:`~f1analyzer.simulation.scenario.tyre_sanity.MIN_PACE_STEP_FLOOR_S`."""
    g = getattr(models, "global_", None)
    if g is not None and (getattr(g, "tyre_codes_by_era", None) or {}).get(era):
        return SAFETY_NET_PACE_STEP_S
    offsets = []
    for cm in getattr(models, "circuits_", {}).values():
        tyres = (getattr(cm, "compounds_by_era", {}) or {}).get(era) or {}
        offsets.append({c: float(t.pace_offset_s) for c, t in tyres.items() if getattr(t, "own_fit", True)})
    g = getattr(models, "global_", None)
    gt = ((getattr(g, "compounds_by_era", {}) or {}).get(era) or getattr(g, "compounds", {}) or {}) if g else {}
    return typical_pace_step_s(offsets, fallback={c: float(t.pace_offset_s) for c, t in gt.items()})


def event_allocation(compounds) -> dict[str, str] | None:
    """An event's ``compounds`` (three dry compounds, any order, C-numbers or 2018 names) as
    {"HARD": code, "MEDIUM": code, "SOFT": code} on the common scale, else None."""
    if compounds is None or len(compounds) != 3:
        return None
    codes = [canonical_code(c) for c in compounds]
    if any(c is None for c in codes) or len(set(codes)) != 3:
        return None
    return dict(zip(RELATIVE, sorted(codes, key=hardness)))


def default_dry_models() -> dict:
    """The simulator's illustrative default tyres (:class:`CompoundParams` defaults, not fitted)
    as tyre models, for a model set that has no dry tyre fit at all."""
    out = {}
    for name, c in RaceParams.__dataclass_fields__["compounds"].default_factory().items():
        cliff = c.cliff_lap is not None
        out[name] = TyreModel(compound=name, curve="cliff" if cliff else "quadratic",
                              coef_s=[c.linear_s_per_lap, c.quadratic_s_per_lap2],
                              cliff_lap=float(c.cliff_lap) if cliff else None,
                              cliff_slope_s=c.cliff_slope_s_per_lap if cliff else None,
                              pace_offset_s=c.pace_offset_s, own_fit=False)
    return out


def fill_missing_dry(tyres: dict) -> tuple[dict, list[str]]:
    """Every dry compound, a missing one copied from its nearest fitted neighbour (marked
    ``own_fit=False``): a model set fitted on races that never ran it cannot price it, and the
    physical-ordering safety net then separates the copy (which the answer reports)."""
    out, filled = dict(tyres), []
    for name in DRY_COMPOUNDS:
        if name in out:
            continue
        i = DRY_COMPOUNDS.index(name)
        near = sorted((abs(DRY_COMPOUNDS.index(c) - i), c) for c in out if c in DRY_COMPOUNDS)
        if not near:  # no dry fit at all (a set fitted on a handful of races)
            out.update(default_dry_models())
            return out, [c for c in DRY_COMPOUNDS if c not in tyres]
        out[name] = replace(out[near[0][1]], compound=name, own_fit=False)
        filled.append(name)
    return out, filled


def ordered_compounds(models, tyres: dict, season: int) -> tuple[dict[str, CompoundParams], list[TyreAdjustment]]:
    """The dry compounds' simulator parameters from their fits, physically ordered, plus what moved
    (the tyre-life wear comes on top: :func:`with_tyre_life`)."""
    fitted = {c: compound_params(tyres[c]) for c in DRY_COMPOUNDS}
    record: list[TyreAdjustment] = []
    step = pace_step_for(models, models.era_of(season)) if hasattr(models, "era_of") else 0.2
    ordered = order_compounds(fitted, se=tyre_se({c: tyres[c] for c in DRY_COMPOUNDS}),
                              min_pace_step_s=step, record=record)
    return ordered, record


def lacks_era_fit(models, cm, era: str) -> bool:
    """True when the model set has ``era``'s all-circuit tyre fit but this circuit was never raced
    with that era's cars (a new car era's first visit): its own fits are of other tyres."""
    g = getattr(models, "global_", None)
    if g is None or cm is g:
        return False
    return era not in (getattr(cm, "compounds_by_era", None) or {}) and bool((g.compounds_by_era or {}).get(era))


def carried_severity(models, cm, era: str) -> tuple[float, str]:
    """(wear factor, what it is) for a circuit that :func:`lacks_era_fit`: the era's all-circuit
    tyre models know nothing of the track, so their wear is scaled by the circuit's wear severity
    in its latest other era raised to the cross-era slope of the circuits raced in both
    (:func:`~f1analyzer.models.tyre_circuits.cross_era_severity`). Factor 1 when either is
    unknown (fewer than four circuits in both eras: early in a new era)."""
    pooled = getattr(models.global_, "tyre_codes_by_era", None) or {}
    own = getattr(cm, "tyre_codes_by_era", None) or {}
    others = [e for e in own if e != era and e in pooled]
    if not others:
        return 1.0, "no earlier-era fit at the circuit to carry over"
    from_era = latest_era(others)
    severity = wear_severity(own[from_era], pooled[from_era])
    slope, n = cross_era_severity(getattr(models, "circuits_", {}), pooled, era, from_era)
    if not severity:
        return 1.0, f"no {from_era} wear severity at the circuit to carry over"
    if slope <= 0:
        why = "too few to say how much carries" if n < MIN_CIRCUITS_BOTH_ERAS else "none carries"
        return 1.0, f"its {from_era} wear severity not carried over ({n} circuits raced in both eras: {why})"
    factor = float(severity ** slope)
    return factor, (f"wear x{factor:.2f}: its {from_era} wear severity {severity:.2f} carried over with the "
                    f"slope {slope:.2f} that {n} circuits raced in both eras show")


def scaled_wear(tyres: dict, factor: float) -> dict:
    """Tyre models with their wear (linear and quadratic terms) multiplied by ``factor``."""
    if factor == 1.0:
        return tyres
    out = {}
    for name, t in tyres.items():
        m = TyreModel.from_dict(t.to_dict())
        m.coef_s = [float(c) * factor for c in t.coef_s]
        out[name] = m
    return out


def new_era_reasons(models, cm, season: int) -> list[str]:
    """The confidence sentence for a circuit not yet raced with the season's cars (else empty)."""
    era = models.era_of(season) if hasattr(models, "era_of") else None
    if era is None or not lacks_era_fit(models, cm, era):
        return []
    return [f"No race at {cm.key} with {era} cars in this model set: its tyres are the era's all-circuit "
            "model (with the circuit's wear severity from its other era where enough circuits show how "
            "much carries over), so compound choices here are less certain."]


def tyre_life_for(models, circuit_model, season: int, total_laps: int | None = None) -> dict[str, dict]:
    """compound → {life_onset, life_median} (laps of set life) of a circuit model for the season's
    car era, from its learned stint limits (``max_stint_laps``, which carry the life estimate); a
    model without that era takes its latest one. The all-circuit model's values are scaled to the
    race distance (learned as shares of a typical race). Empty for models fitted before it."""
    by_era = getattr(circuit_model, "max_stint_laps", None) or {}
    if not by_era:
        return {}
    era = models.era_of(season) if hasattr(models, "era_of") else None
    use = era if era in by_era else latest_era(by_era)
    scale = 1.0
    own_laps = float(getattr(circuit_model, "total_laps", 0) or 0)
    if getattr(circuit_model, "key", "") == "_all" and total_laps and own_laps > 0:
        scale = float(total_laps) / own_laps
    out = {}
    for comp, lim in (by_era.get(use) or {}).items():
        if lim and lim.get("life_onset") is not None and lim.get("life_median") is not None:
            out[str(comp).upper()] = {"life_onset": float(lim["life_onset"]) * scale,
                                      "life_median": float(lim["life_median"]) * scale}
    return out


def with_tyre_life(compounds: dict[str, CompoundParams], life: dict, pit_loss_s: float) -> dict[str, CompoundParams]:
    """Each dry compound with its tyre life under management as the engine's cliff term: past the
    onset age the set loses :func:`~f1analyzer.models.tyre_life.life_slope_s` more per lap, the
    wear that makes the median real stint the optimal one at this pit loss (revealed by the
    teams' stops). Ages: a set's life counts the lap it is on, the engine's age the laps before
    it (life − 1). A cliff measured in the lap times (or inherited by the ordering) that starts
    no later than the life onset is kept: it is the tyre itself giving up."""
    out = dict(compounds)
    for name, cp in compounds.items():
        lf = life.get(name) or {}
        if lf.get("life_onset") is None or lf.get("life_median") is None:
            continue
        onset_age = max(float(lf["life_onset"]) - 1.0, 0.0)
        median_age = max(float(lf["life_median"]) - 1.0, 1.0)
        slope = life_slope_s(pit_loss_s, cp.linear_s_per_lap, onset_age, median_age)
        if slope <= 0:
            continue
        onset = int(round(min(onset_age, max(median_age - 3.0, 0.0))))
        if cp.cliff_lap is not None and cp.cliff_slope_s_per_lap > 0 and cp.cliff_lap <= onset:
            continue
        out[name] = replace(cp, cliff_lap=onset, cliff_slope_s_per_lap=round(slope, 4))
    return _softer_gives_up_first(out)


def _softer_gives_up_first(compounds: dict[str, CompoundParams]) -> dict[str, CompoundParams]:
    """The physical order of the cliffs (:mod:`.tyre_sanity`'s rule) for the life terms: a softer
    compound's set is done no later than a harder one's. A softer compound without a cliff (its
    life unknown, or its fitted wear already shorter than its life) takes the nearest harder
    one's; one whose onset comes later is moved to the harder one's onset. Nothing here was
    fitted, so nothing is reported as an override."""
    out = dict(compounds)
    dry = [c for c in reversed(DRY_COMPOUNDS) if c in out]  # hardest first
    harder = None
    for name in dry:
        cp = out[name]
        has = cp.cliff_lap is not None and cp.cliff_slope_s_per_lap > 0
        if harder is not None:
            if not has:
                cp = replace(cp, cliff_lap=harder.cliff_lap, cliff_slope_s_per_lap=harder.cliff_slope_s_per_lap)
            elif cp.cliff_lap > harder.cliff_lap:
                cp = replace(cp, cliff_lap=harder.cliff_lap)
            out[name] = cp
        if cp.cliff_lap is not None and cp.cliff_slope_s_per_lap > 0:
            harder = cp
    return out


def tyre_override_reason(circuit_key: str, era: str, adjusted: list[TyreAdjustment]) -> str:
    """The sentence an answer carries when the safety net had to reorder the fitted tyres."""
    what = sorted({"fresh pace" if a.param == "pace_offset_s" else "wear" if a.param == "linear_s_per_lap"
                   else "cliff onset" for a in adjusted})
    return (f"The fitted tyre model at {circuit_key}" + (f" ({era} cars)" if era else "")
            + f" was not physically ordered ({' and '.join(what)}); the simulator reordered "
            f"{len(adjusted)} tyre parameter(s), so compound choices here are less certain.")


#: circuits with fewer races than this use the all-circuit tyre and fuel models
MIN_CIRCUIT_RACES = 2


def circuit_tyres_and_fuel(models, cm, season: int, allocation=None) -> tuple[dict, float, bool, str | None]:
    """Tyre models of the season's era and the fuel effect; True when the global model was used;
    the note when the circuit was never raced with the era's cars.

    With the event's ``allocation`` (its three dry compounds) and a model set fitted by Pirelli
    code, SOFT/MEDIUM/HARD are that event's codes at this circuit; otherwise the circuit's models
    of its latest allocation in the era. A circuit not yet raced with the era's cars takes the
    era's all-circuit models with its own wear severity carried over (:func:`carried_severity`):
    its fits from another era are of other tyres (2022's 18-inch tyres against the 13-inch ones).
    """
    era = models.era_of(season)
    use_global = cm is models.global_ or cm.n_races < MIN_CIRCUIT_RACES
    src = models.global_ if use_global else cm
    wear, carried = 1.0, None
    if not use_global and lacks_era_fit(models, cm, era):
        src = models.global_
        wear, how = carried_severity(models, cm, era)
        carried = f"{cm.key}: no race here with {era} cars: the era's all-circuit tyre models, {how}"
    tyres = src.compounds_by_era.get(era) or src.compounds
    alloc = event_allocation(allocation)
    codes = (getattr(src, "tyre_codes_by_era", None) or {}).get(era) or {}
    if alloc is not None and tyres and all(c in codes for c in alloc.values()):
        counts = {c: int(t.n_laps) for c, t in tyres.items()}
        tyres = relative_models(codes, alloc, counts) if src is cm else relative_models(codes, alloc)
    tyres = scaled_wear(tyres, wear)
    if not tyres or not all(c in tyres for c in DRY_COMPOUNDS):
        g = models.global_
        tyres = {**(g.compounds_by_era.get(era) or g.compounds), **(tyres or {})}
        use_global = True
        tyres, filled = fill_missing_dry(tyres)
        if filled:
            log.info("%s %s: no fit of %s in this model set; copied from the nearest compound "
                     "(or the simulator's defaults)", cm.key, era, "/".join(filled))
    fuel_src = models.global_ if use_global else cm
    fuel = fuel_src.fuel_effect_by_era.get(era, fuel_src.fuel_effect_s_per_lap)
    return tyres, float(fuel), use_global, carried


__all__ = ["NON_OWN_SE", "MIN_CIRCUIT_RACES", "carried_severity", "circuit_tyres_and_fuel", "lacks_era_fit",
           "new_era_reasons", "scaled_wear", "compound_params", "fill_missing_dry", "tyre_life_for",
           "with_tyre_life", "event_allocation", "ordered_compounds", "pace_step_for",
           "tyre_override_reason", "tyre_se"]
