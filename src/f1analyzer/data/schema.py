"""The canonical tables: what a lap, a stint, a pit stop and a race are in this project.

FastF1 names columns in CamelCase and keeps times as ``Timedelta``; here every column says its
unit (``lap_time_s``) and times are float seconds, so models and the simulator work on plain
numbers. ``FASTF1_COLUMNS`` maps the FastF1 ``Session.laps`` names onto ours.
"""

from __future__ import annotations

import math

from dataclasses import dataclass

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
    "rejected_reasons": "object",  # {reason: rows} of this race's rejected rows
    "source": "string",
    "session": "string",
    "demo": "bool",  # one of the bundled demo races (issue 15): `f1analyzer demo remove` drops them
}

#: seasons the store accepts: FastF1's lap timing starts in 2018; the last one is next year
#: (a season's first race may be ingested before New Year in some time zones)
FIRST_SEASON = 2018


def last_season() -> int:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).year + 1


@dataclass(frozen=True)
class Bound:
    """Physical range of one canonical lap column (inclusive); ``integer``: whole numbers only."""

    low: float
    high: float
    integer: bool = False
    unit: str = ""

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        kind = "whole number " if self.integer else ""
        return f"{kind}{self.low:g}–{self.high:g}{unit}"


#: physical bounds of every numeric canonical lap column; a row outside them is rejected at
#: ingestion (counted by reason), never kept. Why these numbers (see docs/DATA.md):
#: - lap time 30 s – 1 h: the shortest lap of any venue is ~55 s; a lap that runs through a red-flag
#:   suspension is really that long (Monaco 2024 lap 1: 2,526 s), so the top is an hour, not 10 min;
#: - session times up to 6 h: a race may last 3 h plus suspensions (the 2018–2024 maximum is 4.5 h);
#: - rounds 1–30 (24 in 2024), lap numbers 1–100 (87 at Sakhir 2020), stints 1–15, tyre life 0–100
#:   laps, positions 1–30, car numbers 0–99, track status up to 8 status digits.
LAP_BOUNDS: dict[str, Bound] = {
    "round": Bound(1, 30, integer=True),
    "lap_number": Bound(1, 100, integer=True),
    "lap_time_s": Bound(30.0, 3600.0, unit="s"),
    "session_time_s": Bound(0.0, 6 * 3600.0, unit="s"),
    "pit_in_time_s": Bound(0.0, 6 * 3600.0, unit="s"),
    "pit_out_time_s": Bound(0.0, 6 * 3600.0, unit="s"),
    "stint": Bound(1, 15, integer=True),
    "tyre_life_laps": Bound(0, 100, integer=True),
    "position": Bound(1, 30, integer=True),
    "driver_number": Bound(0, 99, integer=True),
}
#: at most this many status digits in one lap's ``track_status`` (FastF1 concatenates them)
MAX_TRACK_STATUS_DIGITS = 8


def out_of_bounds(values: pd.Series, column: str) -> pd.Series:
    """True where a present value of ``column`` is outside :data:`LAP_BOUNDS` (inf and 1e308
    included); missing values are not judged here (whether a column may be empty is the reader's
    rule)."""
    b = LAP_BOUNDS[column]
    v = pd.to_numeric(values, errors="coerce").astype("float64")
    present = v.notna()
    bad = present & ~((v >= b.low) & (v <= b.high))  # NaN-safe: inf fails both comparisons' AND
    if b.integer:
        bad |= present & ~bad & (v % 1 != 0)
    return bad


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


def plain_value(v):
    """One cell of a lap, stint or stop table as a plain JSON value: missing (None, NaN, ``pd.NA``)
    is None, a numpy scalar its Python value."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return v.item() if hasattr(v, "item") else v


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
            # through pandas' nullable boolean: fillna on an object column of NA would downcast
            # (a FutureWarning pandas turns into a behaviour change)
            out[col] = s.astype("boolean").fillna(False).astype(bool)
        else:
            out[col] = s.astype(dtype)
    return out.reset_index(drop=True)
