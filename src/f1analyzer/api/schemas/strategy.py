"""Response schemas of ``/strategy/*`` (the answers are plain dicts from
:mod:`f1analyzer.app.strategy`; these models document and check their shape). The requests are
defined once with their operations in :mod:`f1analyzer.app.requests` and re-exported here."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .query import QuerySource

from ...app.requests import (  # noqa: F401 - the requests are defined with their operations
    BatchRequest,
    CarState,
    Compound,
    DryCompound,
    GenerateRequest,
    LiveRequest,
    ReplayRequest,
    SimulateRequest,
    StopIn,
    StrategyIn,
    UndercutRequest,
)


class _Open(BaseModel):
    """Answers may carry more fields than listed (notes, model details)."""

    model_config = ConfigDict(extra="allow")


# ------------------------------------------------------------------------------ generate
class SCRobustness(BaseModel):
    expected_position_green: float | None = Field(description="Expected finish in sims without SC/VSC.")
    expected_position_neutralised: float | None = Field(description="... in sims with a SC or VSC.")
    expected_position_by_sc_start: dict[str, float | None] = Field(
        description="Expected finish when the first SC/VSC starts in the early/middle/late third.")
    sc_timing_spread: float | None = Field(description="Largest minus smallest of those (places).")


class StrategyOptionPublic(BaseModel):
    rank: int
    strategy: str = Field(description="Compact form, e.g. M-22-H.")
    stops: int
    compounds: list[str]
    pit_laps: list[int]
    pit_windows: list[list[int]] = Field(description="Per stop [first, last] lap within 1 s of the best lap.")
    expected_position_if_classified: float | None = Field(
        default=None, description="Headline: expected finishing position over the races the car finishes.")
    p_win: float | None = None
    p_podium: float | None = None
    expected_points: float | None = Field(default=None, description="Mean championship points (25-18-15-...-1).")
    p_dnf: float | None = Field(default=None, description="Probability of retiring (apart from the headline).")
    position_10th_percentile: float | None = Field(
        default=None, description="In 10 % of classified races the car finishes here or better.")
    position_median: float | None = None
    position_90th_percentile: float | None = Field(
        default=None, description="In 90 % of classified races the car finishes here or better.")
    expected_position: float | None = Field(description="Over all races, retirements classified behind (ranking key).")
    race_time_10th_percentile_s: float | None
    race_time_median_s: float | None
    race_time_90th_percentile_s: float | None
    p_gain_positions: float | None = Field(description="P(finishing ahead of the grid slot).")
    position_histogram: dict[str, float] = Field(description="Finishing position → probability.")
    reasons: dict[str, float | None] = Field(
        default_factory=dict, description="Seconds from the simulation: pit_loss_s, tyre_time_s, "
        "race_time_gap_to_best_s, gap_to_car_ahead_s, gap_to_car_behind_s.")
    rules_applied: list[str] = Field(default_factory=list, description="Rules that shaped the plan.")
    robustness: SCRobustness
    rules_applied: list[str] = Field(default_factory=list,
                                     description="Tyre rules that shaped this plan (event limits, learned stint limits).")


class FieldHistoryRace(BaseModel):
    """What the top ten classified finishers mostly did at one earlier race of the circuit."""

    season: int
    round: int
    event: str
    era: Literal["2022+", "pre-2022"] = Field(description="Car era of the race (the tyre models are fitted per era).")
    wet: bool = Field(description="The race was run partly on intermediate or wet tyres.")
    total_laps: int | None = None
    stops: int | None = Field(description="Most common pit-stop count of the top ten (a tyre change during a "
                                          "red flag is free and not counted).")
    green_stops: int | None = Field(
        description="Most common count of stops made under green flags (a stop under SC/VSC is a reaction).")
    planned_stops: int | None = Field(
        None, description="Most common count of green-flag stops, at least one: what the field had planned, "
                          "as far as the race shows it.")
    compounds: list[str] | None = Field(description="Most common compound sequence, e.g. [\"MEDIUM\", \"HARD\"].")
    median_first_stop_lap: float | None = Field(
        description="Median lap of the first stop among the top-ten cars on the most common stop count.")
    n_cars: int = Field(description="Classified cars read (at most ten).")


class HistoryCheck(BaseModel):
    """The rank-1 plan against the newest dry earlier race of the circuit in the same car era."""

    season: int
    round: int
    event: str
    field_stops: int = Field(description="Most common stop count of that race's top ten.")
    field_green_stops: int | None = Field(
        default=None, description="Most common count of their stops made under green flag (the planned part; "
                                  "a change under SC, VSC or red flag is a reaction).")
    field_compounds: list[str] = Field(description="Their most common compound sequence.")
    field_median_first_stop_lap: float | None = Field(description="Their median first-stop lap.")
    plan_stops: int = Field(description="Stops of the recommended (rank-1) plan.")
    plan_compounds: list[str]
    plan_first_stop_window: list[int] | None = Field(
        description="[first, last] lap of the rank-1 plan's first pit window; null for a no-stop plan.")
    same_stop_count: bool
    first_stop_vs_window: Literal["inside", "before", "after"] | None = Field(
        description="Where the field's median first stop fell against that window (before: earlier "
                    "than it opens); null when either is unknown.")


class GenerateResponse(_Open):
    season: int
    round: int
    event: str
    circuit_key: str
    driver: str
    grid: int
    total_laps: int
    n_cars: int
    strategies: list[StrategyOptionPublic]
    n_sims: int
    seed: int
    notes: list[str] = []
    rules: list[str] = Field(default_factory=list, description="Tyre rules in force at this race, one sentence each.")
    field_history: list[FieldHistoryRace] = Field(
        default_factory=list, description="What the top ten really did at this circuit in its earlier races "
        "(at most 3, newest first; only races before this one, so no hindsight).")
    history_check: HistoryCheck | None = Field(
        default=None, description="The recommended plan against the newest dry race of field_history of the "
        "same car era; null when there is none.")
    narrative: str | None = Field(default=None, description="Prose explanation of the ranking, citing its sources as [n].")
    sources: list[QuerySource] = Field(default_factory=list, description="Knowledge-base documents the narrative cites, in [n] order.")
    provider: str | None = Field(default=None, description="Narrator that wrote it: offline, anthropic or openai.")
    fallback_reason: str | None = Field(default=None, description="Why the offline writer was used instead of the configured LLM (or why sources are missing).")
    cached: bool = False
    latency_ms: float


class BatchResponse(_Open):
    results: list[GenerateResponse]
    count: int
    races_built: int = Field(description="Races built (once per season and event).")
    cached: bool = False
    latency_ms: float


# ------------------------------------------------------------------------------ simulate
class TimeQuantiles(BaseModel):
    p10: float | None
    p50: float | None
    p90: float | None


class DriverDistribution(BaseModel):
    driver: str
    team: str
    grid: int
    strategy: str
    given: bool = Field(description="The caller gave this strategy (others: best screened plan).")
    expected_position: float | None
    position_histogram: dict[str, float]
    race_time_quantiles_s: TimeQuantiles
    p_gain_positions: float | None
    p_retired: float | None


class SimulateResponse(_Open):
    season: int
    round: int
    event: str
    circuit_key: str
    total_laps: int
    n_sims: int
    seed: int
    drivers: list[DriverDistribution]
    cached: bool = False
    latency_ms: float


# ------------------------------------------------------------------------------ live, undercut
class AdviceOptionPublic(BaseModel):
    label: str = Field(description="STAY_OUT, BOX_<COMPOUND> (then the best multi-stop rest of race) "
                                   "or BOX_<COMPOUND>_TO_FLAG (that set to the flag).")
    strategy: str
    expected_position: float | None
    prob_gain: float | None
    race_time_p50_s: float | None
    compound: str | None = None
    to_flag: bool = False
    expected_position_if_classified: float | None = None
    p_win: float | None = None
    p_podium: float | None = None
    expected_points: float | None = None
    p_dnf: float | None = None


class LiveResponse(_Open):
    season: int
    round: int
    event: str
    driver: str
    lap: int
    track_status: str
    call: Literal["BOX_NOW", "STAY_OUT", "BOX_UNDER_SC", "BOX_UNDER_RED"]
    expected_positions_gained: float | None
    p_gain: float | None
    best_compound: str | None
    current_position: int
    expected_position: float | None
    gain_vs_alternative: float | None
    gain_vs_alternative_se: float | None = Field(None, description="Monte Carlo standard error of the margin.")
    too_close_to_call: bool = Field(
        False, description="Box and stay within two standard errors, or a fifth of the per-race spread, of each other.")
    field_box_rate: float | None = Field(
        None, description="Under a SC/VSC: share of cars in this spot that boxed in the races the models saw.")
    decided_by: Literal["simulation", "field_history"] = Field(
        "simulation", description="field_history: too close to call, so the call most cars made in this spot.")
    close_call_note: str | None = Field(None, description="One sentence on a call too close to call.")
    options: list[AdviceOptionPublic]
    state_source: str = Field(description="stored | synthetic | request, + request when overridden.")
    cached: bool = False
    latency_ms: float


class UndercutResponse(_Open):
    season: int
    round: int
    event: str
    driver: str
    rival: str
    lap: int
    gap_s: float | None
    pit_lap: int
    compound: str
    rival_compound: str
    gain_per_lap_s: list[float | None] = Field(description="Gain on each lap the rival stays out longer.")
    margin_s: list[float | None] = Field(description="Driver's margin when the rival rejoins after k laps.")
    works: bool
    works_after_laps: int | None
    undercut_lap: int | None = Field(description="Lap on which the undercut works.")
    gap_needed_s: float | None = Field(description="Largest gap the undercut overturns if the rival reacts a lap later.")
    overcut_margin_s: list[float | None]
    mc_prob_ahead_box: float | None
    mc_prob_ahead_stay: float | None
    cached: bool = False
    latency_ms: float


# ------------------------------------------------------------------------------ replay
class ReplayDriver(_Open):
    driver: str
    start_position: int
    real_position: int
    expected_position: float
    p_win: float
    p_podium: float
    position_histogram: dict[str, float]
    strategy: str
    changed: bool


class ReplayResponse(_Open):
    season: int
    round: int
    event: str
    from_lap: int
    track_status: str = "real"
    retirements: str = "real"
    drivers: list[ReplayDriver]
    simulated_order: list[str]
    real_order: list[str]
    spearman: float | None
    spearman_classified: float | None = None
    real_winner: str | None
    p_real_winner_wins: float | None
    notes: list[str]
    cached: bool = False
    latency_ms: float
