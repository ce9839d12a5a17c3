"""Ingestion: lap tables from any source → validated canonical laps → the store.

Each input file is read and validated completely before anything is written; each season touched
is then replaced in one atomic step. A refused file (truncated, missing columns, no season) is
reported and leaves the store exactly as it was; other files still go in.

Sprints: a file holds either Grand Prix laps or sprint laps (same columns, ``RoundNumber`` the
weekend's round). Which one is said by ``session=`` or, by default, by the file's path: a file in a
folder named ``sprint``/``sprints`` or with "sprint" in its name holds sprints
(:func:`session_from_path`); everything else is a Grand Prix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import DataValidationError
from ..log import get_logger
from .circuits import circuit_for_event
from .compounds import code_for, find_allocation_file, load_allocation
from .files import ValidationReport, expand_paths, read_lap_file
from .schema import RACE, SPRINT, check_session
from .store import RaceStore

log = get_logger("data.ingest")


@dataclass
class IngestResult:
    """Outcome for one input (a file, or one live fetch)."""

    source: str
    season: int | None = None
    session: str = RACE
    rounds: list[int] = field(default_factory=list)
    report: ValidationReport | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "season": self.season,
            "session": self.session,
            "rounds": self.rounds,
            "ok": self.ok,
            "error": self.error,
            "report": self.report.to_dict() if self.report else None,
        }


def session_from_path(path: Path) -> str:
    """"sprint" for a file in a ``sprint``/``sprints`` folder or named like one, else "race"."""
    parts = [p.lower() for p in Path(path).parts[:-1]]
    if any(p in ("sprint", "sprints") for p in parts) or SPRINT in Path(path).name.lower():
        return SPRINT
    return RACE


def race_rows(laps: pd.DataFrame, *, season: int, source: str, rejected_by_round: dict[int, int],
              allocation: dict[tuple[int, int], list[str]] | None = None, session: str = RACE,
              reasons_by_round: dict | None = None, demo: bool = False) -> list[dict]:
    """One races-table row per round present in ``laps`` (which has an ``event`` column)."""
    rows = []
    for rnd, g in laps.groupby("round", sort=True):
        event = str(g["event"].mode().iat[0])
        loc = g["location"].dropna().mode() if "location" in g.columns else pd.Series(dtype=object)
        location = str(loc.iat[0]) if len(loc) else None
        compounds = list((allocation or {}).get((season, int(rnd)), []))
        if not compounds and g["compound_code"].notna().any():
            pairs = g.dropna(subset=["compound_code"]).groupby("compound")["compound_code"].agg(lambda s: s.mode().iat[0])
            if all(c in pairs.index for c in ("HARD", "MEDIUM", "SOFT")):
                compounds = [str(pairs["HARD"]), str(pairs["MEDIUM"]), str(pairs["SOFT"])]
        rows.append({
            "season": season,
            "round": int(rnd),
            "event": event,
            "circuit_key": circuit_for_event(event, season=season, location=location),
            "total_laps": int(g["lap_number"].max()),
            "compounds": compounds,
            "laps": int(len(g)),
            "drivers": int(g["driver"].nunique()),
            "rejected": int(rejected_by_round.get(int(rnd), 0)),
            "rejected_reasons": dict((reasons_by_round or {}).get(int(rnd), {})),
            "source": source,
            "session": session,
            "demo": demo,
        })
    return rows


def store_laps(store: RaceStore, laps: pd.DataFrame, *, season: int, source: str,
               rejected_by_round: dict[int, int] | None = None,
               allocation: dict[tuple[int, int], list[str]] | None = None, session: str = RACE,
               report: ValidationReport | None = None, max_drop_share: float | None = None,
               should_stop: Callable[[], None] | None = None, demo: bool = False) -> list[int]:
    """Write validated canonical laps (with ``event``) of one season and session; returns the rounds.

    With ``report``, each race keeps its rejected rows by reason and rows that belong to no race
    written here (a bad or out-of-range round, a round whose every row was rejected) are kept as
    the season's unassigned rejections of ``source`` (``RaceStore.rejections``).
    ``max_drop_share``, ``should_stop``: see :meth:`RaceStore.write_races`. ``demo`` marks the
    races as the bundled demo set (``data.demo``).
    """
    if laps.empty:
        return []
    unassigned = None
    reasons_by_round = None
    if report is not None:
        written = {int(r) for r in laps["round"].unique()}
        reasons_by_round = {r: c for r, c in report.reasons_by_round.items() if r in written}
        rejected_by_round = {r: sum(c.values()) for r, c in reasons_by_round.items()}
        other: Counter = Counter()
        for r, c in report.reasons_by_round.items():
            if r not in written:
                other.update(c)
        unassigned = {"rows": sum(other.values()), "reasons": dict(other)}
    laps = laps.copy()
    missing = laps["compound_code"].isna()
    if missing.any():
        alloc = allocation or {}
        codes = [
            code_for(c, alloc.get((season, int(r)), []))
            for c, r in zip(laps.loc[missing, "compound"], laps.loc[missing, "round"])
        ]
        laps.loc[missing, "compound_code"] = pd.array(codes, dtype="string")
    rows = race_rows(laps, season=season, source=source, rejected_by_round=rejected_by_round or {},
                     allocation=allocation, session=session, reasons_by_round=reasons_by_round, demo=demo)
    store.write_races(season, rows, laps.drop(columns=["event", "location"], errors="ignore"), session=session,
                      max_drop_share=max_drop_share, source=source if report is not None else None,
                      rejected_unassigned=unassigned, should_stop=should_stop)
    return [r["round"] for r in rows]


#: a file may shrink a stored race or season by at most this share of its laps unless told to
#: replace (settings: ``ingest_max_drop_share``)
DEFAULT_MAX_DROP_SHARE = 0.10


def ingest_files(paths: list[Path], store: RaceStore, *, season: int | None = None,
                 compounds_file: Path | None = None,
                 on_file: Callable[[Path, IngestResult], None] | None = None,
                 session: str | None = None, replace: bool = False,
                 max_drop_share: float = DEFAULT_MAX_DROP_SHARE, max_file_bytes: int | None = None,
                 follow_symlinks: bool = True,
                 should_stop: Callable[[], None] | None = None, demo: bool = False) -> list[IngestResult]:
    """Ingest FastF1-format files and folders. Returns one result per file (refused ones too).

    Args:
        paths: files (.csv, .csv.gz, .parquet) or folders holding them.
        season: the season of every file; default: a four-digit year in each file name.
        compounds_file: a compound_selection.toml; default: one found next to the inputs.
        on_file: called after each file (progress bars).
        session: "race" or "sprint" for every file; default: from each file's path
            (:func:`session_from_path`).
        replace: write a file even when it drops more than ``max_drop_share`` of the laps of a
            stored race or season (otherwise that file is refused and the store left as it was).
        max_file_bytes, follow_symlinks: limits of the admin API (see ``files.read_raw``).
        should_stop: raises to abandon the job (cancel, timeout); checked between files, and by
            the store while waiting for its lock and right before each commit. Seasons already
            committed stay (each file is one atomic replacement per season).
        demo: mark every race written as a bundled demo race (``data.demo``).
    """
    session = check_session(session)
    files = expand_paths(paths)
    alloc_path = compounds_file or find_allocation_file(files)
    allocation = load_allocation(alloc_path) if alloc_path else {}
    results: list[IngestResult] = []
    for f in files:
        if should_stop is not None:
            should_stop()
        res = IngestResult(source=str(f), session=session or session_from_path(f))
        try:
            laps, report = read_lap_file(f, season=season, max_bytes=max_file_bytes,
                                         follow_symlinks=follow_symlinks)
            res.report, res.season = report, report.season
            if laps.empty:
                raise DataValidationError(f"{f}: no usable laps (all {report.rows_read} rows rejected: "
                                          + ", ".join(f"{n} {r}" for r, n in report.reasons.most_common(3)) + ")",
                                          details={"reasons": dict(report.reasons)})
            if should_stop is not None:
                should_stop()
            res.rounds = store_laps(store, laps, season=int(report.season), source=f.name,
                                    allocation=allocation, session=res.session, report=report,
                                    max_drop_share=None if replace else max_drop_share,
                                    should_stop=should_stop, demo=demo)
            if report.rejected:
                log.info(report.summary())
        except DataValidationError as exc:
            res.error = exc.message
            log.info("refused: %s", exc.message)
        results.append(res)
        if on_file:
            on_file(f, res)
    return results


def _count_rejected_per_round(report: ValidationReport, laps: pd.DataFrame) -> dict[int, int]:
    """Rejected rows per round; rows whose round itself was unreadable go to the largest round."""
    per = {int(k): int(v) for k, v in report.rejected_by_round.items() if k is not None}
    unknown = report.rejected - sum(per.values())
    if unknown > 0 and len(laps):
        biggest = int(laps.groupby("round").size().idxmax())
        per[biggest] = per.get(biggest, 0) + unknown
    return per
