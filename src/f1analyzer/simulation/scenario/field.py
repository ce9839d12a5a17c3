"""A race's field from the model set alone, for installs whose store holds no laps.

A fresh install (``make run`` with an empty ``F1A_HOME``) has the bundled race models (circuit
models and the per-race driver pace ``RaceModels.pace_``) but no stored race, so
:func:`~f1analyzer.simulation.scenario.build.build_race` cannot take the field from the store. Then:

* **Event → circuit.** By name (``resolve_circuit``: event name, circuit, location) or, for a
  round number, through the *model calendar*: the ``(season, round, event, circuit)`` of every race
  the models were fitted on. The calendar comes from the bundled knowledge facts and is used only
  when they describe the same races as the models (``race_models_data_hash`` equals the models'
  ``data_hash_``); a round the calendar does not know is a 404 that lists the known circuits.
* **Field.** Drivers and teams of ``pace_`` for the season: the race of that season at that
  circuit when the models know it, else that season's latest race before it, else the latest
  season the models know.
* **Race.** Total laps from the :class:`~f1analyzer.models.race_models.CircuitModel`
  (the all-circuit model for a circuit the models never saw), allocation SOFT/MEDIUM/HARD,
  grid in pace order, everyone on new MEDIUMs.
"""

from __future__ import annotations

import pandas as pd

from f1analyzer.data.circuits import get_circuit, normalise, resolve_circuit
from f1analyzer.data.bundle import load_bundle
from f1analyzer.errors import NotFoundError
from f1analyzer.log import get_logger
from f1analyzer.simulation.core.params import DRY_COMPOUNDS

log = get_logger("simulation.field")

CALENDAR_COLUMNS = ["season", "round", "event", "circuit_key"]


def model_calendar(models) -> pd.DataFrame:
    """``(season, round, event, circuit_key)`` of the races the models were fitted on, from the
    bundled knowledge facts when they were written from the same data (else empty)."""
    empty = pd.DataFrame(columns=CALENDAR_COLUMNS)
    bundle = load_bundle()
    if not bundle or bundle.get("race_models_data_hash") != getattr(models, "data_hash_", None):
        return empty
    rows = [(int(f["season"]), int(f["round"]), str(f.get("event") or ""), str(f.get("circuit") or ""))
            for f in bundle.get("facts", []) if f.get("season") is not None and f.get("round") is not None]
    return pd.DataFrame(rows, columns=CALENDAR_COLUMNS).sort_values(["season", "round"], ignore_index=True)


def known_circuits(models) -> list[str]:
    return sorted(getattr(models, "circuits_", {}))


def _unknown_circuit(text: str, models, season: int, calendar: pd.DataFrame) -> NotFoundError:
    circuits = known_circuits(models)
    names = [c.name for k in circuits if (c := get_circuit(k))]
    events = list(calendar.loc[calendar["season"] == season, "event"]) if len(calendar) else []
    err = NotFoundError.with_suggestions("circuit", text, circuits + names + events)
    close = err.details.get("suggestions") or []
    err.message = (f"Unknown circuit {text!r}." + (" Did you mean: " + ", ".join(close) + "?" if close else "")
                   + " No laps are stored, so the race comes from the model set; its circuits: "
                   + ", ".join(circuits) + ".")
    err.args = (err.message,)
    err.details["options"] = circuits
    return err


def _calendar_race(text: str, key: str | None, season: int, calendar: pd.DataFrame) -> dict | None:
    """The calendar row of ``season`` named by ``text`` (round, event name) or circuit ``key``."""
    same = calendar[calendar["season"] == season]
    if same.empty:
        return None
    rows = same.to_dict("records")
    if text.isdigit():
        return next((r for r in rows if int(r["round"]) == int(text)), None)
    q = normalise(text)
    for r in rows:
        if q in (normalise(r["event"]), normalise(r["event"]).replace(" grand prix", "")):
            return r
    matches = [r for r in rows if key and r["circuit_key"] == key]
    if len(matches) > 1:
        raise NotFoundError(
            f"{text!r} matches several races of {season}: "
            + "; ".join(f"{r['round']}: {r['event']}" for r in matches) + ". Give the round number or the event name.",
            details={"suggestions": [r["event"] for r in matches]},
        )
    return matches[0] if matches else None


