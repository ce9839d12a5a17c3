"""The recommended plan against the field's habit at the circuit: ``history_check`` of a
pre-race answer.

A pre-race answer carries ``field_history`` (what the top ten did at the circuit in its earlier
races, newest first: :func:`~f1analyzer.simulation.scenario.field_plans.venue_history`). A
strategist reads the plan against the last race that says something about this one: the newest
*dry* race of the *same car era* (a wet race's stops are the weather's; the 2022 cars wear their
tyres differently). :func:`history_check` makes that comparison from plain dicts, so it can be
tested, and reused by the CLI and the narrative, without building a race.
"""

from __future__ import annotations

from collections.abc import Sequence

#: where the field's median first stop fell against the plan's first pit window
INSIDE, BEFORE, AFTER = "inside", "before", "after"


def comparable_race(field_history: Sequence[dict], era: str) -> dict | None:
    """The newest dry race of ``era`` in ``field_history`` (newest first) whose modal stop count
    is known; None when there is none."""
    for race in field_history:
        if race.get("era") == era and not race.get("wet") and race.get("stops") is not None:
            return race
    return None


def first_stop_vs_window(lap: float | None, window: Sequence[int] | None) -> str | None:
    """``"before"`` when ``lap`` comes before the window opens, ``"after"`` when it comes after it
    closes, ``"inside"`` otherwise; None when either is unknown."""
    if lap is None or not window:
        return None
    lo, hi = window[0], window[-1]
    if lap < lo:
        return BEFORE
    if lap > hi:
        return AFTER
    return INSIDE


def history_check(plan: dict | None, field_history: Sequence[dict], era: str) -> dict | None:
    """The rank-1 option ``plan`` (``{"stops", "compounds", "pit_windows"}``, as in an answer's
    ``strategies``) against the newest dry race of ``era`` in ``field_history``.

    Returns:
        ``{"season", "round", "event", "field_stops", "field_green_stops", "field_compounds",
        "field_median_first_stop_lap", "plan_stops", "plan_compounds", "plan_first_stop_window"
        ([first, last] lap or None: a no-stop plan has none), "same_stop_count",
        "first_stop_vs_window" ("inside" | "before" | "after" | None)}``, or None when there is no
        plan or no comparable race.
    """
    race = comparable_race(field_history, era)
    if plan is None or race is None:
        return None
    windows = plan.get("pit_windows") or []
    window = [int(windows[0][0]), int(windows[0][-1])] if windows else None
    plan_stops = int(plan.get("stops", len(windows)))
    median_lap = race.get("median_first_stop_lap")
    return {
        "season": int(race["season"]), "round": int(race["round"]), "event": race.get("event"),
        "field_stops": int(race["stops"]),
        # the planned part: a stop under SC or VSC is a reaction, so the reader is told how many
        # were green (a change during a red flag is no stop at all: field_plans.pit_stops_only)
        "field_green_stops": None if race.get("green_stops") is None else int(race["green_stops"]),
        "field_compounds": list(race.get("compounds") or []),
        "field_median_first_stop_lap": None if median_lap is None else float(median_lap),
        "plan_stops": plan_stops, "plan_compounds": list(plan.get("compounds") or []),
        "plan_first_stop_window": window,
        "same_stop_count": plan_stops == int(race["stops"]),
        "first_stop_vs_window": first_stop_vs_window(median_lap, window),
    }


__all__ = ["AFTER", "BEFORE", "INSIDE", "comparable_race", "first_stop_vs_window", "history_check"]
