"""The canonical tables: what a lap, a stint, a pit stop and a race are in this project.

FastF1 names columns in CamelCase and keeps times as ``Timedelta``; here every column says its
unit (``lap_time_s``) and times are float seconds, so models and the simulator work on plain
numbers. ``FASTF1_COLUMNS`` maps the FastF1 ``Session.laps`` names onto ours.
"""

from __future__ import annotations

import pandas as pd

from ..errors import InvalidRequestError

#: canonical lap table, name → pandas dtype
LAP_COLUMNS: dict[str, str] = {
    "season": "int16",
    "round": "int16",
    "driver": "string",
    "driver_number": "Int16",
    "team": "string",
    "lap_number": "int16",
    "lap_time_s": "float64",
    "session_time_s": "float64",
    "stint": "Int8",
    "compound": "string",
    "compound_code": "string",
    "tyre_life_laps": "float32",
    "fresh_tyre": "boolean",
    "pit_in": "bool",
    "pit_out": "bool",
    "pit_in_time_s": "float64",
    "pit_out_time_s": "float64",
    "track_status": "string",
    "position": "Int8",
    "is_accurate": "boolean",
    "is_clean": "bool",
}

#: laps as the store keeps and returns them: the canonical laps plus the weekend's session
#: ("race" | "sprint"). Sources produce ``LAP_COLUMNS``; the store adds the session it was told.
STORE_LAP_COLUMNS: dict[str, str] = {**LAP_COLUMNS, "session": "string"}

STINT_COLUMNS: dict[str, str] = {
    "season": "int16",
    "round": "int16",
    "driver": "string",
    "team": "string",
    "stint": "Int8",
    "compound": "string",
    "compound_code": "string",
    "start_lap": "int16",
    "end_lap": "int16",
    "laps": "int16",
    "tyre_life_start": "float32",
    "fresh_tyre": "boolean",
    "session": "string",
}

PIT_STOP_COLUMNS: dict[str, str] = {
    "season": "int16",
    "round": "int16",
    "driver": "string",
    "stop_number": "int8",
    "lap": "int16",
    "duration_s": "float64",
    "compound_before": "string",
    "compound_after": "string",
    "track_status": "string",
    "under_sc": "bool",
    "under_vsc": "bool",
    "under_red_flag": "bool",
    "session": "string",
}

RACE_COLUMNS: dict[str, str] = {
    "season": "int16",
    "round": "int16",
    "event": "string",
    "circuit_key": "string",
    "total_laps": "int16",
    "compounds": "object",  # list[str], the event's dry compounds hardest → softest, or []
    "laps": "int32",
    "drivers": "int16",
    "rejected": "int32",
    "source": "string",
    "session": "string",
}

#: the sessions of a weekend the store keeps: the Grand Prix and, on sprint weekends, the sprint
#: (``round`` is the weekend's round, so a sprint and its Grand Prix share it)
RACE = "race"
SPRINT = "sprint"
SESSIONS: tuple[str, ...] = (RACE, SPRINT)

#: FastF1 ``Session.laps`` column → canonical column
FASTF1_COLUMNS: dict[str, str] = {
    "Driver": "driver",
    "DriverNumber": "driver_number",
    "Team": "team",
    "LapNumber": "lap_number",
    "LapTime": "lap_time_s",
    "Time": "session_time_s",
    "Stint": "stint",
    "Compound": "compound",
    "CompoundName": "compound_code",
    "TyreLife": "tyre_life_laps",
    "FreshTyre": "fresh_tyre",
    "PitInTime": "pit_in_time_s",
    "PitOutTime": "pit_out_time_s",
    "TrackStatus": "track_status",
    "Position": "position",
    "IsAccurate": "is_accurate",
    "RoundNumber": "round",
    "EventName": "event",
}

#: a file must have these FastF1 columns, or it is refused with the list of what is missing
REQUIRED_FASTF1_COLUMNS: tuple[str, ...] = (
    "Driver",
    "LapNumber",
    "LapTime",
    "Stint",
    "Compound",
    "TyreLife",
    "PitInTime",
    "PitOutTime",
    "TrackStatus",
    "Position",
    "Team",
    "RoundNumber",
    "EventName",
)

DRY_COMPOUNDS: tuple[str, ...] = ("SOFT", "MEDIUM", "HARD")
WET_COMPOUNDS: tuple[str, ...] = ("INTERMEDIATE", "WET")
KNOWN_COMPOUNDS: tuple[str, ...] = DRY_COMPOUNDS + WET_COMPOUNDS + ("UNKNOWN",)

GREEN = "1"
SAFETY_CAR = "4"
RED_FLAG = "5"
VSC = "6"
VSC_ENDING = "7"


def check_session(session: str | None, *, allow_all: bool = True) -> str | None:
    """``session`` normalised ("race" | "sprint"; ``None``/"all" = both when ``allow_all``).

    Raises:
        InvalidRequestError: anything else (the message lists the choices).
    """
    if session is None or (allow_all and str(session).strip().lower() in ("all", "both", "")):
        if not allow_all:
            raise InvalidRequestError(f"a session is required: one of {', '.join(SESSIONS)}")
        return None
    s = str(session).strip().lower()
    if s not in SESSIONS:
        choices = ", ".join(SESSIONS) + (" or all" if allow_all else "")
        raise InvalidRequestError(f"unknown session {session!r}: use {choices}",
                                  details={"options": list(SESSIONS)})
    return s


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})


def conform(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Select and order ``columns``, cast each to its declared dtype."""
    out = pd.DataFrame(index=df.index)
    for col, dtype in columns.items():
        s = df[col] if col in df.columns else pd.Series(pd.NA, index=df.index)
        if dtype == "object":
            out[col] = s
        elif dtype == "bool":
            out[col] = s.fillna(False).astype(bool)
        else:
            out[col] = s.astype(dtype)
    return out.reset_index(drop=True)