def model_race(season: int, event, models) -> dict:
    """A race row (like ``RaceStore.find_race``) built from the model set, for an empty store.

    Keys: ``season, round, event, circuit_key, total_laps, compounds`` and the private
    ``_field_from`` ((season, round) of ``pace_`` whose drivers race), ``_pace_at`` ((season,
    round) whose earlier races give the pre-race pace), ``_field_source`` ``"models"``.

    Raises:
        NotFoundError: the event names no circuit, or a round the models do not know (the message
            lists the known circuits).
    """
    season = int(season)
    text = str(event).strip()
    calendar = model_calendar(models)
    key = None if text.isdigit() else resolve_circuit(text)
    cal = _calendar_race(text, key, season, calendar)
    if cal is not None:
        key = str(cal["circuit_key"])
    if key is None:
        if text.isdigit():
            err = _unknown_circuit(f"round {text}", models, season, calendar)
            err.message = (f"Round {text} of {season} is not known to the model set and no laps are stored; "
                           "name the circuit instead. Known circuits: " + ", ".join(known_circuits(models)) + ".")
            err.args = (err.message,)
            raise err
        raise _unknown_circuit(text, models, season, calendar)

    pace = getattr(models, "pace_", pd.DataFrame(columns=["season", "round"]))
    if pace.empty:
        raise NotFoundError("The model set holds no driver pace, so there is no field to race. "
                            "Run `f1analyzer ingest` first.")
    races = pace[["season", "round"]].drop_duplicates().sort_values(["season", "round"])
    of_season = races[races["season"] == season]
    if cal is not None:
        rnd = int(cal["round"])
        here = of_season[of_season["round"] == rnd]
        before = of_season[of_season["round"] < rnd]
        field_from = (season, rnd) if len(here) else (
            (season, int(before["round"].iloc[-1])) if len(before) else None)
    else:
        rnd = int(of_season["round"].iloc[-1]) + 1 if len(of_season) else 1
        field_from = (season, int(of_season["round"].iloc[-1])) if len(of_season) else None
    if field_from is None:
        # the latest season the models know (before this one when there is one)
        earlier = races[races["season"] < season]
        last = (earlier if len(earlier) else races).iloc[-1]
        field_from = (int(last["season"]), int(last["round"]))
    # pace before the event; a season older than the models' first takes the field race's pace
    pace_at = (season, rnd) if season >= int(races["season"].iloc[0]) else (field_from[0], field_from[1] + 1)

    cm = getattr(models, "circuits_", {}).get(key)
    c = get_circuit(key)
    name = str(cal["event"]) if cal is not None else (c.events[0] if c and c.events else (c.name if c else key))
    total = int(cm.total_laps) if cm is not None else int(models.global_.total_laps)
    log.debug("model race %s %s: circuit %s, field of %s", season, name, key, field_from)
    return {"season": season, "round": rnd, "event": name, "circuit_key": key, "total_laps": total,
            "compounds": list(DRY_COMPOUNDS), "_field_from": field_from, "_pace_at": pace_at,
            "_field_source": "models"}


def model_field(models, season: int, rnd: int) -> tuple[list[dict], list[str]]:
    """(drivers with their team, ``"CODE (team)"`` of the added ones) of one race in ``pace_``.

    ``pace_`` only holds drivers with clean laps in that race, so a team of the season (as raced
    up to that round) with fewer than :data:`CARS_PER_TEAM` drivers there is completed with its
    drivers of the nearest races of the season (earlier first). Sorted by driver code.
    """
    p = models.pace_
    season_rows = p[p["season"] == int(season)]
    here = season_rows[season_rows["round"] == int(rnd)]
    team = {str(d): str(t) for d, t in zip(here["driver"], here["team"])}
    upto = season_rows[season_rows["round"] <= int(rnd)]
    others = season_rows[season_rows["round"] != int(rnd)]
    # nearest race first, an earlier one before a later one at the same distance
    near = sorted(zip(others["round"], others["driver"], others["team"]),
                  key=lambda r: (abs(int(r[0]) - int(rnd)), int(r[0]) > int(rnd)))
    added = []
    for _, code, t in near:
        code, t = str(code), str(t)
        if code in team or t not in set(upto["team"]) or sum(v == t for v in team.values()) >= CARS_PER_TEAM:
            continue
        team[code] = t
        added.append(f"{code} ({t})")
    return [{"driver": d, "team": team[d]} for d in sorted(team)], added


#: cars a team enters
CARS_PER_TEAM = 2


def field_note(row: dict, n_cars: int, added: list[str] = ()) -> str:
    fs, fr = row["_field_from"]
    same = (fs, fr) == (int(row["season"]), int(row["round"]))
    what = "this race" if same else f"{fs} round {fr}"
    note = (f"no laps are stored, so the field came from the model set: {n_cars} drivers and teams "
            f"from the driver pace table of {what}, grid in pace order, new MEDIUMs, "
            f"{row['total_laps']} laps from the {row['circuit_key']} circuit model")
    if added:
        note += "; without a pace row there, taken from the team's nearest race: " + ", ".join(added)
    return note


__all__ = ["model_calendar", "model_race", "model_field", "field_note", "known_circuits"]
