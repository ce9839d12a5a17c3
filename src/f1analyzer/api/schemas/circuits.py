from __future__ import annotations

from pydantic import BaseModel, Field


class CircuitSummary(BaseModel):
    key: str
    name: str
    fan_name: str = Field("", description="The venue as fans say it (Montréal, Mexico City, Spa).")
    n_races: int
    seasons: list[int]
    total_laps: int
    base_lap_time_s: float = Field(description="Clean mid-field lap on a fresh MEDIUM at race-end fuel.")
    fuel_effect_s_per_lap: float
    pit_loss_s: float = Field(description="Time a green-flag stop costs against staying out.")
    pit_loss_sc_s: float
    pit_loss_vsc_s: float
    sc_probability: float = Field(description="P(at least one Safety Car).")
    vsc_probability: float = Field(description="P(at least one Virtual Safety Car).")
    overtake_threshold_s: float = Field(description="Pace advantage (s/lap) at which a pass is more likely than not.")
    overtakes_per_race: float
    retirement_prob: float


class CircuitsPublic(BaseModel):
    data: list[CircuitSummary]
    count: int


class TyreModelPublic(BaseModel):
    compound: str
    curve: str = Field(description="linear | quadratic | cliff")
    coef_s: list[float] = Field(description="[s per lap, s per lap^2] of wear.")
    cliff_lap: float | None = None
    cliff_slope_s: float | None = None
    pace_offset_s: float = Field(description="Fresh-tyre pace against MEDIUM (negative = faster).")
    pace_offset_se_s: float = 0.0
    coef_se_s: list[float]
    n_laps: int
    n_stints: int
    codes: dict[str, int] = Field(description="Absolute compounds (C-number / 2018 name) → laps.")
    own_fit: bool = Field(description="False: too few laps here, the all-circuit average is shown.")


class SafetyCarPublic(BaseModel):
    p_at_least_one: float
    mean_count: float
    count_probs: list[float] = Field(description="P(0), P(1), P(2), P(3+).")
    start_fraction_hist: list[float] = Field(description="P(start in each tenth of the race).")
    duration_laps_probs: dict[int, float]
    n_races: int
    shrunk: bool


class CurvePoint(BaseModel):
    tyre_age_laps: int
    delta_s: float


class CircuitDetail(CircuitSummary):
    era: str = Field(description="Car era of the tyre models shown.")
    eras: list[str]
    fuel_effect_by_era: dict[str, float]
    pit_loss_sd_s: float
    pit_lane_time_s: float | None = None
    n_pit_stops: int
    first_lap_loss_s: float
    per_grid_slot_loss_s: float
    lap1_position_change_sd: float
    positions_gained_by_grid: list[float]
    lap_noise_sd_s: float
    held_gap_s: list[float] = Field(
        description="Gap (s) at which a car that cannot pass is held behind the car ahead: quantiles at "
                    "5 %, 15 %, ..., 95 % for this era's cars, all circuits (the simulator draws from them).")
    compounds: dict[str, TyreModelPublic]
    compounds_by_era: dict[str, dict[str, TyreModelPublic]]
    sc: SafetyCarPublic
    vsc: SafetyCarPublic
    degradation_curves: dict[str, list[CurvePoint]] = Field(
        description="Per compound, pace offset + wear for tyre ages 1..40 (for charts).")
