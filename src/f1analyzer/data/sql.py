"""Ad-hoc SQL over the store with DuckDB (``f1analyzer sql``), in the spirit of Datasette.

Tables: ``laps`` (a view over the season Parquet files, read in place), ``races``, ``stints`` and
``pit_stops`` (derived tables, registered from the store). Every table has a ``session`` column
("race" | "sprint") and holds both sessions: add ``WHERE session = 'race'`` for Grands Prix only. The connection is in-memory and only
read-only statements are accepted, so a query can never change the store.
"""

from __future__ import annotations

import re

import pandas as pd
import pyarrow.parquet as pq

from ..errors import DataNotLoadedError, InvalidRequestError
from .store import RaceStore

TABLES = ("laps", "races", "stints", "pit_stops")
_READ_ONLY = re.compile(r"^\s*(select|with|describe|show|summarize|explain|from)\b", re.IGNORECASE)


def _laps_view(store: RaceStore) -> str:
    """One SELECT over every season file; files written before sessions existed get theirs here."""
    parts = []
    for _, session, path in store.season_files(None):
        names = set(pq.read_schema(path).names)
        src = f"read_parquet({str(path)!r})"
        parts.append(f"SELECT * FROM {src}" if "session" in names
                     else f"SELECT *, {session!r} AS session FROM {src}")
    return " UNION ALL BY NAME ".join(parts)


def run_sql(store: RaceStore, query: str, *, max_rows: int = 10_000) -> pd.DataFrame:
    """Run one read-only SQL statement against the store.

    Example:
        >>> run_sql(store, "SELECT driver, count(*) AS laps FROM laps WHERE season = 2024 GROUP BY 1")

    Raises:
        DataNotLoadedError: nothing is stored yet.
        InvalidRequestError: not a read-only statement, or DuckDB refused it (its message says why).
    """
    import duckdb

    if not _READ_ONLY.match(query or "") or ";" in query.strip().rstrip(";"):
        raise InvalidRequestError(
            "Only one read-only statement (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN) is "
            f"allowed. Tables: {', '.join(TABLES)}."
        )
    if store.is_empty():
        raise DataNotLoadedError("The store is empty. Run `f1analyzer ingest` first.")
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"CREATE VIEW laps AS {_laps_view(store)}")
        for name in ("races", "stints", "pit_stops"):
            con.register(name, getattr(store, name)(session=None))
        try:
            rel = con.sql(query.strip().rstrip(";"))
            return rel.limit(max_rows).df() if rel is not None else pd.DataFrame()
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise InvalidRequestError(f"SQL error: {first} (tables: {', '.join(TABLES)})") from None
    finally:
        con.close()
