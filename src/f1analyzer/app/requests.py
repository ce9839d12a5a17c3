"""One typed request per operation, with its bounds, written once.

The API uses these classes as its request bodies (``api/schemas`` re-exports them), the CLI builds
them from its options and the Lambda handlers reach them through the API. The application
services (:mod:`.strategy`, :mod:`.live`, :mod:`.knowledge`, :mod:`.jobs`) receive them already
checked and never re-check fields; only what depends on the race (a driver of the field, a grid
slot within the number of cars, a lap within the race) is checked there, once.

Plain dicts are turned into a request with :meth:`OperationRequest.of`, which raises
:class:`~f1analyzer.errors.InvalidRequestError` (HTTP 422, CLI ``error:``) naming every bad field.

Requests are strict where leniency hides mistakes: unknown fields are refused (a misspelt
``n_sim`` would otherwise silently run the default), ``true``/``false`` is not a number, a round
is written with ASCII digits (``"３"`` is not round 3), and a season must lie in
:data:`SUPPORTED_SEASONS` (lap timing exists from 2018; races up to five seasons ahead can be
planned), so a
request for 1950 or 2100 is refused rather than answered from made-up data.
"""

from __future__ import annotations

import types
import typing
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from f1analyzer.errors import InvalidRequestError

Compound = Literal["SOFT", "MEDIUM", "HARD", "INTERMEDIATE", "WET"]
DryCompound = Literal["SOFT", "MEDIUM", "HARD"]
TrackStatusName = Literal["green", "sc", "vsc"]
#: live advice also takes a red flag (a free tyre change, the restart behind the Safety Car)
LiveTrackStatusName = Literal["green", "sc", "vsc", "red"]

#: seasons the strategy and prediction requests accept: FastF1 lap timing starts in 2018, and
#: future races (a few seasons ahead) are planned with the latest field and models
SUPPORTED_SEASONS = (2018, date.today().year + 5)


def _ascii_digits(text: str) -> str:
    if any(ch.isdigit() and not ch.isascii() for ch in text):
        raise ValueError("write a round number with the digits 0-9 (no fullwidth or other "
                         "script digits)")
    return text


def _supported_season(season: int) -> int:
    first, last = SUPPORTED_SEASONS
    if not first <= season <= last:
        raise ValueError(f"season {season} is outside the supported range {first}-{last} "
                         "(seasons with lap timing data, and future ones up to five years ahead)")
    return season


EventName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
                      AfterValidator(_ascii_digits)]
SupportedSeason = Annotated[int, AfterValidator(_supported_season)]

#: most options a live call simulates: stay out, or box for each dry compound (to the flag, or
#: with more stops later)
LIVE_OPTIONS = 7

Driver = Field(pattern="^[A-Za-z0-9]{3}$", description="Three-letter driver code.", examples=["LEC"])
Season = Field(description=f"Championship year, {SUPPORTED_SEASONS[0]}-{SUPPORTED_SEASONS[1]}.",
               examples=[2024])
Event = Field(description="Round number, event name, circuit or location.", examples=["Monza"])
Seed = Field(default=0, ge=0, le=2**31 - 1, description="Seed of the random numbers (same seed, same answer).")


def _is_bool(annotation) -> bool:
    if annotation is bool:
        return True
    return any(a is bool for a in typing.get_args(annotation))


def _numeric(annotation) -> bool:
    """int/float, optionally in ``X | None`` or ``list[X]`` (bools excluded)."""
    if annotation in (int, float):
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list):
        return any(_numeric(a) for a in typing.get_args(annotation) if a is not type(None))
    if origin is Annotated:
        return _numeric(typing.get_args(annotation)[0])
    return False


class OperationRequest(BaseModel):
    """Base of every request: numbers are accepted where text is expected (``event: 3``), but
    unknown fields and ``true``/``false`` for a number are refused."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, data):
        if not isinstance(data, dict):
            return data
        bad = []
        for name, info in cls.model_fields.items():
            value = data.get(name)
            if _is_bool(info.annotation) or not _numeric(info.annotation):
                continue
            values = value if isinstance(value, list) else [value]
            if any(isinstance(v, bool) for v in values):
                bad.append(name)
        if bad:
            raise ValueError(", ".join(bad) + ": true/false is not a number")
        return data

    def simulated_races(self) -> int:
        """The Monte Carlo races this request implies (its cost for limits); 0 when none."""
        return 0

    @classmethod
    def of(cls, data):
        """``data`` (this request, or a dict of its fields) as this request type.

        Raises:
            InvalidRequestError: a field is missing or out of bounds (all of them are named).
        """
        if isinstance(data, cls):
            return data
        if isinstance(data, BaseModel):
            data = data.model_dump()
        if not isinstance(data, dict):
            raise InvalidRequestError(f"A {cls.__name__} must be an object, got {type(data).__name__}.")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise invalid_request(exc) from None


def invalid_request(exc: ValidationError) -> InvalidRequestError:
    """pydantic's errors as one readable :class:`InvalidRequestError`."""
    parts = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e["loc"]) or "request"
        parts.append(f"{where} is required" if e["type"] == "missing" else f"{where}: {e['msg']}")
    return InvalidRequestError("; ".join(parts) + ".", details={"errors": [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]})


