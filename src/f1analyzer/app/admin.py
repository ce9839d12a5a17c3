"""The admin operations (``POST /admin/ingest | train | reindex``): what a background job runs.

Each takes the application's :class:`~.services.Services` and its typed request, calls its target
directly and returns a JSON-able summary. The API's job manager (``api/jobs.py``) runs them in
worker threads; afterwards the services reload what the job rebuilt (the model set after a
training run), and other workers follow through the registry version check
(:meth:`~.services.Services.model_set`).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from f1analyzer.app.requests import IngestRequest, TrainRequest
from f1analyzer.app.services import Services
from f1analyzer.data.ingest import ingest_files
from f1analyzer.errors import InvalidRequestError
from f1analyzer.knowledge.build import build_index
from f1analyzer.models.training import train

#: the last season :func:`f1analyzer.models.training.train` fits on when none is given
DEFAULT_END_YEAR = 2024


def ingest_paths(settings, req: IngestRequest) -> list[Path]:
    """Server paths to ingest: the given ones, or ``<data_dir>/laps/<season>.*``.

    Raises:
        InvalidRequestError: a path does not exist, or seasons are asked without a data dir.
    """
    out: list[Path] = []
    for p in req.paths:
        path = Path(p).expanduser()
        if not path.exists():
            raise InvalidRequestError(f"No such file or folder on the server: {p}")
        out.append(path)
    if req.seasons:
        if settings.data_dir is None:
            raise InvalidRequestError("Seasons need the server's F1_DATA_DIR; give paths instead.")
        laps = Path(settings.data_dir) / "laps"
        for s in req.seasons:
            matches = sorted(laps.glob(f"{s}.*")) if laps.is_dir() else []
            if not matches:
                raise InvalidRequestError(f"No lap file for season {s} in {laps}.")
            out.extend(matches)
    return out


def run_ingest(services: Services, paths: list[Path]) -> dict:
    """Ingest lap files into the store; a summary of seasons and rounds written."""
    results = ingest_files(list(paths), services.store)
    ok = [r for r in results if r.ok]
    summary = {
        "files": len(results),
        "ingested": len(ok),
        "failed": len(results) - len(ok),
        "seasons": sorted({int(r.season) for r in ok if r.season is not None}),
        "rounds": sum(len(r.rounds) for r in ok),
        "errors": [{"source": r.source, "error": r.error} for r in results if not r.ok],
    }
    if not ok:
        raise InvalidRequestError("Nothing was ingested: " + "; ".join(
            f"{e['source']}: {e['error']}" for e in summary["errors"][:5]))
    return summary


def run_train(services: Services, req: TrainRequest) -> dict:
    """Train and register a model set, then serve it (``model.version`` of later answers)."""
    end_year = req.end_year if req.end_year is not None else max(req.start_year, DEFAULT_END_YEAR)
    report = train(services.settings, req.start_year, end_year, quick=req.quick)
    served = services.reload_models()
    return {**report.to_dict(), "serving": served.version}


def run_reindex(services: Services) -> dict:
    """Rebuild the knowledge index from the store and the bundled documents."""
    report = build_index(services.settings, store=services.store)
    return asdict(report)


def build_knowledge_index(settings, progress=None) -> tuple[bool, str]:
    """``f1analyzer train --init-vectordb``: build the knowledge index after training.

    Returns (built, a one-line message for the report).
    """
    result = build_index(settings, progress=progress)
    return True, f"knowledge index built ({result})" if result is not None else "knowledge index built"
