from __future__ import annotations

import numpy as np
from fastapi import APIRouter

from ...data.circuits import resolve_circuit
from ...data.session import Race
from ...errors import DataNotLoadedError, InvalidRequestError, NotFoundError
from ..deps import StateDep
from ..slowwork import SlowWorkDep
from ..schemas.predict import LapTimePrediction, LapTimeRequest, PitStopPrediction, PitStopRequest
from ...models.features import prepare_laps
from ...models.pitstop import HORIZON_LAPS

router = APIRouter(prefix="/predict", tags=["predict"])


def _stored_race(state, season: int | None, event: str | None) -> Race | None:
    if season is None or not event:
        return None
    try:
        return Race(season, event, store=state.store)
    except DataNotLoadedError:
        return None


def _driver_context(race: Race, driver: str, lap: int) -> dict:
    """Recent clean laps of the current stint, gaps and position at the end of ``lap − 1``."""

    prep = prepare_laps(race.laps, race.store.races(race.season))
    d = prep[(prep["driver"] == driver.upper())]
    if d.empty:
        raise NotFoundError.with_suggestions(f"driver in {race.season} {race.event}", driver.upper(),
                                             sorted(prep["driver"].unique()))
    before = d[d["lap_number"] < lap]
    if before.empty:
        raise InvalidRequestError(f"{driver.upper()} has no lap before lap {lap} in {race.event}.")
    last = before.iloc[-1]
    stint = before[before["stint"] == last["stint"]]
    clean = stint[stint["clean"] & stint["lap_time_s"].notna()]
    actual = d.loc[d["lap_number"] == lap, "lap_time_s"]
    return {
        "recent": clean["lap_time_s"].tolist(),
        "gap_ahead_s": None if np.isnan(last["gap_ahead_s"]) else float(last["gap_ahead_s"]),
        "gap_behind_s": None if np.isnan(last["gap_behind_s"]) else float(last["gap_behind_s"]),
        "position": None if np.isnan(last["position"]) else int(last["position"]),
        "stint_lap": int(last["stint_lap"]) + 1,
        "actual": float(actual.iat[0]) if len(actual) and np.isfinite(actual.iat[0]) else None,
    }


@router.post("/laptime", response_model=LapTimePrediction, summary="One-lap-ahead lap time")
async def predict_laptime(state: StateDep, work: SlowWorkDep, body: LapTimeRequest) -> LapTimePrediction:
    # reading a stored race and its features is the slow part: on the slow-work pool, with the deadline
    return await work.run(lambda: _laptime(state, body), what="lap-time prediction")


def _laptime(state, body: LapTimeRequest) -> LapTimePrediction:
    models = state.services.model_set()
    model = models.require("laptime")
    race = _stored_race(state, body.season, body.event)
    if race is not None:
        circuit, total = race.circuit_key, race.total_laps
        ctx = _driver_context(race, body.driver, body.lap) if body.recent_lap_times_s is None else {}
    else:
        if body.recent_lap_times_s is None:
            raise NotFoundError(f"No stored race {body.season} {body.event!r}: give recent_lap_times_s "
                                "(and total_laps) to predict without it.")
        if body.total_laps is None:
            raise InvalidRequestError("total_laps is needed when the race is not stored.")
        circuit, total, ctx = resolve_circuit(body.event), body.total_laps, {}
    recent = body.recent_lap_times_s if body.recent_lap_times_s is not None else ctx.get("recent", [])
    if not recent:
        raise InvalidRequestError(f"{body.driver.upper()} has no clean lap in the current stint before lap "
                                  f"{body.lap}; give recent_lap_times_s.")
    out = model.predict_next_lap(
        recent_lap_times_s=recent, lap_number=body.lap, total_laps=total, compound=body.compound,
        tyre_age_laps=body.tyre_age_laps, stint_lap=ctx.get("stint_lap"), circuit_key=circuit,
        gap_ahead_s=ctx.get("gap_ahead_s"), gap_behind_s=ctx.get("gap_behind_s"), position=ctx.get("position"))
    return LapTimePrediction(
        season=body.season, event=race.event if race else body.event, driver=body.driver.upper(), lap=body.lap,
        predicted_lap_time_s=round(out["predicted_s"], 3), persistence_s=round(out["persistence_s"], 3),
        recent_level_s=round(out["level_s"], 3), recent_lap_times_s=[float(t) for t in recent][-10:],
        actual_lap_time_s=ctx.get("actual"), model_version=models.version, model_source=models.source)


@router.post("/pitstop", response_model=PitStopPrediction, summary="Probability of a pit stop in the next 3 laps")
async def predict_pitstop(state: StateDep, work: SlowWorkDep, body: PitStopRequest) -> PitStopPrediction:
    return await work.run(lambda: _pitstop(state, body), what="pit-stop prediction")


def _pitstop(state, body: PitStopRequest) -> PitStopPrediction:
    models = state.services.model_set()
    model = models.require("pitstop")
    race = _stored_race(state, body.season, body.event)
    circuit = race.circuit_key if race else (resolve_circuit(body.event) if body.event else None)
    total = body.total_laps or (race.total_laps if race else None)
    if total is None:
        raise InvalidRequestError("total_laps is needed when season and event do not name a stored race.")
    p = model.predict_state(
        lap_number=body.lap_number, total_laps=total, compound=body.compound, tyre_age_laps=body.tyre_age_laps,
        stint=body.stint, stint_lap=body.stint_lap, position=body.position, gap_ahead_s=body.gap_ahead_s,
        gap_behind_s=body.gap_behind_s, safety_car=body.safety_car, vsc=body.vsc, circuit_key=circuit,
        dry_compounds_used=body.dry_compounds_used, pace_loss_s=body.pace_loss_s,
        field_stops_recent=body.field_stops_recent, cars_with_more_stops=body.cars_with_more_stops)
    return PitStopPrediction(probability=round(p, 4), horizon_laps=HORIZON_LAPS, base_rate=round(model.base_rate_, 4),
                             circuit_key=circuit, total_laps=total, model_version=models.version,
                             model_source=models.source)
