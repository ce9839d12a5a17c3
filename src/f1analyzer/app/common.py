"""Shared plumbing of the strategy operations (:mod:`.strategy`, :mod:`.live`): the race build
every operation starts from, the driver check, the model block and JSON clean-up.

Requests arrive typed (:mod:`.requests`) and already bounded; what is checked here depends on
the race (is the driver in the field?) and is checked once per request.
"""

from __future__ import annotations

import functools

import numpy as np

from f1analyzer.config import get_settings
from f1analyzer.errors import DataNotLoadedError, NotFoundError
from f1analyzer.models.asof import ASOF_DIR, models_as_of, span
from f1analyzer.models.bundled import as_race_models
from f1analyzer.models.loading import ModelSet
from f1analyzer.models.race_models import RaceModels
from f1analyzer.simulation.planning.optimiser import MIN_STINT_LAPS  # noqa: F401 - re-exported
from f1analyzer.simulation.planning.optimiser import TIMING_OPTIONS, TIMING_SHIFTS
from f1analyzer.simulation.scenario.build import BuiltRace, build_race, unknown_driver

N_FINALISTS = 8
#: plans one optimisation races at most: the finalists and the timing variants of the best options
N_RACED = N_FINALISTS + TIMING_OPTIONS * len(TIMING_SHIFTS)


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


#: ``cache_dir`` default of :func:`pre_race_models`: the settings' ``<models_dir>/asof``
SETTINGS_ASOF_DIR = object()


def pre_race_models(models, store, season: int, event, *, cache_dir=SETTINGS_ASOF_DIR) -> tuple[object, dict]:
    """The models a pre-race answer may use, and what they saw (no hindsight).

    For a race in the store: models fitted only on races before it (:func:`models_as_of`,
    cached under ``<models_dir>/asof``); the given models when they never saw its season.
    An event that is not stored has no known place in the calendar: the given models are used
    and ``data_used`` says so. ``cache_dir=None``: no cache (a batch worker on another machine)."""
    try:
        row = store.find_race(season, event)
    except (NotFoundError, DataNotLoadedError):
        seen = sorted(int(s) for s in (getattr(models, "seasons_", None) or []))
        return models, {"models_fitted_on": f"seasons {span(seen)} (as trained; the event is not stored, "
                                            "so no cutoff applies)", "training_seasons": seen,
                        "cutoff": None, "source": "given"}
    if cache_dir is SETTINGS_ASOF_DIR:
        cache_dir = get_settings().models_dir / ASOF_DIR
    return models_as_of(store, season, int(row["round"]), models=models, cache_dir=cache_dir)


def _build(req, models: RaceModels, store, *, as_of: tuple | None = None) -> BuiltRace:
    """The race of a typed request (its ``season``, ``event`` and ``pre_race``); a pre-race build
    uses only what was known before the race (:func:`pre_race_models`, or ``as_of``: its answer
    computed already, as batch tasks do) and records it in ``BuiltRace.data_used``."""
    used: dict = {}
    if req.pre_race:
        models, used = as_of if as_of is not None else pre_race_models(models, store, req.season, req.event)
    built = build_race(req.season, req.event, models=models, store=store, pre_race=req.pre_race)
    if used:
        built.data_used.update({**used, "data_hash": getattr(models, "data_hash_", None)})
        if used.get("hindsight"):
            built.confidence_reasons.append(
                "The models saw this race itself: no earlier race is stored to fit them without it.")
        elif used.get("thin"):
            built.confidence_reasons.append(
                f"The models saw only {used['races']} races before this one ({used['models_fitted_on']}).")
    return built


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
    """The ``model`` block of an answer: which model set (``version``) and what it saw (for a
    pre-race answer about a past race: the as-of models fitted on the races before it)."""
    used = built.data_used
    seasons = used.get("training_seasons", getattr(models, "seasons_", []))
    return {"version": version, "circuit_model": built.model_circuit, "training_seasons": list(seasons),
            "data_hash": used.get("data_hash", getattr(models, "data_hash_", None)),
            "grid_source": built.grid_source, "pre_race": built.pre_race, "data_used": dict(used)}
