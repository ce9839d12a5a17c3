"""A Grand Prix's own weekend and venue: sprint laps as same-weekend evidence, new venues.

* **Sprint weekends.** The sprint runs before the Grand Prix, so its clean laps may update the
  circuit's tyre models in a pre-race answer (no hindsight):
  :func:`~f1analyzer.models.weekend.update_tyres_from_sprint`. The build's notes say
  "used N sprint laps as same-weekend evidence".
* **New venues.** A circuit of the table that the model set never saw gets priors from similar
  tracks (``RaceModels.venue_prior``, model key :data:`NEW_VENUE_KEY`), and the answer's
  ``confidence_reasons`` say so.
"""

from __future__ import annotations

from f1analyzer.models.weekend import sprint_clean_laps, update_tyres_from_sprint
from f1analyzer.simulation.core.params import DRY_COMPOUNDS

#: ``BuiltRace.model_circuit`` of a venue new to the models whose priors come from similar tracks
NEW_VENUE_KEY = "_new_venue"


def venue_and_weekend(models, cm, model_key: str, season: int, tyres: dict, fuel: float, used_global: bool,
                       weekend_laps) -> tuple[dict, float, bool, list[str]]:
    """A new venue's tyres and fuel from its similar tracks; then the weekend's sprint laps as
    same-weekend tyre evidence (:func:`~f1analyzer.models.weekend.update_tyres_from_sprint`)."""
    notes = []
    if model_key == NEW_VENUE_KEY:
        era = models.era_of(season)
        own = cm.compounds_by_era.get(era) or cm.compounds
        if own and all(c in own for c in DRY_COMPOUNDS):
            tyres, used_global = own, False
            fuel = float(cm.fuel_effect_by_era.get(era, cm.fuel_effect_s_per_lap))
        notes.append(f"{cm.key}: {cm.source}")
    if weekend_laps is not None and len(weekend_laps):
        upd = update_tyres_from_sprint({c: tyres[c] for c in tyres}, weekend_laps, fuel_effect_s_per_lap=fuel)
        if upd.n_laps:
            tyres = upd.tyres
            notes.append(f"used {upd.n_laps} sprint laps as same-weekend evidence: {upd.describe()}")
    return tyres, fuel, used_global, notes


def sprint_laps_for(store, season: int, rnd: int, circuit_key: str, stored: bool):
    """Clean laps of this weekend's sprint (run before the Grand Prix), or None. A race not stored
    yet finds its weekend's sprint by circuit within the season."""
    sprints = store.races(season, session="sprint")
    if sprints.empty:
        return None
    same = sprints[sprints["round"] == rnd] if stored else sprints[sprints["circuit_key"] == circuit_key]
    same = same[same["circuit_key"] == circuit_key]
    if same.empty:
        return None
    laps = store.laps(season, int(same["round"].iloc[-1]), session="sprint")
    clean = sprint_clean_laps(laps)
    return clean if len(clean) else None


def new_venue_reasons(models, circuit_key: str, model_key: str) -> list[str]:
    """The confidence sentence for a venue the models never saw (empty for a known one)."""
    if model_key == NEW_VENUE_KEY:
        cm = models.venue_prior(circuit_key)
        names = cm.prior_from if cm is not None else "similar tracks"
        return [f"{circuit_key} is a venue new to the models: its tyre, pit-loss and Safety Car figures are "
                f"priors from similar tracks ({names}), not measured there."]
    if model_key == "_all":
        return [f"{circuit_key} is a venue new to the models and not in the circuit table: all-circuit "
                "averages are used."]
    return []


__all__ = ["NEW_VENUE_KEY", "venue_and_weekend", "sprint_laps_for", "new_venue_reasons"]
