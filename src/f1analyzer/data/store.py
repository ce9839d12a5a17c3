"""The embedded race store: one Parquet file of laps per season under ``<home>/store``.

Why one file per season: replacing a race means rewriting its season file aside and renaming it
over the old one (``os.replace`` is atomic), so a crash or a bad file mid-ingest leaves the previous
data exactly as it was, and re-ingesting the same rounds gives byte-identical files (idempotent).
The races table travels in the file's Parquet metadata; stints and pit stops are derived from the
laps on load (cheap) so they can never disagree with them.
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

from ..errors import DataNotLoadedError, NotFoundError
from ..log import get_logger
from .circuits import get_circuit, normalise, resolve_circuit
from .derive import derive_tables
from .schema import LAP_COLUMNS, PIT_STOP_COLUMNS, RACE_COLUMNS, STINT_COLUMNS, conform, empty_frame

log = get_logger("data.store")

FORMAT_VERSION = 1
_META_KEY = b"f1analyzer.races"
_SEASON_FILE = re.compile(r"^(\d{4})\.parquet$")


class RaceStore:
    """Parquet store of laps; races, stints and pit stops derived on load.

    Example:
        >>> store = RaceStore(settings.store_dir)
        >>> store.races(season=2021)           # one row per Grand Prix
        >>> store.laps(2021, 11).pick_drivers("HAM")
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._cache: dict[int, tuple[float, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]] = {}

    # ------------------------------------------------------------------ files
    @property
    def seasons_dir(self) -> Path:
        return self.root / "seasons"

    def _season_path(self, season: int) -> Path:
        return self.seasons_dir / f"{int(season)}.parquet"

    def seasons(self) -> list[int]:
        if not self.seasons_dir.is_dir():
            return []
        return sorted(int(m.group(1)) for f in self.seasons_dir.iterdir() if (m := _SEASON_FILE.match(f.name)))

    @contextmanager
    def _write_lock(self):
        self.seasons_dir.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _read_season(self, season: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        path = self._season_path(season)
        mtime = path.stat().st_mtime_ns
        with self._lock:
            hit = self._cache.get(season)
            if hit and hit[0] == mtime:
                return hit[1], hit[2], hit[3], hit[4]
        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {}).get(_META_KEY, b'{"races": []}'))
        laps = conform(table.to_pandas(), LAP_COLUMNS)
        laps, stints, stops = derive_tables(laps)
        races = pd.DataFrame(meta.get("races", []))
        races = conform(races, RACE_COLUMNS) if len(races) else empty_frame(RACE_COLUMNS)
        with self._lock:
            self._cache[season] = (mtime, races, laps, stints, stops)
        return races, laps, stints, stops

    def write_races(self, season: int, races: list[dict], laps: pd.DataFrame) -> None:
        """Insert or replace the given rounds of ``season`` in one atomic file replacement.

        Args:
            races: race rows (``RACE_COLUMNS``) of the rounds being written.
            laps: canonical laps of exactly those rounds.
        """
        rounds = {int(r["round"]) for r in races}
        with self._write_lock():
            path = self._season_path(season)
            old_meta: list[dict] = []
            if path.exists():
                old = pq.read_table(path)
                old_meta = json.loads((old.schema.metadata or {}).get(_META_KEY, b'{"races": []}'))["races"]
                old_laps = old.to_pandas()
                old_laps = old_laps[~old_laps["round"].isin(rounds)]
                laps = pd.concat([old_laps, laps[list(LAP_COLUMNS)]], ignore_index=True)
            meta = [r for r in old_meta if int(r["round"]) not in rounds] + [_jsonable(r) for r in races]
            meta.sort(key=lambda r: int(r["round"]))
            laps = conform(laps.sort_values(["round", "driver", "lap_number"]), LAP_COLUMNS)
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
        log.info("stored season %s rounds %s", season, sorted(rounds))

    # ------------------------------------------------------------------ queries
    def _collect(self, idx: int, season: int | None, round: int | None, columns: dict) -> pd.DataFrame:
        seasons = self.seasons() if season is None else [int(season)]
        frames = []
        for s in seasons:
            if not self._season_path(s).exists():
                continue
            df = self._read_season(s)[idx]
            if round is not None:
                df = df[df["round"] == int(round)]
            frames.append(df)
        if not frames:
            return empty_frame(columns)
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)

    def races(self, season: int | None = None) -> pd.DataFrame:
        """One row per stored race (``RACE_COLUMNS``), ordered by season and round."""
        return self._collect(0, season, None, RACE_COLUMNS)

    def laps(self, season: int | None = None, round: int | None = None):
        # session imports this module (import cycle at module level)
        from .session import Laps

        return Laps(self._collect(1, season, round, LAP_COLUMNS))

    def stints(self, season: int | None = None, round: int | None = None) -> pd.DataFrame:
        return self._collect(2, season, round, STINT_COLUMNS)

    def pit_stops(self, season: int | None = None, round: int | None = None) -> pd.DataFrame:
        return self._collect(3, season, round, PIT_STOP_COLUMNS)

    def is_empty(self) -> bool:
        return not self.seasons()

    def find_race(self, season: int, event: str | int) -> dict:
        """The stored race of ``season`` named by round number, event name, circuit or location.

        Raises:
            DataNotLoadedError: nothing of that season is stored.
            NotFoundError: no such race; the message lists close matches.
        """
        races = self.races(season)
        if races.empty:
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
