from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from ...data.circuits import fan_name
from ...data.schema import plain_value
from ...data.teams import driver_styles

from ...data.session import Race
from ..csv_response import CSV_NOTE, csv_response, wants_csv
from ..deps import StoreDep
from ..schemas.races import RaceDetail, RacePublic, RacesPublic

router = APIRouter(prefix="/races", tags=["races"])

Season = Annotated[int, Path(ge=1950, le=2100, description="Championship year, e.g. 2024.")]
Event = Annotated[str, Path(min_length=1, max_length=80, description="Round number, event name, circuit or location.")]
Session = Annotated[str, Query(pattern="^(race|sprint)$", description="race (the Grand Prix) or that weekend's sprint.")]


def _public(r: dict) -> RacePublic:
    return RacePublic(**{k: r[k] for k in RacePublic.model_fields if k in r}, circuit=fan_name(r["circuit_key"]))


@router.get("", response_model=RacesPublic, summary="Races in the store", description=CSV_NOTE)
def list_races(store: StoreDep, request: Request,
               season: Annotated[int | None, Query(ge=1950, le=2100)] = None,
               session: Annotated[str | None, Query(pattern="^(race|sprint)$",
                                                    description="race or sprint (default: both).")] = None,
               ):
    df = store.races(season, session=session)
    data = [_public(r) for r in df.to_dict("records")]
    if wants_csv(request):
        return csv_response((d.model_dump() for d in data), list(RacePublic.model_fields), "races.csv")
    return RacesPublic(data=data, count=len(data), rejections=store.rejections(season, session=session))


@router.get("/{season}/{event}", response_model=RaceDetail, summary="One race: results, stints, pit stops")
def get_race(store: StoreDep, season: Season, event: Event, session: Session = "race") -> RaceDetail:
    race = Race(season, event, store=store, session=session)
    info = _public(race.info).model_dump()
    stints = [{k: plain_value(v) for k, v in r.items()} for r in race.stints.to_dict("records")]
    stops = [{k: plain_value(v) for k, v in r.items()} for r in race.pit_stops.to_dict("records")]
    status = {int(k): str(v) for k, v in race.track_status_by_lap().items()}
    results = race.results.to_dict("records")
    styles = driver_styles(race.season, {r["driver"]: r.get("team") for r in results}, [r["driver"] for r in results])
    results = [{**r, **{k: styles[r["driver"]][k] for k in ("color", "dash")}} for r in results]
    return RaceDetail(**info, results=results, stints=stints, pit_stops=stops,
                      track_status_by_lap=status)


@router.get("/{season}/{event}/laps", summary="Lap times per driver (for pace charts)")
def race_laps(store: StoreDep, season: Season, event: Event,
              driver: Annotated[str | None, Query(pattern="^[A-Za-z]{3}$")] = None,
              session: Session = "race") -> dict:
    race = Race(season, event, store=store, session=session)
    laps = race.laps if driver is None else race.laps.pick_drivers(driver)
    cols = ["driver", "lap_number", "lap_time_s", "session_time_s", "compound", "tyre_life_laps", "fresh_tyre",
            "stint", "position", "track_status", "is_clean", "pit_in"]
    out: dict[str, list] = {}
    for drv, g in laps[cols].groupby("driver", sort=True):
        out[str(drv)] = [
            {k: plain_value(v) for k, v in row.items() if k != "driver"}
            for row in g.drop(columns=["driver"]).to_dict("records")
        ]
    return {"season": race.season, "round": race.round, "event": race.event, "total_laps": race.total_laps,
            "drivers": out}
