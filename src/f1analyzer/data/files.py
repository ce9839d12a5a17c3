"""Reading FastF1-format lap files (CSV, CSV.gz, Parquet) into the canonical lap table.

Two shapes are accepted: the full column set of FastF1's ``Session.laps`` (times as
``"0 days 00:01:36.296000"``) and the reduced set of the shared data (``LapTime`` in seconds).
Every cell is parsed explicitly so that garbage is caught row by row: a row with an unusable value
is rejected and reported, the rest of the file is kept. An empty ``LapTime`` is *not* unusable —
FastF1 leaves lap 1 and some SC laps empty and those laps still happened.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import re
import stat
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import DataValidationError
from .schema import (
    DRY_COMPOUNDS,
    FASTF1_COLUMNS,
    FIRST_SEASON,
    KNOWN_COMPOUNDS,
    LAP_BOUNDS,
    LAP_COLUMNS,
    MAX_TRACK_STATUS_DIGITS,
    REQUIRED_FASTF1_COLUMNS,
    conform,
    last_season,
    out_of_bounds,
)

SUPPORTED_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
_DRIVER = re.compile(r"^[A-Z]{3}$")
_MAX_EXAMPLES = 5


@dataclass
class ValidationReport:
    """What happened to one file: rows read, kept and rejected (with reasons and examples)."""

    path: str
    season: int | None = None
    rows_read: int = 0
    rows_kept: int = 0
    reasons: Counter = field(default_factory=Counter)
    #: (row number in the file, 1-based after the header; reason; offending value)
    examples: list[tuple[int, str, str]] = field(default_factory=list)
    #: round → {reason: rejected rows}; rows whose round is unreadable or out of range are
    #: under ``None`` (they belong to no race, and are reported per season, not lost)
    reasons_by_round: dict[int | None, Counter] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return self.rows_read - self.rows_kept

    @property
    def rejected_by_round(self) -> Counter:
        """Rejected rows per (valid) round number."""
        return Counter({r: sum(c.values()) for r, c in self.reasons_by_round.items() if r is not None})

    def summary(self) -> str:
        if not self.rejected:
            return f"{self.path}: {self.rows_kept} laps, none rejected"
        parts = ", ".join(f"{n} {r}" for r, n in self.reasons.most_common())
        ex = "; ".join(f"row {i}: {r} ({v!r})" for i, r, v in self.examples)
        return f"{self.path}: {self.rows_kept} laps kept, {self.rejected} rejected ({parts}). e.g. {ex}"

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "season": self.season,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rejected": self.rejected,
            "reasons": dict(self.reasons),
            "rejected_by_round": {("unknown" if r is None else str(r)): dict(c)
                                  for r, c in sorted(self.reasons_by_round.items(),
                                                     key=lambda kv: (kv[0] is None, kv[0] or 0))},
            "examples": [{"row": i, "reason": r, "value": v} for i, r, v in self.examples],
        }


def is_lap_file(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and name.endswith(SUPPORTED_SUFFIXES)


def season_from_name(path: Path) -> int | None:
    m = _YEAR.findall(path.name)
    return int(m[0]) if m else None


class _LimitedReader(io.RawIOBase):
    """A byte stream that refuses to yield more than ``limit`` bytes (a gzip bomb, a huge file)."""

    def __init__(self, raw, limit: int, path: Path):
        self._raw, self._limit, self._path, self._read = raw, limit, path, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        n = self._raw.readinto(buf) if hasattr(self._raw, "readinto") else _copy_into(self._raw, buf)
        self._read += n or 0
        if self._read > self._limit:
            raise DataValidationError(
                f"{self._path.name}: more than {self._limit / 1e6:.0f} MB of lap data (after "
                "decompression); refused (limit: the ingest_max_file_mb setting)")
        return n


def _copy_into(raw, buf) -> int:
    data = raw.read(len(buf))
    buf[: len(data)] = data
    return len(data)


def open_regular(path: Path, *, follow_symlinks: bool = True):
    """Open ``path`` for reading only if it is a regular file; returns a binary file object.

    Opened non-blocking, so a FIFO cannot stall the reader (it is refused, like devices,
    sockets and folders); ``follow_symlinks=False`` refuses a symlink at the last component
    (the admin API opens the resolved path it checked, so a symlink there was swapped in).

    Raises:
        DataValidationError: missing, not a regular file, or cannot be opened.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow_symlinks else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise DataValidationError(f"{path}: no such file") from None
    except OSError as exc:
        why = "a symlink (refused)" if exc.errno == errno.ELOOP else exc.strerror
        raise DataValidationError(f"{path}: cannot be opened ({why})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "a folder" if stat.S_ISDIR(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file")
        raise DataValidationError(f"{path}: {kind}, not a regular file; only lap files are read")
    return os.fdopen(fd, "rb")


