"""The embedded race store: one Parquet file of laps per season and session under ``<home>/store``.

Why one file per season: replacing a race means rewriting its season file aside and renaming it
over the old one (``os.replace`` is atomic), so a crash or a bad file mid-ingest leaves the previous
data exactly as it was, and re-ingesting the same rounds gives byte-identical files (idempotent).
The races table travels in the file's Parquet metadata; stints and pit stops are derived from the
laps on load (cheap) so they can never disagree with them.

Sessions: a weekend's Grand Prix (``session="race"``) lives in ``seasons/<season>.parquet`` as it
always has; its sprint (``session="sprint"``) in ``seasons/<season>.sprint.parquet``, with the same
round number. Every query returns Grand Prix data unless ``session="sprint"`` or ``session=None``
(both) is asked, so every model keeps fitting on races only.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import DataCorruptError, DataNotLoadedError, NotFoundError
from ..log import get_logger
from .circuits import get_circuit, normalise, resolve_circuit
from .derive import derive_tables
from .schema import (
    LAP_COLUMNS,
    PIT_STOP_COLUMNS,
    RACE,
    RACE_COLUMNS,
    SESSIONS,
    SPRINT,
    STINT_COLUMNS,
    STORE_LAP_COLUMNS,
    check_session,
    conform,
    empty_frame,
)

log = get_logger("data.store")

FORMAT_VERSION = 1
_META_KEY = b"f1analyzer.races"
_SEASON_FILE = re.compile(r"^(\d{4})(?:\.(sprint))?\.parquet$")


class RaceStore:
    """Parquet store of laps; races, stints and pit stops derived on load.

    Example:
        >>> store = RaceStore(settings.store_dir)
        >>> store.races(season=2021)           # one row per Grand Prix
        >>> store.races(2021, session=None)    # Grands Prix and sprints
        >>> store.laps(2021, 11).pick_drivers("HAM")
        >>> store.laps(2021, 10, session="sprint")
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._cache: dict[tuple[int, str], tuple[int, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]] = {}
        #: (season, session) → (mtime, why) of season files that could not be read: one bad file
        #: must not take every other season down with it (see ``_collect``)
        self._unreadable: dict[tuple[int, str], tuple[int, str]] = {}

    # ------------------------------------------------------------------ files
    @property
    def seasons_dir(self) -> Path:
        return self.root / "seasons"

    def _season_path(self, season: int, session: str = RACE) -> Path:
        suffix = "" if session == RACE else f".{session}"
        return self.seasons_dir / f"{int(season)}{suffix}.parquet"

    def season_files(self, session: str | None = RACE) -> list[tuple[int, str, Path]]:
        """(season, session, path) of every stored file of ``session`` (None: both), in order."""
        session = check_session(session)
        if not self.seasons_dir.is_dir():
            return []
        out = []
        for f in self.seasons_dir.iterdir():
            m = _SEASON_FILE.match(f.name)
            if m and (session is None or (m.group(2) or RACE) == session):
                out.append((int(m.group(1)), m.group(2) or RACE, f))
        return sorted(out, key=lambda t: (t[0], SESSIONS.index(t[1])))

    def seasons(self, session: str | None = RACE) -> list[int]:
        """Seasons with stored Grands Prix (``session="sprint"``: sprints; None: either)."""
        return sorted({s for s, _, _ in self.season_files(session)})

    @contextmanager
    def _write_lock(self):
        self.seasons_dir.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def unreadable(self) -> dict[tuple[int, str], str]:
        """(season, session) → why, for season files the last read could not use."""
        with self._lock:
            return {k: why for k, (_, why) in sorted(self._unreadable.items())}

    def _read_season(self, season: int, session: str = RACE) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """One season file, parsed (cached by mtime).

        Raises:
            DataCorruptError: the file cannot be read; recorded in ``unreadable()`` until a
                new file replaces it.
        """
        path = self._season_path(season, session)
        mtime = path.stat().st_mtime_ns
        with self._lock:
            hit = self._cache.get((season, session))
            if hit and hit[0] == mtime:
                return hit[1], hit[2], hit[3], hit[4]
            bad = self._unreadable.get((season, session))
        if bad is not None and bad[0] == mtime:
            raise self._corrupt(season, session, path, bad[1])
        try:
            parsed = self._parse_season(path, season, session)
        except Exception as exc:  # noqa: BLE001 - any failure to parse this file is this file's fault
            log.error("season file %s is unreadable: %s: %s", path, type(exc).__name__, exc)
            # the public message names the file, not the server's folders
            why = f"{type(exc).__name__}: {str(exc).replace(str(path), path.name)[:200]}"
            with self._lock:
                self._unreadable[(season, session)] = (mtime, why)
            raise self._corrupt(season, session, path, why) from exc
        with self._lock:
            self._unreadable.pop((season, session), None)
            self._cache[(season, session)] = (mtime, *parsed)
        return parsed

    @staticmethod
    def _corrupt(season: int, session: str, path: Path, why: str) -> DataCorruptError:
        what = f"season {season}" + ("" if session == RACE else f" ({session})")
        flag = "" if session == RACE else " --session sprint"
        return DataCorruptError(
            f"The stored data of {what} cannot be read ({why}). Re-ingest that season "
            f"(`f1analyzer ingest <laps files of {season}>{flag}`) or remove the file {path.name} "
            "from the store's seasons folder; other seasons are unaffected.",
            details={"season": int(season), "session": session, "file": path.name})

    def _parse_season(self, path: Path, season: int, session: str):
        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {}).get(_META_KEY, b'{"races": []}'))
        laps = table.to_pandas()
        # the file says which session it holds; files written before sessions existed are races
        laps["session"] = session
        laps, stints, stops = derive_tables(conform(laps, STORE_LAP_COLUMNS))
        laps = conform(laps, STORE_LAP_COLUMNS)
        races = pd.DataFrame(meta.get("races", []))
        if len(races):
            races["session"] = session
            races = conform(races, RACE_COLUMNS)
        else:
            races = empty_frame(RACE_COLUMNS)
        return races, laps, stints, stops

    def write_races(self, season: int, races: list[dict], laps: pd.DataFrame, *, session: str = RACE) -> None:
        """Insert or replace the given rounds of one session of ``season`` in one atomic file replacement.

        Args:
            races: race rows (``RACE_COLUMNS``) of the rounds being written.
            laps: canonical laps of exactly those rounds.
            session: "race" (the Grands Prix) or "sprint"; each has its own file per season.
        """
        session = check_session(session, allow_all=False)
        rounds = {int(r["round"]) for r in races}
        races = [{**r, "session": session} for r in races]
        laps = laps.assign(session=session)
        with self._write_lock():
            path = self._season_path(season, session)
            old_meta: list[dict] = []
            if path.exists():
                old = pq.read_table(path)
                old_meta = json.loads((old.schema.metadata or {}).get(_META_KEY, b'{"races": []}'))["races"]
                old_laps = old.to_pandas()
                old_laps = old_laps[~old_laps["round"].isin(rounds)]
                laps = pd.concat([old_laps, laps[list(LAP_COLUMNS)]], ignore_index=True)
            meta = [r for r in old_meta if int(r["round"]) not in rounds] + [_jsonable(r) for r in races]
            meta.sort(key=lambda r: int(r["round"]))
            laps = conform(laps.assign(session=session).sort_values(["round", "driver", "lap_number"]), STORE_LAP_COLUMNS)
            table = pa.Table.from_pandas(laps, preserve_index=False)
            table = table.replace_schema_metadata({
                **(table.schema.metadata or {}),
                _META_KEY: json.dumps({"format": FORMAT_VERSION, "races": meta}, sort_keys=True).encode(),
            })
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                pq.write_table(table, tmp, compression="zstd")
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
        log.info("stored season %s %s rounds %s", season, session, sorted(rounds))

    # ------------------------------------------------------------------ queries
    def _collect(self, idx: int, season: int | None, round: int | None, columns: dict,
                 session: str | None) -> pd.DataFrame:
        frames = []
        for s, sess, _ in self.season_files(session):
            if season is not None and s != int(season):
                continue
            try:
                df = self._read_season(s, sess)[idx]
            except DataCorruptError:
                if season is not None:
                    raise  # the season asked for is the broken one: say so (503 in the API)
                continue  # an all-seasons query answers from the readable ones; health reports the rest
            if round is not None:
                df = df[df["round"] == int(round)]
            frames.append(df)
        if not frames:
            return empty_frame(columns)
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)

    def races(self, season: int | None = None, round: int | None = None, *, session: str | None = RACE) -> pd.DataFrame:
        """One row per stored race (``RACE_COLUMNS``), ordered by season, round and session.

        ``session``: "race" (default, Grands Prix), "sprint", or None for both.
        """
        races = self._collect(0, season, round, RACE_COLUMNS, session)
        if session is None and len(races):
            # a weekend in the order it was run: the sprint before its Grand Prix
            order = races["session"].map({SPRINT: 0, RACE: 1}).fillna(1)
            races = races.assign(_o=order).sort_values(["season", "round", "_o"], kind="stable")
            races = races.drop(columns="_o").reset_index(drop=True)
        return races

    def laps(self, season: int | None = None, round: int | None = None, *, session: str | None = RACE):
        """Laps (``STORE_LAP_COLUMNS``: canonical laps + ``session``) of the Grands Prix unless
        ``session`` says otherwise."""
        from .session import Laps  # session.py builds on the store: imported here to avoid a cycle

        return Laps(self._collect(1, season, round, STORE_LAP_COLUMNS, session))

    def stints(self, season: int | None = None, round: int | None = None, *, session: str | None = RACE) -> pd.DataFrame:
        return self._collect(2, season, round, STINT_COLUMNS, session)

    def pit_stops(self, season: int | None = None, round: int | None = None, *, session: str | None = RACE) -> pd.DataFrame:
        return self._collect(3, season, round, PIT_STOP_COLUMNS, session)

    def is_empty(self) -> bool:
        return not self.season_files(None)

    def find_race(self, season: int, event: str | int, *, session: str = RACE) -> dict:
        """The stored race of ``season`` named by round number, event name, circuit or location.

        ``session="sprint"`` finds the sprint of that weekend instead of its Grand Prix.

        Raises:
            DataNotLoadedError: nothing of that season is stored.
            NotFoundError: no such race; the message lists close matches.
        """
        session = check_session(session, allow_all=False)
        races = self.races(season, session=session)
        if races.empty:
            if session != RACE:
                raise NotFoundError(f"No sprints of season {season} are stored.")
            stored = self.seasons()
            hint = f" Stored seasons: {', '.join(map(str, stored))}." if stored else " Run `f1analyzer ingest` first."
            raise DataNotLoadedError(f"No races of season {season} are stored.{hint}")
        text = str(event).strip()
        rows = races.to_dict("records")
        if text.isdigit():
            for r in rows:
                if int(r["round"]) == int(text):
                    return r
        q = normalise(text)
        for r in rows:
            if q in (normalise(r["event"]), normalise(r["event"]).replace(" grand prix", ""), normalise(r["circuit_key"])):
                return r
        key = resolve_circuit(text)
        matches = [r for r in rows if key and r["circuit_key"] == key]
        if len(matches) == 1:
            return matches[0]
        options = [f"{r['round']}: {r['event']}" for r in rows]
        if len(matches) > 1:
            raise NotFoundError(
                f"{text!r} matches several races of {season}: " + "; ".join(f"{r['round']}: {r['event']}" for r in matches)
                + ". Give the round number or the event name.",
                details={"suggestions": [r["event"] for r in matches]},
            )
        names = [r["event"] for r in rows] + [c.location for r in rows if (c := get_circuit(r["circuit_key"]))]
        err = NotFoundError.with_suggestions(f"race in {season}", text, names)
        err.details["options"] = options
        err.message += f" Races of {season}: " + ", ".join(options)
        err.args = (err.message,)
        raise err


def _jsonable(row: dict) -> dict:
    out = {}
    for k in RACE_COLUMNS:
        v = row.get(k)
        if hasattr(v, "item"):
            v = v.item()
        if k == "compounds":
            v = [str(x) for x in (v or [])]
        out[k] = v
    return out
