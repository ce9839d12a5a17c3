"""Admin job requests (defined with their operations in :mod:`f1analyzer.app.requests`) and
job records."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ...app.requests import (  # noqa: F401 - re-exported
    IngestRequest,
    ReindexRequest,
    StrategyBatchJobRequest,
    TrainRequest,
)


class JobAccepted(BaseModel):
    job_id: str
    kind: Literal["ingest", "train", "reindex", "strategy_batch"]
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    status_url: str


class JobStatus(BaseModel):
    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    params: dict
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    duration_s: float | None = None
    result: dict | None = Field(default=None, description="Summary of what the job did.")
    error: str | None = Field(default=None, description="Why it failed (or was cancelled).")
    cancel_requested: bool = Field(default=False, description="DELETE /admin/jobs/{id} was asked; "
                                   "a running job stops at its next safe point.")
