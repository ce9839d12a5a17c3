"""Shared plumbing of the strategy engine's plain-data entry points (:mod:`.service`,
:mod:`.service_live`): request-field defaults and bounds, model/store resolution, request
field parsing, JSON clean-up and the race build every entry point starts from.
"""

from __future__ import annotations

import numpy as np

from f1analyzer.config import get_settings
from f1analyzer.errors import DataNotLoadedError, InvalidRequestError, NotFoundError
from f1analyzer.models.asof import ASOF_DIR, models_as_of, span
from f1analyzer.simulation.planning.optimiser import MIN_STINT_LAPS
from f1analyzer.simulation.scenario.build import BuiltRace, build_race
from f1analyzer.simulation.core.params import TrackStatus

#: defaults and bounds of request fields (the API schemas use the same numbers)
DEFAULT_GENERATE_SIMS = 300
DEFAULT_SIMULATE_SIMS = 2000
DEFAULT_LIVE_SIMS = 400
DEFAULT_UNDERCUT_SIMS = 200
DEFAULT_REPLAY_SIMS = 1000
MAX_SIMS = 20_000
MAX_TOP_K = 10
N_FINALISTS = 8
TRACK_STATUS = {"green": TrackStatus.GREEN, "sc": TrackStatus.SC, "vsc": TrackStatus.VSC}


# ------------------------------------------------------------------------------ plumbing
def resolve_models(models=None):
    """RaceModels from a model set / RaceModels / None (the current set, else the bundled one)."""
    from f1analyzer.models.bundled import as_race_models, current_race_models

    return current_race_models() if models is None else as_race_models(models)


def resolve_store(store=None):
    if store is not None:
        return store
    from f1analyzer.config import get_settings
    from f1analyzer.data.store import RaceStore

    return RaceStore(get_settings().store_dir)


def _int(req: dict, name: str, default=None, *, lo=None, hi=None, required=False):
    v = req.get(name, default)
    if v is None:
        if required:
            raise InvalidRequestError(f"{name} is required.")
        return None
    try:
        v = int(v)
    except (TypeError, ValueError):
        raise InvalidRequestError(f"{name} must be an integer, got {req.get(name)!r}.") from None
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise InvalidRequestError(f"{name} must be between {lo} and {hi}, got {v}.",
                                  details={"valid_range": [lo, hi]})
    return v


def _event(req: dict):
    ev = req.get("event")
    if ev is None or str(ev).strip() == "":
        raise InvalidRequestError("event is required: a round number, event name, circuit or location.")
    return ev


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
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return plain(fn(*args, **kwargs))

    return wrapper


def pre_race_models(models, store, season: int, event) -> tuple[object, dict]:
    """The models a pre-race answer may use, and what they saw (no hindsight).

    For a race in the store: models fitted only on races before it (:func:`models_as_of`,
    cached under ``<models_dir>/asof``); the given models when they never saw its season.
    An event that is not stored has no known place in the calendar: the given models are used
    and ``data_used`` says so."""
    try:
        row = store.find_race(season, event)
    except (NotFoundError, DataNotLoadedError):
        seen = sorted(int(s) for s in (getattr(models, "seasons_", None) or []))
        return models, {"models_fitted_on": f"seasons {span(seen)} (as trained; the event is not stored, "
                                            "so no cutoff applies)", "training_seasons": seen,
                        "cutoff": None, "source": "given"}
    return models_as_of(store, season, int(row["round"]), models=models,
                        cache_dir=get_settings().models_dir / ASOF_DIR)


def _build(req: dict, models, store, *, driver=None, grid=None, pre_race=True) -> BuiltRace:
    """The race of a request; a pre-race build uses only what was known before the race
    (:func:`pre_race_models`) and records it in ``BuiltRace.data_used``."""
    season = _int(req, "season", required=True, lo=1950, hi=2100)
    used: dict = {}
    if pre_race:
        models, used = pre_race_models(models, store, season, _event(req))
    built = build_race(season, _event(req), models=models, store=store, pre_race=pre_race,
                       driver=driver, grid=grid)
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
    code = str(driver).strip().upper()
    if code not in built.drivers:
        from f1analyzer.simulation.scenario.build import unknown_driver

        raise unknown_driver(code, built.drivers, f"{built.season} {built.event}")
    return code


def _meta(built: BuiltRace) -> dict:
    return {"season": built.season, "round": built.round, "event": built.event,
            "circuit_key": built.circuit_key, "total_laps": built.params.total_laps,
            "n_cars": built.params.n_cars}


def _model_info(models, built: BuiltRace) -> dict:
    used = built.data_used
    seasons = used.get("training_seasons", getattr(models, "seasons_", []))
    return {"circuit_model": built.model_circuit, "training_seasons": list(seasons),
            "data_hash": used.get("data_hash", getattr(models, "data_hash_", None)), "grid_source": built.grid_source,
            "pre_race": built.pre_race, "data_used": dict(built.data_used)}
