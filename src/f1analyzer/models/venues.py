"""What a model set knows per venue: priors for a new venue, and filling gaps from another set.

* **A new venue** (a circuit of the table that the model set never saw, e.g. Madrid from 2026)
  gets a :class:`~f1analyzer.models.race_models.CircuitModel` built from the most similar known
  tracks (:func:`~f1analyzer.data.circuits.similar_circuits`: lap length, street/permanent,
  pit-loss class, same grounds): every number a weighted mean of theirs, tyres the average of
  their fits (``own_fit`` False), race distance from the lap length. ``source`` says where it came
  from, and the answer built on it says the venue is new.
* **Filling gaps** (:func:`fill_missing`): a quick or partial training knows fewer circuits, or
  fewer races at a circuit, than the set it replaces. Those circuits are copied from the fallback
  set (the previous registered one, else the bundled one) so a model set never knows less than the
  bundled one; the copy's ``source`` names the set it came from.

This module works on fitted objects only (no laps) and never imports ``race_models`` (which
imports it).
"""

from __future__ import annotations

import copy
from dataclasses import fields

import numpy as np

from ..data.circuits import get_circuit, race_laps_for, similar_circuits
from ..log import get_logger
from .tyres import DRY, average_models

log = get_logger("models.venues")

#: similar tracks a new venue borrows from
N_SIMILAR = 3


def _weighted(values: list, weights: list[float]):
    """Weighted mean of floats or of equal-length float lists; None when they do not combine."""
    if all(isinstance(v, float) and np.isfinite(v) for v in values):
        return float(np.dot(weights, values))
    if all(isinstance(v, list) and v and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
           for v in values) and len({len(v) for v in values}) == 1:
        return [float(x) for x in np.average(np.asarray(values, dtype=np.float64), axis=0, weights=weights)]
    return None


def _blend(target, sources: list, weights: list[float]) -> None:
    """Set every float (or float-list) field of ``target`` to the weighted mean of ``sources``'."""
    for f in fields(target):
        vals = [getattr(s, f.name) for s in sources]
        mixed = _weighted(vals, weights)
        if mixed is not None:
            setattr(target, f.name, mixed)


def _blend_neutralisation(target, sources: list, weights: list[float]) -> None:
    _blend(target, sources, weights)
    dur: dict[int, float] = {}
    for s, w in zip(sources, weights):
        for k, p in (s.duration_laps_probs or {}).items():
            dur[int(k)] = dur.get(int(k), 0.0) + w * float(p)
    target.duration_laps_probs = dur or target.duration_laps_probs
    target.n_races = 0
    target.shrunk = True


def new_venue_model(models, key: str):
    """A :class:`CircuitModel` for venue ``key`` from its most similar tracks in ``models``, or
    None when ``key`` is not in the circuit table (nothing to compare it with) or ``models`` knows
    no comparable track."""
    c = get_circuit(key)
    known = {k: cm for k, cm in getattr(models, "circuits_", {}).items() if cm.n_races >= 1}
    if c is None or not known:
        return None
    sims = similar_circuits(key, known, k=N_SIMILAR)
    if not sims:
        return None
    cms = [known[k] for k, _ in sims]
    w = [float(x) for _, x in sims]
    out = copy.deepcopy(cms[0])  # fields that do not average (nested, text) come from the nearest
    _blend(out, cms, w)
    out.key, out.name = key, c.name
    out.n_races, out.seasons, out.n_pit_stops = 0, [], 0
    lengths = [get_circuit(cm.key).length_km for cm in cms]
    if c.length_km and all(lengths):
        out.base_lap_time_s = float(c.length_km * np.dot(w, [cm.base_lap_time_s / ln for cm, ln in zip(cms, lengths)]))
        out.total_laps = race_laps_for(c.length_km)
    else:
        out.total_laps = int(round(float(np.dot(w, [cm.total_laps for cm in cms]))))
    eras = sorted({e for cm in cms for e in cm.compounds_by_era}, key=lambda e: (not e.startswith("pre"), e))
    out.compounds_by_era = {}
    for era in eras:
        tyres = {}
        for comp in DRY:
            own = [cm.compounds_by_era[era][comp] for cm in cms if comp in cm.compounds_by_era.get(era, {})]
            if own:
                tyres[comp] = average_models(own, comp)
        if tyres:
            out.compounds_by_era[era] = tyres
    out.era = eras[-1] if eras else out.era
    out.compounds = dict(out.compounds_by_era.get(out.era, {}))
    out.fuel_effect_by_era = {}
    for era in eras:
        pairs = [(cm.fuel_effect_by_era[era], wi) for cm, wi in zip(cms, w) if era in cm.fuel_effect_by_era]
        if pairs:
            out.fuel_effect_by_era[era] = float(np.average([p for p, _ in pairs], weights=[x for _, x in pairs]))
    out.fuel_effect_s_per_lap = out.fuel_effect_by_era.get(out.era, out.fuel_effect_s_per_lap)
    out.sc = copy.deepcopy(cms[0].sc)
    _blend_neutralisation(out.sc, [cm.sc for cm in cms], w)
    out.vsc = copy.deepcopy(cms[0].vsc)
    _blend_neutralisation(out.vsc, [cm.vsc for cm in cms], w)
    out.prior_from = ", ".join(cm.key for cm in cms)
    names = ", ".join(f"{cm.name} ({wi:.0%})" for cm, wi in zip(cms, w))
    out.source = f"new venue: priors from similar tracks {names}"
    log.info("%s is new to the model set: priors from %s", key, names)
    return out


def describe_set(models) -> str:
    """'model set fitted on 2018–2024' (its version or 'bundled' when known)."""
    seasons = list(getattr(models, "seasons_", []) or [])
    span = (f"{seasons[0]}–{seasons[-1]}" if len(seasons) > 1 else str(seasons[0])) if seasons else "unknown seasons"
    label = getattr(models, "label_", None) or "model set"
    return f"{label} fitted on {span}"


def fill_missing(target, fallback, *, source: str | None = None) -> list[str]:
    """Copy into ``target`` the circuits that ``fallback`` knows better; returns their keys.

    A circuit is taken when ``target`` lacks it or has fewer races of it, and only if ``fallback``'s
    model of it saw no season after ``target``'s last one (filling must not add hindsight to a set
    trained on earlier seasons). The copy keeps its own ``source`` when it already had one (a set
    that was itself filled), else gets ``source`` (default: :func:`describe_set` of ``fallback``).
    """
    label = source or describe_set(fallback)
    last = max(getattr(target, "seasons_", []) or [0])
    filled = []
    for key, fb in sorted(getattr(fallback, "circuits_", {}).items()):
        mine = target.circuits_.get(key)
        if mine is not None and mine.n_races >= fb.n_races:
            continue
        if fb.seasons and max(fb.seasons) > last:
            log.info("not filling %s from %s: it saw %s, after this set's last season %s",
                     key, label, max(fb.seasons), last)
            continue
        cm = copy.deepcopy(fb)
        cm.source = fb.source or f"{label} ({fb.n_races} races; this set had {mine.n_races if mine else 0})"
        target.circuits_[key] = cm
        filled.append(key)
    if filled:
        log.info("filled %d circuit(s) from %s: %s", len(filled), label, ", ".join(filled))
    return filled


__all__ = ["new_venue_model", "fill_missing", "describe_set", "N_SIMILAR"]
