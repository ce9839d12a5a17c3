"""What the field really ran: each car's plan in a stored race, the race's *modal plan*, and the
modal plans of a circuit's earlier races.

The *modal plan* of a race is what its top-10 classified finishers mostly did: the most common
stop count, the most common compound sequence, and the median lap of the first stop among the
cars on that stop count (issue 11's definition; the backtest scores recommendations against it).
A tyre change made while the race was suspended (red flag) is no pit stop: it costs nothing and
is not part of a plan, so it counts in the compounds a car ran but not in its stops or its first
stop (2023 Interlagos: the top ten changed tyres in the lap-2 suspension; their first *stop* came
on lap 20–27, not on lap 2).
A pre-race answer shows the modal plans of the circuit's earlier races next to its own plan
(:func:`venue_history`): a strategist's first question about a plan is "what did the field do
here last year?", and where the two differ the reader should see it. Only races before the one
being planned are read, so an answer for a past race never sees its own result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from f1analyzer.data.derive import red_flag_changes
from f1analyzer.data.session import Race
from f1analyzer.models.features import era_label
from f1analyzer.simulation.core.params import TrackStatus
from f1analyzer.simulation.scenario.replay import real_stops, track_schedule

#: the modal plan is read from this many classified finishers
TOP_N = 10
#: earlier races of a circuit shown by default
HISTORY_RACES = 3


def pit_stops_only(race, stops: dict) -> dict:
    """``stops`` (:func:`~.replay.real_stops`) without the tyre changes made under a red flag
    (:func:`f1analyzer.data.derive.red_flag_changes` of the race's pit stops)."""
    red = {(d, lap) for _, _, d, lap in red_flag_changes(race.pit_stops)}
    if not red:
        return stops
    return {d: [s for s in rows if (str(d), int(s[0])) not in red] for d, rows in stops.items()}


def plans_in_order(race, stops: dict, sched) -> list[dict]:
    """Every car's real plan (``stops``: :func:`~.replay.real_stops`), in classification order:
    ``compounds`` as run, ``stops`` and ``first_stop_lap`` counting pit stops only (a change under
    a red flag is none, :func:`pit_stops_only`); ``green_stops`` counts the stops whose in-lap was
    green on ``sched`` (the planned part: a stop under SC or VSC is a reaction);
    ``red_flag_changes`` the tyre changes left out (``stops + red_flag_changes`` changes in all)."""
    stints = race.stints.sort_values(["driver", "stint"])
    pit = pit_stops_only(race, stops)
    out = []
    for d in race.results["driver"]:
        comps = [str(c) for c in stints.loc[stints["driver"] == d, "compound"]]
        s = pit.get(str(d), [])
        green = sum(1 for lap, _ in s if 1 <= lap <= sched.size and sched[lap - 1] == TrackStatus.GREEN)
        out.append({"driver": str(d), "stops": len(s), "green_stops": green, "compounds": comps,
                    "first_stop_lap": int(s[0][0]) if s else None,
                    "red_flag_changes": len(stops.get(str(d), [])) - len(s)})
    return out


def top_classified(race, plans: list[dict], n: int = TOP_N) -> list[dict]:
    """The top-``n`` *classified* finishers' plans (retirements never define the modal plan)."""
    res = race.results
    fin = set(res.loc[res["finished"].astype(bool), "driver"].astype(str))
    return [t for t in plans if t["driver"] in fin][:n]


def _mode(values: list):
    """Most common value; a tie goes to the value of the best-placed car (``values`` in finishing
    order), so the modal plan is always one a front-runner really ran."""
    if not values:
        return None
    counts: dict = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    top = max(counts.values())
    return next(v for v in values if counts[v] == top)


def modal_plan(top: list[dict]) -> dict:
    """The modal plan of a race from its top-10 classified finishers' plans (:func:`plans_in_order`)."""
    stops = _mode([t["stops"] for t in top])
    seq = _mode([tuple(t["compounds"]) for t in top])
    firsts = [t["first_stop_lap"] for t in top if t["stops"] == stops and t["first_stop_lap"] is not None]
    green = _mode([t["green_stops"] for t in top if "green_stops" in t])
    # what the field had planned, as far as the race shows it: its green-flag stops, at least one
    # (a dry race asks for two compounds). A proxy: a planned stop taken early under a SC/VSC
    # hides in it, e.g. a two-stopper whose second stop came under a late SC reads as one stop
    planned = _mode([max(t["green_stops"], 1) for t in top if "green_stops" in t])
    return {"stops": stops, "green_stops": green, "planned_stops": planned,
            "compounds": list(seq) if seq is not None else None,
            "median_first_stop_lap": float(np.median(firsts)) if firsts else None,
            "n_cars": len(top)}


def race_modal_plan(race) -> dict:
    """:func:`modal_plan` of a stored race, read from its laps alone."""
    total = int(race.results["laps"].max()) if len(race.results) else 0
    sched = track_schedule(race, max(total, 1))
    return modal_plan(top_classified(race, plans_in_order(race, real_stops(race), sched)))


def venue_history(store, circuit_key: str, season: int, rnd: int, *, limit: int = HISTORY_RACES) -> list[dict]:
    """The modal plans of the circuit's Grand Prix races stored *before* ``(season, rnd)``, newest
    first (at most ``limit``), each ``{"season", "round", "event", "era", "wet", "total_laps",
    "stops", "green_stops", "planned_stops", "compounds", "median_first_stop_lap", "n_cars"}``. A race whose laps
    are missing from the store is skipped; none stored: ``[]``."""
    races = store.races()
    if races.empty or not circuit_key:
        return []
    before = (races["season"].astype(int) * 100 + races["round"].astype(int)) < int(season) * 100 + int(rnd)
    mine = races[(races["circuit_key"] == circuit_key) & before]
    mine = mine.sort_values(["season", "round"], ascending=False)
    stamps = _season_stamps(store)
    out = []
    for row in mine.itertuples(index=False):
        if len(out) >= limit:
            break
        season, rnd_ = int(row.season), int(row.round)
        key = (stamps.get(season), season, rnd_)
        entry = _ENTRIES.get(key) if key[0] is not None else None
        if entry is None:
            entry = _race_entry(store, season, rnd_)
            if key[0] is not None:
                if len(_ENTRIES) >= _MAX_ENTRIES:
                    _ENTRIES.pop(next(iter(_ENTRIES)))
                _ENTRIES[key] = entry
        if entry:
            out.append({"season": season, "round": rnd_, "event": str(row.event), "era": era_label(season),
                        "total_laps": _int_or_none(getattr(row, "total_laps", None)),
                        **{k: list(v) if isinstance(v, list) else v for k, v in entry.items()}})
    return out


#: a race's modal plan is read once per version of its season file (pre-race answers ask for
#: the same circuits again and again; reading a race costs ~35 ms): (file, mtime, size), season,
#: round → {"wet", modal plan...} ({} for a race without laps), the oldest dropped past the bound
_ENTRIES: dict[tuple, dict] = {}
_MAX_ENTRIES = 512


def _season_stamps(store) -> dict[int, tuple]:
    """Season → (path, mtime, size) of its stored Grand Prix file: a new ingest changes it."""
    out = {}
    for season, _session, path in store.season_files():
        try:
            st = path.stat()
        except OSError:
            continue
        out[int(season)] = (str(path), st.st_mtime_ns, st.st_size)
    return out


def _race_entry(store, season: int, rnd: int) -> dict:
    race = Race(season, rnd, store=store)
    if race.results.empty or race.stints.empty:
        return {}
    return {"wet": bool(race.is_wet()), **race_modal_plan(race)}


def _int_or_none(x) -> int | None:
    return None if x is None or pd.isna(x) else int(x)


__all__ = ["HISTORY_RACES", "TOP_N", "modal_plan", "pit_stops_only", "plans_in_order", "race_modal_plan",
           "top_classified", "venue_history"]
