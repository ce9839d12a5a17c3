"""The admin operations (``POST /admin/ingest | train | reindex``): what a background job runs.

Each takes the application's :class:`~.services.Services` and its typed request, calls its target
directly and returns a JSON-able summary. The API's job manager (``api/jobs.py``) runs them in
worker threads; afterwards the services reload what the job rebuilt (the model set after a
training run), and other workers follow through the registry version check
(:meth:`~.services.Services.model_set`).
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from f1analyzer.app.knowledge import rebuild_index_aside
from f1analyzer.app.requests import IngestRequest, StrategyBatchJobRequest, TrainRequest
from f1analyzer.app.services import Services
from f1analyzer.data.files import is_lap_file
from f1analyzer.data.ingest import ingest_files
from f1analyzer.errors import InvalidRequestError, JobStopped
from f1analyzer.knowledge.build import build_index
from f1analyzer.models.training import train

#: the last season :func:`f1analyzer.models.training.train` fits on when none is given
DEFAULT_END_YEAR = 2024


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def _describe_roots(roots: list[Path]) -> str:
    return ", ".join(str(r) for r in roots) or "(none configured)"


def ingest_paths(settings, req: IngestRequest) -> list[Path]:
    """The regular lap files an admin ingest may read: the given paths or ``<data_dir>/laps/<season>.*``.

    Every path is resolved (symlinks followed, ``..`` removed) and must lie inside one of the
    configured data roots (``settings.ingest_root_dirs``); a folder is expanded to the lap files
    inside it, each checked the same way. Only regular files are accepted (no FIFO, device or
    socket), each at most ``ingest_max_file_mb`` and all together at most ``ingest_max_job_mb``.
    Relative paths are taken relative to the first root. Outside-the-roots is checked before
    existence, so the answer says nothing about files elsewhere on the server.

    Raises:
        InvalidRequestError: a path outside the roots, missing, not a regular file or over a limit.
    """
    roots = [Path(os.path.realpath(r)) for r in settings.ingest_root_dirs]
    asked: list[tuple[str, Path]] = []
    for p in req.paths:
        path = Path(p).expanduser()
        if not path.is_absolute() and roots:
            path = roots[0] / path
        asked.append((p, path))
    if req.seasons:
        if settings.data_dir is None or str(settings.data_dir).strip() in ("", "."):
            raise InvalidRequestError("Seasons need the server's F1_DATA_DIR; give paths instead.")
        laps = Path(settings.data_dir) / "laps"
        for s in req.seasons:
            matches = sorted(f for f in laps.glob(f"{s}.*") if is_lap_file(f)) if laps.is_dir() else []
            if not matches:
                raise InvalidRequestError(f"No lap file for season {s} in the data dir's laps folder.")
            asked.extend((str(m), m) for m in matches)
    files: list[Path] = []
    for shown, path in asked:
        real = Path(os.path.realpath(path))
        if not _under(real, roots):
            raise InvalidRequestError(
                f"{shown}: outside the folders the admin API may read ({_describe_roots(roots)}). "
                "Copy the file into one of them, or add a folder to F1A_INGEST_ROOTS.",
                details={"roots": [str(r) for r in roots]})
        try:
            st = os.stat(real)
        except FileNotFoundError:
            raise InvalidRequestError(f"No such file or folder on the server: {shown}") from None
        if stat.S_ISDIR(st.st_mode):
            inside = sorted(f for f in real.rglob("*") if f.is_file())
            found = [Path(os.path.realpath(f)) for f in inside if is_lap_file(f)]
            found = [f for f in found if _under(f, roots) and stat.S_ISREG(os.stat(f).st_mode)]
            if not found:
                raise InvalidRequestError(f"{shown}: no lap files (.csv, .csv.gz, .parquet) inside")
            files.extend(found)
        elif stat.S_ISREG(st.st_mode):
            files.append(real)
        else:
            raise InvalidRequestError(f"{shown}: not a regular file (a FIFO, device or socket); "
                                      "only lap files are read")
    files = list(dict.fromkeys(files))  # a file named twice is read once
    _check_sizes(settings, files)
    return files


def _check_sizes(settings, files: list[Path]) -> None:
    max_file = settings.ingest_max_file_mb * 1e6
    total = 0
    for f in files:
        size = f.stat().st_size
        if size > max_file:
            raise InvalidRequestError(
                f"{f.name}: {size / 1e6:.1f} MB is over the {settings.ingest_max_file_mb:g} MB limit "
                "per file (F1A_INGEST_MAX_FILE_MB)")
        total += size
    if total > settings.ingest_max_job_mb * 1e6:
        raise InvalidRequestError(
            f"{len(files)} files of {total / 1e6:.1f} MB are over the {settings.ingest_max_job_mb:g} MB "
            "limit per job (F1A_INGEST_MAX_JOB_MB); ingest them in several jobs")


def _file_summary(r) -> dict:
    rep = r.report
    out = {"source": Path(r.source).name, "season": r.season, "session": r.session,
           "rounds": r.rounds, "ok": r.ok, "error": r.error}
    if rep is not None:
        out.update(rows_read=rep.rows_read, rows_kept=rep.rows_kept, rejected=rep.rejected,
                   reasons=dict(rep.reasons))
    return out


def ingest_summary(results) -> dict:
    """What an ingest did, file by file, with every rejected row counted by reason."""
    ok = [r for r in results if r.ok]
    reasons: Counter = Counter()
    for r in results:
        if r.report is not None:
            reasons.update(r.report.reasons)
    return {
        "files": len(results),
        "ingested": len(ok),
        "failed": len(results) - len(ok),
        "seasons": sorted({int(r.season) for r in ok if r.season is not None}),
        "rounds": sum(len(r.rounds) for r in ok),
        "rows_read": sum(r.report.rows_read for r in results if r.report is not None),
        "rows_kept": sum(r.report.rows_kept for r in ok if r.report is not None),
        "rejected": sum(r.report.rejected for r in results if r.report is not None),
        "rejected_reasons": dict(reasons.most_common()),
        "errors": [{"source": Path(r.source).name, "error": r.error} for r in results if not r.ok],
        "per_file": [_file_summary(r) for r in results],
    }


def run_ingest(services: Services, paths: list[Path], *, replace: bool = False,
               check: Callable[[], None] | None = None) -> dict:
    """Ingest lap files into the store; a summary of seasons, rounds and rejected rows.

    ``check`` (the job's stop check) runs between files and right before each season's commit;
    when it stops the job, seasons committed so far stay and are named in the error's
    ``partial`` summary (every file is one atomic replacement per season).
    """
    settings = services.settings
    done: list = []
    try:
        results = ingest_files(
            list(paths), services.store, replace=replace,
            max_drop_share=settings.ingest_max_drop_share,
            max_file_bytes=int(settings.ingest_max_file_mb * 1e6), follow_symlinks=False,
            on_file=lambda _f, res: done.append(res), should_stop=check)
    except JobStopped as exc:
        exc.details["partial"] = ingest_summary(done)
        raise
    summary = ingest_summary(results)
    if not summary["ingested"]:
        raise InvalidRequestError("Nothing was ingested: " + "; ".join(
            f"{e['source']}: {e['error']}" for e in summary["errors"][:5]), details=summary)
    return summary


def run_train(services: Services, req: TrainRequest) -> dict:
    """Train and register a model set, then serve it (``model.version`` of later answers)."""
    end_year = req.end_year if req.end_year is not None else max(req.start_year, DEFAULT_END_YEAR)
    report = train(services.settings, req.start_year, end_year, quick=req.quick)
    served = services.reload_models()
    return {**report.to_dict(), "serving": served.version}


def run_reindex(services: Services, *, check: Callable[[], None] | None = None) -> dict:
    """Rebuild the knowledge index from the store and the bundled documents, aside, then swap
    it in (the served index answers meanwhile; see ``app.knowledge.rebuild_index_aside``)."""
    start_up = services.index.thread if services.index is not None else None
    while start_up is not None and start_up.is_alive():  # never swap under the start-up build
        if check is not None:
            check()
        start_up.join(timeout=0.5)
    return rebuild_index_aside(services.settings, store=services.store, check=check)


def build_knowledge_index(settings, progress=None) -> tuple[bool, str]:
    """``f1analyzer train --init-vectordb``: build the knowledge index after training.

    Returns (built, a one-line message for the report).
    """
    result = build_index(settings, progress=progress)
    return True, f"knowledge index built ({result})" if result is not None else "knowledge index built"


def run_strategy_batch(services: Services, req: StrategyBatchJobRequest, *,
                       check: Callable[[], None] | None = None) -> dict:
    """A strategy batch too large for one HTTP request, one task per race on the configured
    executor (``F1A_EXECUTOR``; see :mod:`f1analyzer.app.batch.strategy_batch`). ``check`` stops it
    between races (``DELETE /admin/jobs/{id}``, the job timeout)."""
    # the executors start worker processes or join Ray: imported only when a batch job runs
    from f1analyzer.app.batch.strategy_batch import strategy_batch
    from f1analyzer.app.executors import make_executor  # (same reason: worker processes, Ray)

    s = services.settings
    with make_executor(s.executor, workers=s.executor_workers, ray_address=s.ray_address) as executor:
        return strategy_batch(req.requests, store=services.store, models=services.model_set(),
                              executor=executor, check=check)
