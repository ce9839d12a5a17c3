"""`/seasons/{season}/strategies` and `/seasons/degradation/{circuit}`: the dashboard's season views
(issue 15); the logic is in ``app/season.py``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from ...app.season import degradation_by_season, saved_season_preview, season_strategies
from ..deps import SettingsDep, StoreDep

router = APIRouter(prefix="/seasons", tags=["races"])

Season = Annotated[int, Path(ge=1950, le=2100, description="Championship year, e.g. 2024.")]
Circuit = Annotated[str, Path(min_length=1, max_length=80, description="Circuit key ('monza'), name or Grand Prix.")]


@router.get("/{season}/strategies", summary="Every driver's tyre stints at every stored race of a season")
def strategies(store: StoreDep, season: Season) -> dict:
    return season_strategies(store, season)


@router.get("/degradation/{circuit}", summary="Lap time against tyre age at one circuit, season by season")
def degradation(store: StoreDep, circuit: Circuit) -> dict:
    return degradation_by_season(store, circuit)


@router.get("/{season}/preview", summary="The saved pre-race preview of a season (f1analyzer season-preview)")
def preview(settings: SettingsDep, season: Season) -> dict:
    """Every driver's pre-race optimum and expected points at every race, as the last
    ``f1analyzer season-preview --season S`` computed it; ``available: false`` with the command to
    run when none is saved."""
    return saved_season_preview(settings.home, season)
