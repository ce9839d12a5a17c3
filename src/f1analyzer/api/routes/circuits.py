"""`/circuits`: the fitted race models of each track (degradation, pit loss, SC odds, overtaking)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from ...data.circuits import fan_name

from ...models.bundled import as_race_models
from ...models.race_models import CircuitModel
from ...simulation.scenario.pit_and_passing import held_gap_for
from ..csv_response import CSV_NOTE, csv_response, wants_csv
from ..deps import StateDep
from ..schemas.circuits import CircuitDetail, CircuitsPublic, CircuitSummary

router = APIRouter(prefix="/circuits", tags=["circuits"])

Key = Annotated[str, Path(min_length=1, max_length=80, description="Circuit key ('monza'), name or Grand Prix.")]


def summary(cm: CircuitModel) -> dict:
    return {
        "key": cm.key, "name": cm.name, "fan_name": fan_name(cm.key), "n_races": cm.n_races, "seasons": cm.seasons, "total_laps": cm.total_laps,
        "base_lap_time_s": cm.base_lap_time_s, "fuel_effect_s_per_lap": cm.fuel_effect_s_per_lap,
        "pit_loss_s": cm.pit_loss_s, "pit_loss_sc_s": cm.pit_loss_sc_s, "pit_loss_vsc_s": cm.pit_loss_vsc_s,
        "sc_probability": cm.sc.p_at_least_one, "vsc_probability": cm.vsc.p_at_least_one,
        "overtake_threshold_s": cm.overtake_threshold_s, "overtakes_per_race": cm.overtakes_per_race,
        "retirement_prob": cm.retirement_prob,
    }


@router.get("", response_model=CircuitsPublic, summary="Fitted race models of every circuit",
            description=CSV_NOTE)
def list_circuits(state: StateDep, request: Request):
    models = as_race_models(state.services.model_set())
    data = [CircuitSummary(**summary(cm)) for cm in models.circuits_.values()]
    if wants_csv(request):
        return csv_response((d.model_dump() for d in data), list(CircuitSummary.model_fields), "circuits.csv")
    return CircuitsPublic(data=data, count=len(data))


@router.get("/{key}", response_model=CircuitDetail, summary="One circuit's full model and degradation curves")
def get_circuit_model(state: StateDep, key: Key) -> CircuitDetail:
    models = as_race_models(state.services.model_set())
    cm = models.circuit(key)
    d = cm.to_dict()
    return CircuitDetail(
        **summary(cm),
        era=cm.era, eras=list(cm.compounds_by_era), fuel_effect_by_era=cm.fuel_effect_by_era,
        pit_loss_sd_s=cm.pit_loss_sd_s, pit_lane_time_s=cm.pit_lane_time_s, n_pit_stops=cm.n_pit_stops,
        first_lap_loss_s=cm.first_lap_loss_s, per_grid_slot_loss_s=cm.per_grid_slot_loss_s,
        lap1_position_change_sd=cm.lap1_position_change_sd, positions_gained_by_grid=cm.positions_gained_by_grid,
        lap_noise_sd_s=cm.lap_noise_sd_s,
        held_gap_s=list(held_gap_for(models, cm.era)),
        compounds={c: m.to_dict() for c, m in cm.compounds.items()},
        compounds_by_era=d["compounds_by_era"], sc=d["sc"], vsc=d["vsc"],
        degradation_curves=cm.degradation_curves(40),
    )
