from __future__ import annotations

from pydantic import BaseModel, Field


class RacePublic(BaseModel):
    season: int
    round: int
    event: str
    circuit_key: str
    circuit: str = Field("", description="The venue as fans say it (Montréal, Mexico City, Spa).")
    total_laps: int = Field(description="Race distance in laps (the winner's lap count).")
    compounds: list[str] = Field(description="The event's dry compounds, hardest first, when known.")
    laps: int = Field(description="Lap rows stored.")
    drivers: int
    rejected: int = Field(description="Rows of this race refused at ingestion.")
    rejected_reasons: dict[str, int] = Field(default_factory=dict,
                                             description="Those rows by reason (docs/DATA.md: bounds).")
    session: str = Field("race", description="race (the Grand Prix) or sprint; a sprint shares its weekend's round.")
    demo: bool = Field(False, description="One of the bundled demo races loaded into an empty store "
                       "(`f1analyzer demo remove` removes them).")


class UnassignedRejections(BaseModel):
    season: int
    session: str
    source: str = Field(description="The ingested file.")
    rows: int = Field(description="Rejected rows that belong to no stored race (bad or out-of-range round...).")
    reasons: dict[str, int]


class RacesPublic(BaseModel):
    data: list[RacePublic]
    count: int
    rejections: list[UnassignedRejections] = Field(
        default_factory=list, description="Per season and file: rejected rows that belong to no race.")


class StintPublic(BaseModel):
    driver: str
    team: str | None = None
    stint: int
    compound: str
    compound_code: str | None = None
    start_lap: int
    end_lap: int
    laps: int
    tyre_life_start: float | None = Field(None, description="FastF1 TyreLife on the stint's first lap (1: a new set).")
    fresh_tyre: bool | None = Field(None, description="FastF1 FreshTyre: the set was new when fitted.")


class PitStopPublic(BaseModel):
    driver: str
    stop_number: int
    lap: int
    duration_s: float | None = None
    compound_before: str | None = None
    compound_after: str | None = None
    under_sc: bool
    under_vsc: bool
    under_red_flag: bool


class ResultPublic(BaseModel):
    position: int
    driver: str
    team: str | None = None
    laps: int
    finished: bool
    color: str = Field("#9e9e9e", description="The team's colour that season (data/teams.py).")
    dash: str = Field("", description="SVG dash pattern telling team mates apart: '' for the team's "
                      "first finisher, '6 3' for the second.")


class RaceDetail(RacePublic):
    results: list[ResultPublic]
    stints: list[StintPublic]
    pit_stops: list[PitStopPublic]
    track_status_by_lap: dict[int, str] = Field(description="Status digits seen on each lap (1 green, 4 SC, 5 red, 6/7 VSC).")
