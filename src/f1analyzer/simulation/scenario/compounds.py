"""The dry compounds' simulator parameters from the fitted tyre models (used by :mod:`.build`).

* :func:`compound_params` — a fitted :class:`~f1analyzer.models.tyres.TyreModel` as
  :class:`~f1analyzer.simulation.core.params.CompoundParams`.
* :func:`event_allocation` — an event's three dry compounds as {"HARD", "MEDIUM", "SOFT"} → code.
* :func:`ordered_compounds` — the safety net (:mod:`.tyre_sanity`) applied to a circuit's fits, with
  :func:`tyre_se` (weights) and :func:`pace_step_for` (minimum fresh-pace step); when it has to move
  something, :func:`tyre_override_reason` is the sentence the answer carries.
"""

from __future__ import annotations

from dataclasses import replace

from f1analyzer.models.tyre_pool import RELATIVE, canonical_code, hardness
from f1analyzer.models.tyres import TyreModel
from f1analyzer.simulation.core.params import DRY_COMPOUNDS, CompoundParams, RaceParams
from f1analyzer.simulation.scenario.tyre_sanity import (
    SAFETY_NET_PACE_STEP_S,
    TyreAdjustment,
    order_compounds,
    typical_pace_step_s,
)

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
    """The dry compounds' simulator parameters from their fits, physically ordered, plus what moved."""
    fitted = {c: compound_params(tyres[c]) for c in DRY_COMPOUNDS}
    record: list[TyreAdjustment] = []
    step = pace_step_for(models, models.era_of(season)) if hasattr(models, "era_of") else 0.2
    ordered = order_compounds(fitted, se=tyre_se({c: tyres[c] for c in DRY_COMPOUNDS}),
                              min_pace_step_s=step, record=record)
    return ordered, record


def tyre_override_reason(circuit_key: str, era: str, adjusted: list[TyreAdjustment]) -> str:
    """The sentence an answer carries when the safety net had to reorder the fitted tyres."""
    what = sorted({"fresh pace" if a.param == "pace_offset_s" else "wear" if a.param == "linear_s_per_lap"
                   else "cliff onset" for a in adjusted})
    return (f"The fitted tyre model at {circuit_key}" + (f" ({era} cars)" if era else "")
            + f" was not physically ordered ({' and '.join(what)}); the simulator reordered "
            f"{len(adjusted)} tyre parameter(s), so compound choices here are less certain.")


__all__ = ["NON_OWN_SE", "compound_params", "fill_missing_dry", "event_allocation", "ordered_compounds", "pace_step_for",
           "tyre_override_reason", "tyre_se"]