def read_raw(path: Path, *, max_bytes: int | None = None, follow_symlinks: bool = True) -> pd.DataFrame:
    """Read a file as-is (CSV cells as strings), turning every read failure into one clear error.

    Args:
        max_bytes: refuse a file larger than this, or a compressed CSV that inflates beyond it.
        follow_symlinks: False refuses a symlink (see :func:`open_regular`).
    """
    path = Path(path)
    name = path.name.lower()
    fh = open_regular(path, follow_symlinks=follow_symlinks)
    try:
        size = os.fstat(fh.fileno()).st_size
        if max_bytes is not None and size > max_bytes:
            raise DataValidationError(
                f"{path.name}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit per "
                "file (the ingest_max_file_mb setting); nothing from it was stored")
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(fh)
        stream = gzip.GzipFile(fileobj=fh) if name.endswith(".gz") else fh
        if max_bytes is not None:
            stream = io.BufferedReader(_LimitedReader(stream, max_bytes, path))
        return pd.read_csv(stream, dtype=str, keep_default_na=False, na_values=[], low_memory=False)
    except DataValidationError:
        raise
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        raise DataValidationError(
            f"{path}: file is truncated or corrupt ({exc}); nothing from it was stored"
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise DataValidationError(f"{path}: cannot be read as a lap table ({exc})") from None
    finally:
        fh.close()


def _blank(s: pd.Series) -> pd.Series:
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        return s.isna() | (s.astype("string").str.strip().fillna("").isin(["", "nan", "NaN", "NaT", "None"]))
    return s.isna()


def _seconds(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Seconds from floats or Timedelta strings; returns (values, unusable mask)."""
    if pd.api.types.is_timedelta64_dtype(s):
        return s.dt.total_seconds(), pd.Series(False, index=s.index)
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64"), pd.Series(False, index=s.index)
    blank = _blank(s)
    txt = s.astype("string").str.strip()
    vals = pd.to_numeric(txt.where(~blank), errors="coerce").astype("float64")
    todo = vals.isna() & ~blank
    if todo.any():
        td = pd.to_timedelta(txt[todo].astype(object), errors="coerce")
        vals.loc[todo] = td.dt.total_seconds()
    return vals, vals.isna() & ~blank


def _numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64"), pd.Series(False, index=s.index)
    blank = _blank(s)
    vals = pd.to_numeric(s.astype("string").str.strip().where(~blank), errors="coerce").astype("float64")
    return vals, vals.isna() & ~blank


def _booleans(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean")
    m = s.astype("string").str.strip().str.lower().map(
        {"true": True, "1": True, "1.0": True, "false": False, "0": False, "0.0": False}
    )
    return m.astype("boolean")


def _track_status(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_numeric_dtype(s):
        txt = s.map(lambda v: "" if pd.isna(v) else str(int(v)))
    else:
        txt = s.astype("string").str.strip().fillna("")
        txt = txt.str.replace(r"\.0$", "", regex=True)
    bad = ~txt.str.fullmatch(r"\d*").fillna(False)
    return txt.astype("string"), bad


def check_season(season: int, path: str = "<frame>") -> None:
    """Refuse a season outside the supported range (the whole file: every row has that season)."""
    if not FIRST_SEASON <= int(season) <= last_season():
        raise DataValidationError(
            f"{path}: season {season} is outside the supported range {FIRST_SEASON}–{last_season()} "
            "(lap timing exists from 2018); check --season or the year in the file name",
            details={"season": int(season)})


def to_canonical_laps(raw: pd.DataFrame, *, season: int, path: str = "<frame>") -> tuple[pd.DataFrame, ValidationReport]:
    """Map a FastF1-shaped frame onto ``LAP_COLUMNS``, rejecting unusable rows.

    Args:
        raw: a frame with FastF1 ``Session.laps`` column names (strings or typed values).
        season: the championship year of every row.
        path: shown in the report.

    Returns:
        (laps, report): canonical laps (plus an ``event`` column, and ``location`` when the frame
        has FastF1's ``Location``) and what was rejected.

    Raises:
        DataValidationError: required columns are missing.
    """
    missing = [c for c in REQUIRED_FASTF1_COLUMNS if c not in raw.columns]
    if missing:
        raise DataValidationError(
            f"{path}: missing required column(s): {', '.join(missing)} "
            f"(a FastF1 Session.laps table needs {', '.join(REQUIRED_FASTF1_COLUMNS)})",
            details={"missing_columns": missing},
        )
    check_season(season, path)
    report = ValidationReport(path=path, season=season, rows_read=len(raw))
    raw = raw.reset_index(drop=True)
    out = pd.DataFrame(index=raw.index)
    bad = pd.Series("", index=raw.index, dtype=object)
    # the round is read first so that every rejected row can be counted against its race
    rnd, rnd_bad = _numbers(raw["RoundNumber"])
    rnd_ok = ~rnd_bad & rnd.notna() & ~out_of_bounds(rnd, "round")

    def flag(mask: pd.Series, reason: str, values: pd.Series) -> None:
        new = mask.fillna(False).astype(bool) & (bad == "")
        if not new.any():
            return
        bad.loc[new] = reason
        report.reasons[reason] += int(new.sum())
        rounds = rnd[new].where(rnd_ok[new])
        for r, n in rounds.value_counts(dropna=False).items():
            key = None if pd.isna(r) else int(r)
            report.reasons_by_round.setdefault(key, Counter())[reason] += int(n)
        for i in new[new].index[: max(0, _MAX_EXAMPLES - len(report.examples))]:
            report.examples.append((int(i) + 2, reason, str(values.loc[i])))

    def bounded(values: pd.Series, column: str) -> pd.Series:
        return out_of_bounds(values, column)

    drv = raw["Driver"].astype("string").str.strip().str.upper()
    flag(~drv.fillna("").str.match(_DRIVER), "bad Driver (3-letter code expected)", raw["Driver"])
    out["driver"] = drv

    lap_no, lap_bad = _numbers(raw["LapNumber"])
    flag(lap_bad | lap_no.isna() | bounded(lap_no, "lap_number"), "bad LapNumber", raw["LapNumber"])
    out["lap_number"] = lap_no

    flag(~rnd_ok, "bad RoundNumber", raw["RoundNumber"])
    out["round"] = rnd

    event = raw["EventName"].astype("string").str.strip()
    flag(event.fillna("") == "", "missing EventName", raw["EventName"])
    out["event"] = event

    # an empty LapTime is allowed (lap 1, SC laps); a present one must be a physical lap time
    lt, lt_bad = _seconds(raw["LapTime"])
    flag(lt_bad, "unparseable LapTime", raw["LapTime"])
    flag(lt <= 0, "non-positive LapTime", raw["LapTime"])
    flag(bounded(lt, "lap_time_s"), f"LapTime out of range ({LAP_BOUNDS['lap_time_s'].describe()})",
         raw["LapTime"])
    out["lap_time_s"] = lt

    times = [("PitInTime", "pit_in_time_s"), ("PitOutTime", "pit_out_time_s")]
    if "Time" in raw.columns:
        times.append(("Time", "session_time_s"))
    for src, dst in times:
        v, b = _seconds(raw[src])
        flag(b, f"unparseable {src}", raw[src])
        flag(bounded(v, dst), f"{src} out of range ({LAP_BOUNDS[dst].describe()})", raw[src])
        out[dst] = v

    for src, dst in (("Stint", "stint"), ("TyreLife", "tyre_life_laps"), ("Position", "position")):
        v, b = _numbers(raw[src])
        flag(b | bounded(v, dst), f"bad {src}", raw[src])
        out[dst] = v
    if "DriverNumber" in raw.columns:
        v, b = _numbers(raw["DriverNumber"])
        flag(b | bounded(v, "driver_number"), "bad DriverNumber", raw["DriverNumber"])
        out["driver_number"] = v

    ts, ts_bad = _track_status(raw["TrackStatus"])
    flag(ts_bad, "bad TrackStatus (digits expected)", raw["TrackStatus"])
    flag(ts.str.len() > MAX_TRACK_STATUS_DIGITS,
         f"bad TrackStatus (at most {MAX_TRACK_STATUS_DIGITS} digits)", raw["TrackStatus"])
    out["track_status"] = ts

    comp = raw["Compound"].astype("string").str.strip().str.upper().fillna("UNKNOWN")
    out["compound"] = comp.where(comp.isin(KNOWN_COMPOUNDS), "UNKNOWN")
    if "CompoundName" in raw.columns:
        code = raw["CompoundName"].astype("string").str.strip().str.upper()
        out["compound_code"] = code.where(~code.isin(["", "UNKNOWN", "NAN"]))
    out["team"] = raw["Team"].astype("string").str.strip()
    for src, dst in (("FreshTyre", "fresh_tyre"), ("IsAccurate", "is_accurate")):
        if src in raw.columns:
            out[dst] = _booleans(raw[src])

    keep = bad == ""
    out = out[keep].copy()
    out["season"] = season
    # the same lap twice: keep the first, report the rest
    dup = out.duplicated(["round", "driver", "lap_number"], keep="first")
    if dup.any():
        report.reasons["duplicate lap"] += int(dup.sum())
        for i in dup[dup].index[: max(0, _MAX_EXAMPLES - len(report.examples))]:
            report.examples.append((int(i) + 2, "duplicate lap", f"{out.at[i, 'driver']} lap {out.at[i, 'lap_number']}"))
        for r, n in out.loc[dup, "round"].value_counts().items():
            report.reasons_by_round.setdefault(int(r), Counter())["duplicate lap"] += int(n)
        out = out[~dup]
    out["pit_in"] = out["pit_in_time_s"].notna()
    out["pit_out"] = out["pit_out_time_s"].notna()
    out["is_clean"] = clean_mask(out)
    report.rows_kept = len(out)
    order = out.sort_values(["round", "driver", "lap_number"]).index
    laps = conform(out.loc[order], LAP_COLUMNS)
    laps["event"] = out.loc[order, "event"].to_numpy()
    if "Location" in raw.columns:
        # the venue, when the source names it, decides the circuit (see circuits.circuit_for_event)
        laps["location"] = raw.loc[order, "Location"].astype("string").str.strip().to_numpy()
    return laps, report


def clean_mask(laps: pd.DataFrame) -> pd.Series:
    """A clean lap: green flag only, not an in/out lap, slick tyres, lap time present, lap > 1."""
    return (
        (laps["track_status"].astype("string").fillna("") == "1")
        & ~laps["pit_in"].astype(bool)
        & ~laps["pit_out"].astype(bool)
        & laps["compound"].isin(DRY_COMPOUNDS)
        & laps["lap_time_s"].notna()
        & (laps["lap_number"] > 1)
    ).astype(bool)


def read_lap_file(path: Path, *, season: int | None = None, max_bytes: int | None = None,
                  follow_symlinks: bool = True) -> tuple[pd.DataFrame, ValidationReport]:
    """Read one FastF1-format file. Season from ``season``, else a 4-digit year in the file name.

    ``max_bytes`` and ``follow_symlinks``: see :func:`read_raw` (the admin API sets both)."""
    path = Path(path)
    season = season or season_from_name(path)
    if season is None:
        raise DataValidationError(
            f"{path}: cannot tell the season; pass --season YEAR or put the year in the file name"
        )
    check_season(season, str(path))
    raw = read_raw(path, max_bytes=max_bytes, follow_symlinks=follow_symlinks)
    if raw.empty:
        raise DataValidationError(f"{path}: the file has no rows")
    return to_canonical_laps(raw, season=season, path=str(path))


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files given directly, plus lap files inside given folders (sorted)."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if is_lap_file(f)))
        elif not p.exists():
            raise DataValidationError(f"{p}: no such file or folder")
        else:
            files.append(p)
    if not files:
        raise DataValidationError(
            "no lap files found (expected .csv, .csv.gz or .parquet files in FastF1's Laps format)"
        )
    return files


__all__ = [
    "ValidationReport",
    "read_lap_file",
    "to_canonical_laps",
    "expand_paths",
    "clean_mask",
    "season_from_name",
]
