"""The tyre rules of one race: the event-rules table plus the learned stint limits → TyreRules.

* **Event rules** come from the editable table (:mod:`f1analyzer.data.event_rules`: the bundled
  ``event_rules.toml`` merged with ``$F1A_HOME/event_rules.toml``), matched by season and circuit
  (the venue, so a renamed Grand Prix keeps its rules), else round or event name. Its
  ``[defaults]`` are the sporting regulations of every race (two dry compounds).
* **Learned limits** come from the circuit model's ``max_stint_laps`` for the season's car era
  (:class:`~f1analyzer.models.stint_limits.StintLimits`); a model without that era takes its latest
  one, and the all-circuit model's limits are scaled to the race distance (they are learned as a
  share of it). Models fitted before the limits existed have none: then only the event rules apply.

Example:
    >>> rules = rules_for(2023, "Qatar Grand Prix", "losail", models.circuits_["losail"], era="2022+")
    >>> rules.cap_laps("MEDIUM")
    18
"""

from __future__ import annotations

from pathlib import Path

from f1analyzer.data.event_rules import find_event, load_event_rules
from f1analyzer.models.features import latest_era
from f1analyzer.simulation.core.params import DRY_COMPOUNDS
from f1analyzer.simulation.core.rules import TyreRules

#: the model key of the all-circuit model (its limits are shares of a typical race)
GLOBAL_KEY = "_all"


def _caps(value) -> dict[str, int]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(c).upper(): int(v) for c, v in value.items()}
    return {c: int(value) for c in DRY_COMPOUNDS}


def learned_caps(circuit_model, era: str | None, total_laps: int | None) -> tuple[dict[str, int], dict[str, str]]:
    """(compound → cap in laps of set life, rule key → source sentence) from a circuit model."""
    by_era = getattr(circuit_model, "max_stint_laps", None) or {}
    if not by_era:
        return {}, {}
    use = era if era in by_era else latest_era(by_era)
    key = getattr(circuit_model, "key", "")
    caps, src = {}, {}
    for comp, lim in (by_era.get(use) or {}).items():
        if not lim or lim.get("value") is None:
            continue
        value = int(lim["value"])
        scaled = key == GLOBAL_KEY and total_laps and lim.get("share")
        if scaled:
            value = int(round(float(lim["share"]) * int(total_laps)))
        comp = str(comp).upper()
        caps[comp] = max(value, 1)
        pct = f"{round(100 * float(lim.get('quantile', 0.95)))}th pct"
        spread = lim.get("spread")
        n = int(lim.get("n", 0))
        if scaled or key == GLOBAL_KEY or n == 0:
            where = "stints at all circuits, scaled to this race's distance"
        else:
            where = f"{n} stints here" + (", shrunk to all circuits" if lim.get("pooled") else "")
        src[f"max_stint_laps:{comp}"] = (f"learned: {pct} of completed {where}, {use} cars"
                                         + (f", ±{float(spread):.1f} laps" if spread is not None else ""))
    return caps, src


def rules_for(season: int, round_or_event, circuit_key: str, circuit_model=None, *, era: str | None = None,
              total_laps: int | None = None, home: Path | None = None, learned: bool = True) -> TyreRules:
    """:class:`TyreRules` of one race.

    Args:
        season: championship year.
        round_or_event: round number or event name (used when the table has no circuit entry).
        circuit_key: the venue (``"losail"``).
        circuit_model: the :class:`~f1analyzer.models.race_models.CircuitModel` used for the race
            (learned limits), or None.
        era: the season's car era label (``models.era_of(season)``).
        total_laps: race distance (scales the all-circuit limits).
        home: where a user's ``event_rules.toml`` lives (default: the configured home).
        learned: include the learned limits.
    """
    table = load_event_rules(home)
    d = table.get("defaults", {})
    e = find_event(table, int(season), circuit_key, round_or_event) or {}
    source: dict[str, str] = {}
    if d.get("source"):
        source["min_dry_compounds"] = str(d["source"])
    event_caps = _caps(e.get("max_laps_per_set"))
    why = str(e.get("source") or f"{season} {e.get('event') or circuit_key} event rule")
    for k in ("max_laps_per_set", "min_stops", "min_dry_compounds", "nominated", "used_set_credit_laps"):
        if k in e:
            source[k] = why
    caps, src = learned_caps(circuit_model, era, total_laps) if learned and circuit_model is not None else ({}, {})
    source.update(src)
    rules = TyreRules(
        max_laps_per_set=event_caps,
        max_stint_laps=caps,
        min_stops=int(e.get("min_stops", d.get("min_stops", 1))),
        min_dry_compounds=int(e.get("min_dry_compounds", d.get("min_dry_compounds", 2))),
        nominated=tuple(str(c).upper() for c in e.get("nominated", ())),
        source=source,
        used_set_credit_laps=int(e.get("used_set_credit_laps", 0)),
    )
    rules.validate()
    return rules


__all__ = ["rules_for", "learned_caps"]
