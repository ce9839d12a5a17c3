"""Admin endpoints: background ingest, training and re-indexing (API key required).

Each route submits an application operation (:mod:`f1analyzer.app.admin`) to the job manager;
``DELETE /admin/jobs/{id}`` cancels a queued job or stops a running ingest/reindex cleanly.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path
from starlette.exceptions import HTTPException

from ...app.admin import ingest_paths, run_ingest, run_reindex, run_strategy_batch, run_train
from ...errors import NotFoundError
from ..deps import StateDep
from ..jobs import JobConflict, JobQueueFull
from ..schemas.admin import (
    IngestRequest,
    JobAccepted,
    JobStatus,
    ReindexRequest,
    StrategyBatchJobRequest,
    TrainRequest,
)
from ..security import AdminKeyDep

router = APIRouter(prefix="/admin", tags=["admin"], responses={
    401: {"description": "No API key"}, 403: {"description": "Wrong API key"}})

JobId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _submit(state, kind: str, fn, params: dict, who: str, *, stoppable: bool = False) -> JobAccepted:
    try:
        job = state.jobs.submit(kind, fn, params, requested_by=who, stoppable=stoppable,
                                timeout_s=state.settings.ingest_job_timeout_s if stoppable else None)
    except JobQueueFull as exc:
        raise HTTPException(status_code=409, detail=exc.message) from exc
    return JobAccepted(job_id=job.id, kind=kind, status=job.status,
                       status_url=f"/admin/jobs/{job.id}")


@router.post("/ingest", response_model=JobAccepted, status_code=202,
             summary="Ingest lap files (server paths or F1_DATA_DIR seasons) in the background")
def ingest(state: StateDep, who: AdminKeyDep, body: IngestRequest) -> JobAccepted:
    paths = ingest_paths(state.settings, body)  # checked now: a bad path answers 422, not a failed job
    return _submit(state, "ingest",
                   lambda check: run_ingest(state.services, paths, replace=body.replace, check=check),
                   {"paths": [str(p) for p in paths], "replace": body.replace}, who, stoppable=True)


@router.post("/train", response_model=JobAccepted, status_code=202,
             summary="Fit the race models in the background")
def train(state: StateDep, who: AdminKeyDep,
          body: Annotated[TrainRequest | None, Body()] = None) -> JobAccepted:
    body = body or TrainRequest()
    return _submit(state, "train", lambda: run_train(state.services, body), body.model_dump(), who)


@router.post("/reindex", response_model=JobAccepted, status_code=202,
             summary="Rebuild the knowledge index in the background")
def reindex(state: StateDep, who: AdminKeyDep,
            body: Annotated[ReindexRequest | None, Body()] = None) -> JobAccepted:
    return _submit(state, "reindex", lambda check: run_reindex(state.services, check=check), {}, who,
                   stoppable=True)


@router.post("/strategy/batch", response_model=JobAccepted, status_code=202,
             summary="A strategy batch larger than /strategy/batch allows, in the background")
def strategy_batch(state: StateDep, who: AdminKeyDep, body: StrategyBatchJobRequest) -> JobAccepted:
    """Up to 200 generate requests (a whole season: `f1analyzer season-preview`), one task per race on the batch executor (``F1A_EXECUTOR``);
    the job's ``result`` holds the answers in request order, as ``/strategy/batch`` would."""
    return _submit(state, "strategy_batch",
                   lambda check: run_strategy_batch(state.services, body, check=check),
                   {"requests": len(body.requests)}, who, stoppable=True)


@router.get("/jobs/{job_id}", response_model=JobStatus, summary="Status of a background job")
def job_status(state: StateDep, who: AdminKeyDep, job_id: JobId) -> JobStatus:
    rec = state.jobs.get(job_id)
    if rec is None:
        raise NotFoundError(f"Unknown job {job_id!r}.", details={"suggestions": []})
    return JobStatus(**{k: v for k, v in rec.items() if k in JobStatus.model_fields})


@router.delete("/jobs/{job_id}", response_model=JobStatus,
               summary="Cancel a queued job, or stop a running ingest/reindex at its next safe point")
def cancel_job(state: StateDep, who: AdminKeyDep, job_id: JobId) -> JobStatus:
    try:
        rec = state.jobs.cancel(job_id)
    except JobConflict as exc:
        raise HTTPException(status_code=409, detail=exc.message) from exc
    if rec is None:
        raise NotFoundError(f"Unknown job {job_id!r}.", details={"suggestions": []})
    return JobStatus(**{k: v for k, v in rec.items() if k in JobStatus.model_fields})