# ------------------------------------------------------------------------------ strategy
class GenerateRequest(OperationRequest):
    """``POST /strategy/generate``, ``f1analyzer strategy``."""

    season: SupportedSeason = Season
    event: EventName = Event
    driver: str | None = Field(default=None, pattern="^[A-Za-z0-9]{3}$",
                               description="Driver code; default the P1 of the grid (lap-1 order).")
    grid: int | None = Field(default=None, ge=1, le=30, description="Starting slot, 1..number of cars.")
    top_k: int = Field(default=3, ge=1, le=10, description="Strategies returned.")
    n_sims: int = Field(default=300, ge=10, le=2000, description="Monte Carlo races per finalist strategy.")
    seed: int = Seed
    pre_race: bool = Field(default=True, description="Use only races before the event for driver pace.")

    def simulated_races(self) -> int:
        from f1analyzer.app.common import N_RACED  # every raced plan runs n_sims races

        return self.n_sims * N_RACED


#: most generate requests one ``POST /strategy/batch`` answers inside the HTTP request
BATCH_MAX_REQUESTS = 10
#: most generate requests of one ``POST /admin/strategy/batch`` job (ten races of a full field;
#: whole seasons are ``f1analyzer season-preview``'s work)
JOB_BATCH_MAX_REQUESTS = 200


class BatchRequest(OperationRequest):
    """``POST /strategy/batch``."""

    requests: list[GenerateRequest] = Field(
        min_length=1, description=f"At most {BATCH_MAX_REQUESTS}; larger batches run as an admin job "
        "(POST /admin/strategy/batch).")

    @field_validator("requests")
    @classmethod
    def _at_most(cls, v: list) -> list:
        if len(v) > BATCH_MAX_REQUESTS:
            raise ValueError(
                f"a batch holds at most {BATCH_MAX_REQUESTS} requests (got {len(v)}); larger batches run "
                "as a background job on the batch executor: POST /admin/strategy/batch with an admin key")
        return v

    def simulated_races(self) -> int:
        return sum(r.simulated_races() for r in self.requests)


class StopIn(OperationRequest):
    lap: int = Field(ge=1, le=200, description="In-lap: the car pits at the end of this lap.")
    compound: Compound


class StrategyIn(OperationRequest):
    driver: str = Driver
    start_compound: Compound
    stops: list[StopIn] = Field(default_factory=list, max_length=5)


class SimulateRequest(OperationRequest):
    """``POST /strategy/simulate``."""

    season: SupportedSeason = Season
    event: EventName = Event
    strategies: list[StrategyIn] = Field(min_length=1, max_length=30)
    n_sims: int = Field(default=2000, ge=10, le=20000)
    seed: int = Seed
    pre_race: bool = True

    def simulated_races(self) -> int:
        return self.n_sims  # one Monte Carlo of the whole field, the given plans included


class CarState(OperationRequest):
    driver: str = Driver
    position: int | None = Field(default=None, ge=1, le=30)
    gap_to_leader_s: float | None = Field(default=None, ge=0, le=1000)
    compound: Compound | None = None
    tyre_age_laps: int | None = Field(default=None, ge=0, le=100)
    stops: int | None = Field(default=None, ge=0, le=5)
    compounds_used: list[Compound] | None = None
    retired: bool | None = None


