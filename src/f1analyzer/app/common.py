"""Shared plumbing of the strategy operations (:mod:`.strategy`, :mod:`.live`): the race build
every operation starts from, the driver check, the model block and JSON clean-up.

Requests arrive typed (:mod:`.requests`) and already bounded; what is checked here depends on
the race (is the driver in the field?) and is checked once per request.
"""

from __future__ import annotations

import functools

import numpy as np

from f1analyzer.models.bundled import as_race_models
from f1analyzer.models.loading import ModelSet
from f1analyzer.models.race_models import RaceModels
from f1analyzer.simulation.core.params import TrackStatus
from f1analyzer.simulation.planning.optimiser import MIN_STINT_LAPS  # noqa: F401 - re-exported
from f1analyzer.simulation.scenario.build import BuiltRace, build_race, unknown_driver

N_FINALISTS = 8
TRACK_STATUS = {"green": TrackStatus.GREEN, "sc": TrackStatus.SC, "vsc": TrackStatus.VSC}


def unpack_models(models) -> tuple[RaceModels, str | None]:
    """(race models, model-set version) of what a caller handed over: a :class:`ModelSet` (the
    application's, carrying its version) or bare :class:`RaceModels` (tests, benchmarks)."""
    if isinstance(models, ModelSet):
        return as_race_models(models), models.version
    if models is None:
        raise TypeError("models is required: pass the application's model set (Services.model_set()).")
    return as_race_models(models), getattr(models, "data_hash_", None)


def _r(x, nd: int = 3):
    if x is None:
        return None
    x = float(x)
    return round(x, nd) if np.isfinite(x) else None


def plain(obj):
    """``obj`` with numpy scalars/arrays turned into Python numbers/lists, NaN into None (JSON)."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [plain(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def _plain_result(fn):
    """Decorator: the function's dict answer passed through :func:`plain`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return plain(fn(*args, **kwargs))

    return wrapper


def _build(req, models: RaceModels, store) -> BuiltRace:
    """The race of a typed request (its ``season``, ``event`` and ``pre_race``)."""
    return build_race(req.season, req.event, models=models, store=store, pre_race=req.pre_race)


def _driver_code(built: BuiltRace, driver) -> str:
    """The driver's code when they are in the field, else 404 naming the field (the one check)."""
    code = str(driver).strip().upper()
    if code not in built.drivers:
        raise unknown_driver(code, built.drivers, f"{built.season} {built.event}")
    return code


def _meta(built: BuiltRace) -> dict:
    return {"season": built.season, "round": built.round, "event": built.event,
            "circuit_key": built.circuit_key, "total_laps": built.params.total_laps,
            "n_cars": built.params.n_cars}


def _model_info(models: RaceModels, version: str | None, built: BuiltRace) -> dict:
    """The ``model`` block of an answer: which model set (``version``) and what it saw."""
    return {"version": version, "circuit_model": built.model_circuit,
            "training_seasons": list(getattr(models, "seasons_", [])),
            "data_hash": getattr(models, "data_hash_", None), "grid_source": built.grid_source,
            "pre_race": built.pre_race}
