from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ...app.requests import LapTimeRequest, PitStopRequest  # noqa: F401 - defined with the others

Compound = Literal["SOFT", "MEDIUM", "HARD", "INTERMEDIATE", "WET"]


class LapTimePrediction(BaseModel):
    season: int
    event: str
    driver: str
    lap: int
    predicted_lap_time_s: float
    persistence_s: float = Field(description="Baseline: the previous lap time.")
    recent_level_s: float = Field(description="Mean of the last three clean laps used.")
    recent_lap_times_s: list[float] = Field(description="The clean laps the prediction started from.")
    actual_lap_time_s: float | None = Field(default=None, description="The stored lap time, when the lap happened.")
    model_version: str | None
    model_source: str


class PitStopPrediction(BaseModel):
    probability: float = Field(ge=0, le=1, description="P(tyre change with in-lap in the next 3 laps).")
    horizon_laps: int
    base_rate: float = Field(description="Share of laps followed by a stop within the horizon in training data.")
    circuit_key: str | None
    total_laps: int
    model_version: str | None
    model_source: str
