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
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import (
    DataCorruptError,
    DataNotLoadedError,
    DataValidationError,
    NotFoundError,
)
from ..log import get_logger
from .circuits import get_circuit, normalise, resolve_circuit
from .derive import derive_tables
from .schema import (
    LAP_BOUNDS,
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
    out_of_bounds,
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
        self._cache: dict[tuple[int, str], tuple] = {}
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
    def _write_lock(self, should_stop: Callable[[], None] | None = None):
        """The store's write lock (one writer across processes). With ``should_stop`` the wait
        polls it, so a cancelled job does not wait behind another writer."""
        self.seasons_dir.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as fh:
            if should_stop is None:
                fcntl.flock(fh, fcntl.LOCK_EX)
            else:
                while True:
                    should_stop()
                    try:
                        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def unreadable(self) -> dict[tuple[int, str], str]:
        """(season, session) → why, for season files the last read could not use."""
        with self._lock:
            return {k: why for k, (_, why) in sorted(self._unreadable.items())}

    def _read_season(self, season: int, session: str = RACE) -> tuple:
        """One season file, parsed (cached by mtime): (races, laps, stints, pit stops, unassigned rejections).

        Raises:
            DataCorruptError: the file cannot be read; recorded in ``unreadable()`` until a
                new file replaces it.
        """
        path = self._season_path(season, session)
        mtime = path.stat().st_mtime_ns
        with self._lock:
            hit = self._cache.get((season, session))
            if hit and hit[0] == mtime:
                return hit[1:]
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
            # files written before reasons were kept: no reasons known
            reasons = races["rejected_reasons"] if "rejected_reasons" in races else pd.Series(None, index=races.index)
            races["rejected_reasons"] = [r if isinstance(r, dict) else {} for r in reasons]
            races = conform(races, RACE_COLUMNS)
        else:
            races = empty_frame(RACE_COLUMNS)
        unassigned = [{"season": int(season), "session": session, "source": src, **rec}
                      for src, rec in sorted(meta.get("rejected_unassigned", {}).items())]
        return races, laps, stints, stops, unassigned

    def write_races(self, season: int, races: list[dict], laps: pd.DataFrame, *, session: str = RACE,
                    max_drop_share: float | None = None, source: str | None = None,
                    rejected_unassigned: dict | None = None,
                    should_stop: Callable[[], None] | None = None) -> None:
        """Insert or replace the given rounds of one session of ``season`` in one atomic file replacement.

        Args:
            races: race rows (``RACE_COLUMNS``) of the rounds being written.
            laps: canonical laps of exactly those rounds.
            session: "race" (the Grands Prix) or "sprint"; each has its own file per season.
            max_drop_share: refuse (``ShrinkRefusedError``, nothing written) when a stored race or
                the season would lose more than this share of its laps; None: no check (replace).
            source, rejected_unassigned: ``{"rows", "reasons"}`` of the rows of ``source`` that
                belong to no stored race (bad round...), kept in the season's metadata so that
                ``races`` can report them; ``None`` or no rows clears that source's record.
            should_stop: called while waiting for the write lock and right before the commit;
                raises to abandon the write (a cancelled or timed-out job): nothing is written.

        Raises:
            DataValidationError: a lap outside the physical bounds (``schema.LAP_BOUNDS``) got here.
        """
        session = check_session(session, allow_all=False)
        rounds = {int(r["round"]) for r in races}
        races = [{**r, "session": session} for r in races]
        laps = laps.assign(session=session)
        check_lap_bounds(laps, f"season {season}")
        with self._write_lock(should_stop):
            path = self._season_path(season, session)
            old_meta: dict = {}
            old_counts: dict[int, int] = {}
            old_laps = self._read_for_update(path)
            if old_laps is not None:
                old_laps, old_meta = old_laps
                old_counts = {int(r): int(n) for r, n in old_laps["round"].value_counts().items()}
                kept = old_laps[~old_laps["round"].isin(rounds)]
                laps = pd.concat([kept, laps[list(LAP_COLUMNS)]], ignore_index=True)
            if max_drop_share is not None and old_counts:
                _check_shrink(season, session, old_counts, laps, rounds, max_drop_share, source)
            meta = [r for r in old_meta.get("races", []) if int(r["round"]) not in rounds] + [_jsonable(r) for r in races]
            meta.sort(key=lambda r: int(r["round"]))
            unassigned = dict(old_meta.get("rejected_unassigned", {}))
            if source is not None:
                unassigned.pop(source, None)
                if rejected_unassigned and rejected_unassigned.get("rows"):
                    unassigned[source] = {"rows": int(rejected_unassigned["rows"]),
                                          "reasons": {str(k): int(v) for k, v in rejected_unassigned["reasons"].items()}}
            laps = conform(laps.assign(session=session).sort_values(["round", "driver", "lap_number"]), STORE_LAP_COLUMNS)
            table = pa.Table.from_pandas(laps, preserve_index=False)
            payload = {"format": FORMAT_VERSION, "races": meta}
            if unassigned:
                payload["rejected_unassigned"] = unassigned
            table = table.replace_schema_metadata({
                **(table.schema.metadata or {}),
                _META_KEY: json.dumps(payload, sort_keys=True).encode(),
            })
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                pq.write_table(table, tmp, compression="zstd")
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
                if should_stop is not None:
                    should_stop()  # the last moment a cancel can still leave the season as it was
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
        log.info("stored season %s %s rounds %s", season, session, sorted(rounds))

    def remove_races(self, season: int, rounds: set[int] | list[int], *, session: str = RACE) -> list[int]:
        """Remove these rounds of one session of ``season`` in one atomic file replacement (the
        file goes when nothing is left). Returns the rounds that were stored; removing rounds
        that are not stored changes nothing (idempotent)."""
        session = check_session(session, allow_all=False)
        rounds = {int(r) for r in rounds}
        with self._write_lock():
            path = self._season_path(season, session)
            old = self._read_for_update(path)
            if old is None:
                return []
            laps, meta = old
            races = meta.get("races", [])
            gone = sorted(int(r["round"]) for r in races if int(r["round"]) in rounds)
            if not gone:
                return []
            kept_races = [r for r in races if int(r["round"]) not in rounds]
            if not kept_races:
                path.unlink()
            else:
                laps = laps[~laps["round"].isin(rounds)]
                table = pa.Table.from_pandas(conform(laps, STORE_LAP_COLUMNS), preserve_index=False)
                payload = {**meta, "races": kept_races}
                self._replace_file(path, table.replace_schema_metadata({
                    **(table.schema.metadata or {}), _META_KEY: json.dumps(payload, sort_keys=True).encode()}))
        log.info("removed season %s %s rounds %s", season, session, gone)
        return gone

    @staticmethod
    def _replace_file(path: Path, table: pa.Table) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            pq.write_table(table, tmp, compression="zstd")
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def _read_for_update(path: Path) -> tuple[pd.DataFrame, dict] | None:
        """(laps, metadata) of the season file being replaced; None when there is none or it is
        unreadable (re-ingesting is how a corrupt season is repaired: the new file replaces it)."""
        if not path.exists():
            return None
        try:
            old = pq.read_table(path)
            meta = json.loads((old.schema.metadata or {}).get(_META_KEY, b'{"races": []}'))
            return old.to_pandas(), meta
        except Exception as exc:  # noqa: BLE001 - any unreadable file is replaced, not merged
            log.warning("season file %s is unreadable (%s: %s); replacing it", path.name,
                        type(exc).__name__, exc)
            return None

    def rejections(self, season: int | None = None, session: str | None = None) -> list[dict]:
        """Rows rejected at ingestion that belong to no stored race (an unreadable or out-of-range
        round...): ``[{"season", "session", "source", "rows", "reasons"}]`` per season file and
        source file. Rejected rows of a stored race are in its ``rejected``/``rejected_reasons``."""
        out: list[dict] = []
        for s, sess, _ in self.season_files(session):
            if season is not None and s != int(season):
                continue
            try:
                out.extend(self._read_season(s, sess)[4])
            except DataCorruptError:
                continue  # reported by unreadable()
        return out

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


class ShrinkRefusedError(DataValidationError):
    """A file would replace stored races with far fewer laps (a partly broken file): refused
    unless the caller says to replace (``--replace`` / ``"replace": true``)."""

    code = "would_drop_laps"


def _check_shrink(season: int, session: str, old_counts: dict[int, int], new_laps: pd.DataFrame,
                  rounds: set[int], max_share: float, source: str | None) -> None:
    """Raise :class:`ShrinkRefusedError` when a stored race of ``rounds`` or the whole season
    would lose more than ``max_share`` of its laps."""
    new_counts = new_laps["round"].value_counts()
    drops = []
    for r in sorted(rounds):
        old, new = old_counts.get(r, 0), int(new_counts.get(r, 0))
        if old and new < old * (1 - max_share):
            drops.append({"round": r, "stored_laps": old, "new_laps": new})
    old_total, new_total = sum(old_counts.values()), int(len(new_laps))
    if not drops and not (old_total and new_total < old_total * (1 - max_share)):
        return
    what = f"season {season}" + ("" if session == RACE else f" ({session})")
    parts = "; ".join(f"round {d['round']}: {d['stored_laps']} → {d['new_laps']} laps" for d in drops[:5])
    raise ShrinkRefusedError(
        f"{source or 'the input'} would drop more than {max_share:.0%} of the stored laps of {what} "
        f"({old_total} → {new_total} laps{'; ' + parts if parts else ''}); nothing was written. "
        "Check the file's rejected rows, or pass --replace (CLI) / \"replace\": true (admin API) to "
        "replace the stored races anyway.",
        details={"season": int(season), "session": session, "stored_laps": old_total,
                 "new_laps": new_total, "races": drops, "max_drop_share": max_share})


def check_lap_bounds(laps: pd.DataFrame, what: str) -> None:
    """The store's last gate: no lap outside ``LAP_BOUNDS`` is ever written (ingestion rejects
    such rows one by one before; anything reaching here is a bug in a source)."""
    for col in LAP_BOUNDS:
        if col in laps.columns:
            bad = out_of_bounds(laps[col], col)
            if bad.any():
                raise DataValidationError(
                    f"{what}: {int(bad.sum())} lap(s) with {col} outside {LAP_BOUNDS[col].describe()} "
                    f"(e.g. {laps.loc[bad, col].iloc[0]!r}); nothing was written",
                    details={"column": col})


def _jsonable(row: dict) -> dict:
    out = {}
    for k in RACE_COLUMNS:
        v = row.get(k)
        if hasattr(v, "item"):
            v = v.item()
        if k == "compounds":
            v = [str(x) for x in (v or [])]
        elif k == "rejected_reasons":
            v = {str(r): int(n) for r, n in sorted((v or {}).items())}
        out[k] = v
    return out