class LiveRequest(OperationRequest):
    """``POST /strategy/live``, ``f1analyzer live``."""

    season: SupportedSeason = Season
    event: EventName = Event
    lap: int = Field(ge=1, le=200, description="Laps completed by the leader.")
    driver: str = Driver
    track_status: LiveTrackStatusName = Field(
        default="green", description="green | sc | vsc | red (the race suspended: a tyre change now is "
                                     "free, and the race resumes behind the Safety Car).")
    compound: Compound | None = Field(default=None, description="The driver's fitted compound.")
    tyre_age_laps: int | None = Field(default=None, ge=0, le=100)
    position: int | None = Field(default=None, ge=1, le=30)
    gap_to_leader_s: float | None = Field(default=None, ge=0, le=1000)
    stops: int | None = Field(default=None, ge=0, le=5)
    cars: list[CarState] = Field(default_factory=list, max_length=30,
                                 description="Other cars' state; default the stored race's real state.")
    neutral_laps_remaining: int | None = Field(
        default=None, ge=1, le=20,
        description="Laps the SC/VSC that is out stays (this one included). Default: the stored "
                    "race's when it had one on that lap, else unknown — each simulated race draws it "
                    "from the circuit's fitted durations.")
    n_sims: int = Field(default=400, ge=10, le=5000)
    seed: int = Seed
    pre_race: bool = True

    def simulated_races(self) -> int:
        return self.n_sims * LIVE_OPTIONS


class UndercutRequest(OperationRequest):
    """``POST /strategy/undercut``."""

    season: SupportedSeason = Season
    event: EventName = Event
    driver: str = Driver
    rival: str = Driver
    lap: int = Field(ge=1, le=200)
    gap_s: float | None = Field(default=None, ge=-200, le=200,
                                description="Rival's lead over the driver (s); negative: the driver is ahead.")
    compound: DryCompound | None = Field(default=None, description="Driver's new set.")
    rival_compound: DryCompound | None = None
    tyre_age_laps: int | None = Field(default=None, ge=0, le=100)
    rival_tyre_age_laps: int | None = Field(default=None, ge=0, le=100)
    current_compound: Compound | None = None
    rival_current_compound: Compound | None = None
    pit_lap: int | None = Field(default=None, ge=1, le=200)
    max_delay_laps: int = Field(default=8, ge=1, le=30)
    track_status: TrackStatusName = "green"
    cars: list[CarState] = Field(default_factory=list, max_length=30)
    n_sims: int = Field(default=200, ge=0, le=5000)
    seed: int = Seed
    pre_race: bool = True

    def simulated_races(self) -> int:
        return 2 * self.n_sims  # the undercut and the stay-out runs


class ReplayRequest(OperationRequest):
    """``POST /strategy/replay``, ``f1analyzer replay``."""

    season: SupportedSeason = Season
    event: EventName = Event
    from_lap: int = Field(default=1, ge=0, le=200, description="Laps completed when the simulation takes over (0 = grid).")
    changes: list[str] = Field(default_factory=list, max_length=20,
                               description="'VER:pit=18:HARD', 'LEC:plan=M-20-H' or 'NOR:nostop'.",
                               examples=[["VER:pit=18:HARD"]])
    track_status: Literal["real", "sampled"] = "real"
    retirements: Literal["real", "sampled"] = Field(
        default="real", description="'real': the race's retirements on their laps, like its real SC/VSC "
                                    "(the replay asks what plans and pace made of that race); 'sampled': "
                                    "drawn from the fitted retirement rates.")
    n_sims: int = Field(default=1000, ge=10, le=5000)
    seed: int = Seed
    pre_race: bool = Field(default=False, description="Driver pace from races before the event only "
                                                       "(default: the pace the race really had).")

    def simulated_races(self) -> int:
        return self.n_sims

    @field_validator("changes", mode="before")
    @classmethod
    def _split(cls, v):
        # the CLI and old callers give "VER:pit=18:HARD,NOR:nostop" as one string
        return [c for c in v.split(",") if c.strip()] if isinstance(v, str) else v


class BacktestRequest(OperationRequest):
    """``f1analyzer backtest``."""

    season: SupportedSeason = Season
    rounds: list[int] | None = Field(default=None, description="Only these rounds.")
    models_from: Literal["train", "asof", "registry", "bundled"] = Field(
        default="train", description="train: physical models fitted on the earlier seasons; asof: each race "
                                     "on the models its pre-race answer uses (every earlier race, slower); "
                                     "registry: the current set; bundled: the shipped set.")
    opt_sims: int = Field(default=300, ge=10, le=2000)
    replay_sims: int = Field(default=500, ge=10, le=5000)
    advisor_sims: int = Field(default=100, ge=10, le=5000)
    advisor: bool = True
    seed: int = Seed


# ------------------------------------------------------------------------------ predictions
class LapTimeRequest(OperationRequest):
    """``POST /predict/laptime``."""

    season: SupportedSeason = Season
    event: EventName = Event
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


