"""What a model set knows per venue: priors for a new venue, and filling gaps from another set.

* **A new venue** (a circuit of the table that the model set never saw, e.g. Madrid from 2026)
  gets a :class:`~f1analyzer.models.race_models.CircuitModel` from the all-circuit model with pit
  loss, lap noise, fuel and lap time taken from the most similar known tracks
  (:func:`~f1analyzer.data.circuits.similar_circuits`: lap length, street/permanent, pit-loss
  class, same grounds) where a leave-one-out test showed they predict better
  (:data:`SIMILAR_SHARE`), and the race distance from the lap length. ``source`` says where it
  came from, and the answer built on it says the venue is new.
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

log = get_logger("models.venues")

#: similar tracks a new venue borrows from
N_SIMILAR = 3


#: share of the similar tracks (the rest: the all-circuit model) in a new venue's prior, per field.
#: Chosen leave-one-out on the bundled 2018–2024 fits (24 circuits with ≥ 3 races, each predicted
#: from the others; mean absolute error, similar tracks vs all-circuit): green pit loss 1.02 vs
#: 1.87 s, lap noise 0.079 vs 0.153 s, fuel 0.012 (half-half) vs 0.015 s/lap — similar tracks
#: help; P(SC) 0.117 vs 0.089, P(VSC) 0.127 vs 0.101, retirements, overtakes and tyre wear
#: (0.029 vs 0.025 s/lap) — they do not, so those stay on the all-circuit model.
SIMILAR_SHARE: dict[str, float] = {
    "pit_loss_s": 1.0, "pit_loss_sd_s": 1.0, "pit_loss_sc_s": 1.0, "pit_loss_vsc_s": 1.0,
    "pit_lane_time_s": 1.0, "lap_noise_sd_s": 0.75, "fuel_effect_s_per_lap": 0.5,
}


def new_venue_model(models, key: str):
    """A :class:`CircuitModel` for venue ``key`` from its most similar tracks in ``models``, or
    None when ``key`` is not in the circuit table (nothing to compare it with) or ``models`` knows
    no comparable track.

    The all-circuit model is the base; the fields of :data:`SIMILAR_SHARE` move towards the similar
    tracks' weighted mean by that share; the lap time scales with the lap length (the similar
    tracks' seconds per km) and the distance is the fewest laps covering 305 km.
    """
    c = get_circuit(key)
    known = {k: cm for k, cm in getattr(models, "circuits_", {}).items() if cm.n_races >= 1}
    if c is None or not known:
        return None
    sims = similar_circuits(key, known, k=N_SIMILAR)
    if not sims:
        return None
    cms = [known[k] for k, _ in sims]
    w = [float(x) for _, x in sims]
    g = models.global_
    out = copy.deepcopy(g)
    for name, share in SIMILAR_SHARE.items():
        vals = [getattr(cm, name, None) for cm in cms]
        mine = getattr(g, name, None)
        if mine is None or any(v is None for v in vals):
            if all(v is not None for v in vals):
                setattr(out, name, float(np.dot(w, vals)))
            continue
        setattr(out, name, float(share * np.dot(w, vals) + (1.0 - share) * mine))
    share = SIMILAR_SHARE["fuel_effect_s_per_lap"]
    out.fuel_effect_by_era = {}
    for era, fuel_g in g.fuel_effect_by_era.items():
        pairs = [(cm.fuel_effect_by_era[era], wi) for cm, wi in zip(cms, w) if era in cm.fuel_effect_by_era]
        sim = float(np.average([p for p, _ in pairs], weights=[x for _, x in pairs])) if pairs else fuel_g
        out.fuel_effect_by_era[era] = share * sim + (1.0 - share) * float(fuel_g)
    out.fuel_effect_s_per_lap = out.fuel_effect_by_era.get(out.era, out.fuel_effect_s_per_lap)
    out.key, out.name = key, c.name
    out.n_races, out.seasons, out.n_pit_stops = 0, [], 0
    lengths = [get_circuit(cm.key).length_km for cm in cms]
    if c.length_km and all(lengths):
        out.base_lap_time_s = float(c.length_km * np.dot(w, [cm.base_lap_time_s / ln for cm, ln in zip(cms, lengths)]))
        out.total_laps = race_laps_for(c.length_km)
    else:
        out.base_lap_time_s = float(np.dot(w, [cm.base_lap_time_s for cm in cms]))
        out.total_laps = int(round(float(np.dot(w, [cm.total_laps for cm in cms]))))
    for era, tyres in out.compounds_by_era.items():
        for t in tyres.values():
            t.own_fit = False
    out.compounds = dict(out.compounds_by_era.get(out.era, {}))
    out.prior_from = ", ".join(cm.key for cm in cms)
    names = ", ".join(f"{cm.name} ({wi:.0%})" for cm, wi in zip(cms, w))
    out.source = (f"new venue: pit loss, lap time and fuel from similar tracks {names}; "
                  "tyres, Safety Car odds, start and overtaking from the all-circuit model")
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


__all__ = ["new_venue_model", "fill_missing", "describe_set", "N_SIMILAR", "SIMILAR_SHARE"]
