from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Compound = Literal["SOFT", "MEDIUM", "HARD", "INTERMEDIATE", "WET"]


class LapTimeRequest(BaseModel):
    season: int = Field(ge=1950, le=2100, examples=[2024])
    event: str = Field(min_length=1, max_length=80, description="Round number, event name, circuit or location.",
                       examples=["Monza"])
    driver: str = Field(pattern="^[A-Za-z]{3}$", description="Three-letter code.", examples=["LEC"])
    lap: int = Field(ge=2, le=100, description="The lap to predict (known: the race up to lap − 1).")
    compound: Compound = Field(description="Compound fitted for this lap.")
    tyre_age_laps: float = Field(ge=0, le=100, description="Laps on this set at this lap (FastF1 TyreLife).")
    recent_lap_times_s: list[float] | None = Field(
        default=None, max_length=50,
        description="The driver's recent clean lap times of the current stint, oldest first. Default: taken "
                    "from the stored race.")
    total_laps: int | None = Field(default=None, ge=1, le=100,
                                   description="Race distance; needed only when the race is not stored.")


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


class PitStopRequest(BaseModel):
    season: int | None = Field(default=None, ge=1950, le=2100)
    event: str | None = Field(default=None, max_length=80, description="Race or circuit (for circuit priors).")
    lap_number: int = Field(ge=1, le=100, description="The lap just completed.")
    total_laps: int | None = Field(default=None, ge=2, le=100, description="Default: the stored race's distance.")
    compound: Compound
    tyre_age_laps: float = Field(ge=0, le=100)
    stint: int = Field(default=1, ge=1, le=10)
    stint_lap: int | None = Field(default=None, ge=1, le=100)
    position: int | None = Field(default=None, ge=1, le=30)
    gap_ahead_s: float | None = Field(default=None, ge=0, le=600)
    gap_behind_s: float | None = Field(default=None, ge=0, le=600)
    safety_car: bool = False
    vsc: bool = False
    dry_compounds_used: int = Field(default=1, ge=0, le=3)
    pace_loss_s: float | None = Field(default=None, ge=-10, le=20,
                                      description="Recent clean laps minus the stint's best (tyre wear so far).")
    field_stops_recent: int = Field(default=0, ge=0, le=30, description="Cars that pitted during the last two laps.")
    cars_with_more_stops: int = Field(default=0, ge=0, le=30,
                                      description="Cars that have made more tyre changes than this driver.")


class PitStopPrediction(BaseModel):
    probability: float = Field(ge=0, le=1, description="P(tyre change with in-lap in the next 3 laps).")
    horizon_laps: int
    base_rate: float = Field(description="Share of laps followed by a stop within the horizon in training data.")
    circuit_key: str | None
    total_laps: int
    model_version: str | None
    model_source: str