class PitStopRequest(OperationRequest):
    """``POST /predict/pitstop``."""

    season: SupportedSeason | None = Field(default=None, description="Championship year.")
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

    @field_validator("event")
    @classmethod
    def _event_digits(cls, v: str | None) -> str | None:
        return _ascii_digits(v) if v is not None else v


# ------------------------------------------------------------------------------ knowledge
class QueryFilters(OperationRequest):
    """Hard filters: nothing outside them is retrieved."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    season: int | None = Field(default=None, ge=1950, le=2100, examples=[2021])
    event: str | None = Field(default=None, min_length=1, max_length=80,
                              description="Event name ('Hungarian Grand Prix'), or a circuit, "
                                          "location or country ('Monza', 'Hungary').",
                              examples=["Hungary"])
    driver: str | None = Field(default=None, min_length=2, max_length=40,
                               description="Three-letter code or surname.", examples=["HAM"])


class QueryRequest(OperationRequest):
    """``POST /query``, ``f1analyzer query``."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    query: str = Field(min_length=1, max_length=1000, description="The question.",
                       examples=["Who won the 2021 Hungarian Grand Prix?"])
    top_k: int = Field(default=5, ge=1, le=20, description="Passages retrieved and cited.")
    filters: QueryFilters | None = None


class QueryBatchRequest(OperationRequest):
    """``POST /query/batch``."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    queries: list[QueryRequest] = Field(min_length=1, max_length=20,
                                        description="Up to 20 questions; new ones are embedded together.")


# ------------------------------------------------------------------------------ admin jobs
class IngestRequest(OperationRequest):
    """``POST /admin/ingest``."""

    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(default_factory=list, max_length=500,
                             description="Files or folders on the server (FastF1 lap files).",
                             examples=[["/data/laps/2024.csv.gz"]])
    seasons: list[int] = Field(default_factory=list, max_length=100,
                               description="Seasons to ingest from the server's F1_DATA_DIR/laps.",
                               examples=[[2023, 2024]])
    replace: bool = Field(default=False, strict=True,
                          description="Write a file even when it drops more than the allowed share "
                          "(F1A_INGEST_MAX_DROP_SHARE) of a stored race's or season's laps.")

    @model_validator(mode="after")
    def _something(self) -> "IngestRequest":
        if not self.paths and not self.seasons:
            raise ValueError("give 'paths' or 'seasons'")
        if any(not p.strip() for p in self.paths):
            raise ValueError("paths must not be empty")
        if any(s < 1950 or s > 2100 for s in self.seasons):
            raise ValueError("seasons must be between 1950 and 2100")
        return self


class TrainRequest(OperationRequest):
    """``POST /admin/train``, ``f1analyzer train``."""

    model_config = ConfigDict(extra="forbid")

    start_year: int = Field(default=2018, ge=1950, le=2100, description="First season to fit on.")
    end_year: int | None = Field(default=None, ge=1950, le=2100,
                                 description="Last season (default: the start year's range up to 2024).")
    quick: bool = Field(default=False, description="Fewer iterations (smoke test).")

    @model_validator(mode="after")
    def _order(self) -> "TrainRequest":
        if self.end_year is not None and self.end_year < self.start_year:
            raise ValueError("end_year must not be before start_year")
        return self


class ReindexRequest(OperationRequest):
    """``POST /admin/reindex``."""

    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------------------ race day
class LiveSessionRequest(OperationRequest):
    """``POST /live/sessions``: start following a race (docs/RACEDAY.md)."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    feed: Literal["replay", "openf1"] = Field(default="replay", description="Where the race comes from.")
    # a supported season, as every other request: season 0 was a 500 from deep in the race build
    season: SupportedSeason = Season
    event: EventName = Event
    speed: float = Field(default=60.0, ge=0, le=100_000,
                         description="Replay: race seconds per second (60 = a race minute per second; 0 = no waits).")
    from_lap: int = Field(default=1, ge=1, le=100, description="Replay: first lap emitted.")
    session_key: str | None = Field(default=None, max_length=20, pattern="^(latest|[0-9]+)$",
                                    description="OpenF1: the session followed (default: latest).")


class StrategyBatchJobRequest(OperationRequest):
    """``POST /admin/strategy/batch``: a strategy batch too large for one HTTP request."""

    requests: list[GenerateRequest] = Field(min_length=1, max_length=JOB_BATCH_MAX_REQUESTS,
                                            description="Generate requests; answered in this order.")
