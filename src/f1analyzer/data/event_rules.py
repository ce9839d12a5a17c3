"""The editable table of event tyre rules (stint caps, minimum stops, nominated compounds).

The bundled table (``f1analyzer/bundled/event_rules.toml``, documented there) holds the rules that
really applied at past races, e.g. 2023 Qatar's 18 laps per set. A user extends it for a new race
with ``$F1A_HOME/event_rules.toml`` in the same format: an entry with the same season and circuit
(or event name) replaces the bundled one, others are added.

This module only reads the tables (plain dicts); the simulator turns an entry into
:class:`~f1analyzer.simulation.core.rules.TyreRules` (``simulation/scenario/tyre_rules.py``) and the
stint-limit estimator leaves races with an event cap out of what it learns from.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from ..errors import DataValidationError
from ..log import get_logger

log = get_logger("data.event_rules")

BUNDLED = Path(__file__).resolve().parent.parent / "bundled" / "event_rules.toml"
FILENAME = "event_rules.toml"
KEYS = {"season", "circuit", "event", "round", "max_laps_per_set", "used_set_credit_laps", "min_stops",
        "min_dry_compounds", "nominated", "source"}


def _read(path: Path) -> dict:
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataValidationError(f"{path}: not a readable event-rules file ({exc})") from None
    events = doc.get("event", [])
    if not isinstance(events, list):
        raise DataValidationError(f"{path}: [[event]] entries expected (see the bundled event_rules.toml).")
    for k, e in enumerate(events):
        unknown = set(e) - KEYS
        if "season" not in e or not (e.get("circuit") or e.get("event") or e.get("round")):
            raise DataValidationError(f"{path}: event {k + 1} needs a season and a circuit (or event name).")
        if unknown:
            raise DataValidationError(f"{path}: event {k + 1} has unknown keys {', '.join(sorted(unknown))}; "
                                      f"valid: {', '.join(sorted(KEYS))}.")
        e["_file"] = str(path)
    return {"defaults": dict(doc.get("defaults", {})), "events": events}


def _key(e: dict) -> tuple:
    """Which race an entry is about: the venue when given (it survives renames), else the name,
    else the round."""
    if e.get("circuit"):
        return int(e["season"]), "circuit", str(e["circuit"]).lower()
    if e.get("event"):
        return int(e["season"]), "event", str(e["event"]).lower()
    return int(e["season"]), "round", int(e["round"])


def load_event_rules(home: Path | None = None) -> dict:
    """``{"defaults": {...}, "events": [...]}``: the bundled table merged with
    ``home/event_rules.toml`` (the user's entries win; ``home`` default: the configured home)."""
    table = _read(BUNDLED)
    if home is None:
        from ..config import get_settings  # read at call time: tests and the CLI change F1A_HOME

        home = get_settings().home
    user = Path(home) / FILENAME
    if user.is_file():
        mine = _read(user)
        table["defaults"].update(mine["defaults"])
        keys = {_key(e) for e in mine["events"]}
        table["events"] = [e for e in table["events"] if _key(e) not in keys] + mine["events"]
        log.debug("event rules: %d entries from %s", len(mine["events"]), user)
    return table


def find_event(table: dict, season: int, circuit_key: str | None = None, event: str | int | None = None,
               round: int | None = None) -> dict | None:
    """The table's entry for one race (by circuit first, then round, then event name), or None."""
    same = [e for e in table["events"] if int(e["season"]) == int(season)]
    ev = str(event).strip().lower() if event is not None and not str(event).strip().isdigit() else None
    rnd = int(round) if round is not None else (int(event) if event is not None and str(event).strip().isdigit() else None)
    for e in reversed(same):  # user entries come last and win
        if circuit_key and str(e.get("circuit") or "").lower() == str(circuit_key).lower():
            return e
    for e in reversed(same):
        if rnd is not None and e.get("round") is not None and int(e["round"]) == rnd:
            return e
        if ev and str(e.get("event") or "").lower() in (ev, ev + " grand prix"):
            return e
    return None


def capped_events(table: dict | None = None) -> set[tuple[int, str]]:
    """``(season, circuit)`` of races run under an event stint cap: the stint lengths there were
    imposed, not chosen, so the stint-limit estimator leaves them out."""
    table = table if table is not None else load_event_rules()
    return {(int(e["season"]), str(e.get("circuit") or "").lower()) for e in table["events"]
            if e.get("max_laps_per_set") is not None and e.get("circuit")}


__all__ = ["load_event_rules", "find_event", "capped_events", "BUNDLED", "FILENAME"]
