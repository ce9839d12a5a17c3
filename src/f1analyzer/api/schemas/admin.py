"""Admin job requests and job records."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class IngestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(default_factory=list, max_length=500,
                             description="Files or folders on the server (FastF1 lap files).",
                             examples=[["/data/laps/2024.csv.gz"]])
    seasons: list[int] = Field(default_factory=list, max_length=100,
                               description="Seasons to ingest from the server's F1_DATA_DIR/laps.",
                               examples=[[2023, 2024]])

    @model_validator(mode="after")
    def _something(self) -> "IngestRequest":
        if not self.paths and not self.seasons:
            raise ValueError("give 'paths' or 'seasons'")
        if any(not p.strip() for p in self.paths):
            raise ValueError("paths must not be empty")
        if any(s < 1950 or s > 2100 for s in self.seasons):
            raise ValueError("seasons must be between 1950 and 2100")
        return self


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_year: int = Field(default=2018, ge=1950, le=2100, description="First season to fit on.")
    end_year: int | None = Field(default=None, ge=1950, le=2100,
                                 description="Last season (default: the trainer's default).")
    quick: bool = Field(default=False, description="Fewer iterations (smoke test).")

    @model_validator(mode="after")
    def _order(self) -> "TrainRequest":
        if self.end_year is not None and self.end_year < self.start_year:
            raise ValueError("end_year must not be before start_year")
        return self


class ReindexRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JobAccepted(BaseModel):
    job_id: str
    kind: Literal["ingest", "train", "reindex"]
    status: Literal["queued", "running", "succeeded", "failed"]
    status_url: str


class JobStatus(BaseModel):
    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    params: dict
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    duration_s: float | None = None
    result: dict | None = Field(default=None, description="Summary of what the job did.")
    error: str | None = Field(default=None, description="Why it failed.")
