"""As-of race models: what the models knew before a race (no hindsight in pre-race answers).

A pre-race answer for a race that is already in the store must not use that race or any later
one. :func:`models_as_of` returns race models fitted only on the store's races strictly before
``(season, round)`` — every earlier season and the earlier rounds of the same season — and says
so in a ``data_used`` dict the answer carries.

When the given (registry or bundled) models never saw the race's season nor a later one, they
are honest already and are used as they are. Otherwise the as-of set is fitted from the store
(:class:`~f1analyzer.models.race_models.RaceModels`, about 10-30 s for 2018-2023) and cached on
disk under ``<models_dir>/asof/`` by its cutoff and a fingerprint of the races it was fitted
on, so a repeat is a file read. The fingerprint (season, round, lap count of every race before
the cutoff, plus the package version) changes when those races change, never when later races
are added: the cached set is the same with or without the race and later ones in the store.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..errors import DataValidationError
from ..log import get_logger
from .race_models import RaceModels

log = get_logger("models.asof")

#: folder under the models dir holding cached as-of sets
ASOF_DIR = "asof"
#: an as-of set fitted on fewer races than this is flagged (``data_used["thin"]``)
MIN_RACES = 10
#: as-of sets kept in memory (by cache file), so a repeated request skips even the file read
_MEMORY: dict[str, RaceModels] = {}
_MEMORY_SIZE = 8


def races_before(store, season: int, rnd: int) -> pd.DataFrame:
    """Rows of ``store.races()`` strictly before ``(season, rnd)``."""
    races = store.races()
    if races.empty:
        return races
    key = races["season"].astype(int) * 1000 + races["round"].astype(int)
    return races[key < int(season) * 1000 + int(rnd)].reset_index(drop=True)


@functools.cache
def models_code_hash() -> str:
    """Hash of this package's model-fitting code: a cached as-of set fitted by other code (an
    upgrade without a version bump, a local change) must not be reused."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def fingerprint(races: pd.DataFrame) -> str:
    """Short hash of the races an as-of set is fitted on (identity and lap counts) and the code."""
    rows = sorted((int(r["season"]), int(r["round"]), int(r.get("laps", 0) or 0))
                  for r in races.to_dict("records"))
    blob = json.dumps({"races": rows, "version": __version__, "code": models_code_hash()},
                      separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def span(seasons) -> str:
    s = sorted({int(x) for x in seasons})
    return "none" if not s else str(s[0]) if len(s) == 1 else f"{s[0]}-{s[-1]}"


def describe_cutoff(races: pd.DataFrame, season: int) -> str:
    """"2018-2023 + 2024 rounds 1-4" for the races an as-of set saw."""
    if races.empty:
        return "no races"
    earlier = sorted({int(s) for s in races["season"] if int(s) < int(season)})
    same = sorted(int(r) for s, r in zip(races["season"], races["round"]) if int(s) == int(season))
    parts = [f"seasons {span(earlier)}"] if earlier else []
    if same:
        parts.append(f"{season} round{'s' if len(same) > 1 else ''} "
                     f"{same[0]}{'-' + str(same[-1]) if len(same) > 1 else ''}")
    return " + ".join(parts)


def fit_as_of(store, season: int, rnd: int) -> RaceModels:
    """RaceModels fitted on the store's races strictly before ``(season, rnd)``."""
    races = races_before(store, season, rnd)
    if races.empty:
        raise DataValidationError(f"No stored race precedes {season} round {rnd}: nothing to fit on.")
    laps = []
    for s in sorted({int(x) for x in races["season"]}):
        d = pd.DataFrame(store.laps(s))
        keep = races.loc[races["season"] == s, "round"].astype(int)
        laps.append(d[d["round"].astype(int).isin(set(keep))])
    laps = pd.concat(laps, ignore_index=True)
    stops = store.pit_stops()
    if len(stops):
        key = stops["season"].astype(int) * 1000 + stops["round"].astype(int)
        stops = stops[key < int(season) * 1000 + int(rnd)]
    return RaceModels().fit(laps, races, stops)


def models_as_of(store, season: int, rnd: int, *, models=None, cache_dir: Path | None = None
                 ) -> tuple[RaceModels, dict]:
    """Race models that knew only what was known before ``(season, rnd)``, and what they saw.

    Args:
        store: the race store.
        season, rnd: the race (stored or not; its own laps are never used).
        models: the current models; returned unchanged when none of their training seasons is
            ``>= season`` (honest already).
        cache_dir: where as-of sets are cached (``None``: not cached).

    Returns:
        ``(models, data_used)``; ``data_used`` holds ``models_fitted_on`` (plain words),
        ``training_seasons``, ``cutoff`` ``{"season", "round"}`` (everything used is strictly
        before it), ``source`` (``"given"``/``"as_of_cache"``/``"as_of_fit"``) and
        ``fit_seconds`` when fitted now.
    """
    season, rnd = int(season), int(rnd)
    cutoff = {"season": season, "round": rnd}
    seen = sorted(int(s) for s in (getattr(models, "seasons_", None) or []))
    if models is not None and seen and max(seen) < season:
        return models, {"models_fitted_on": f"seasons {span(seen)}", "training_seasons": seen,
                        "cutoff": cutoff, "source": "given"}
    races = races_before(store, season, rnd)
    if races.empty:
        if models is None:
            raise DataValidationError(
                f"No stored race precedes {season} round {rnd}: there is nothing to fit models on "
                "without hindsight. Ingest earlier seasons.")
        # nothing earlier to learn from: answer with the given set and say that it saw the race
        return models, {"models_fitted_on": f"seasons {span(seen)}, this race included (no earlier "
                                            "race is stored to fit models without it)",
                        "training_seasons": seen, "cutoff": None, "source": "given", "hindsight": True}
    words = describe_cutoff(races, season)
    used = {"models_fitted_on": words, "training_seasons": sorted({int(s) for s in races["season"]}),
            "cutoff": cutoff, "races": int(len(races)), "thin": bool(len(races) < MIN_RACES)}
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"{season}-{rnd:02d}-{fingerprint(races)}.json"
        if str(path) in _MEMORY and path.is_file():
            return _MEMORY[str(path)], {**used, "source": "as_of_cache"}
        if path.is_file():
            try:
                return _remember(path, RaceModels.load(path)), {**used, "source": "as_of_cache"}
            except DataValidationError as exc:  # a damaged cache file is refitted
                log.warning("as-of cache %s unreadable, refitting: %s", path, exc.message)
    t0 = time.perf_counter()
    try:
        fitted = fit_as_of(store, season, rnd)
    except (DataValidationError, ValueError, TypeError, KeyError, np.linalg.LinAlgError) as exc:
        # too little (or too odd) earlier data to fit every model: answer with the given set
        # rather than fail, and say plainly that it saw the race
        if models is None:
            raise
        log.warning("as-of fit before %s round %s failed (%s); the current models are used", season, rnd, exc)
        return models, {"models_fitted_on": f"seasons {span(seen)}, this race included (the {len(races)} "
                                            "earlier stored races were too few to fit models without it)",
                        "training_seasons": seen, "cutoff": None, "source": "given", "hindsight": True,
                        "fit_error": str(exc)[:200]}
    seconds = round(time.perf_counter() - t0, 2)
    missing = _missing_dry_compounds(fitted, season)
    if missing and models is not None:
        # the earlier races hold too few laps on a compound of this era: the as-of set cannot price it
        log.warning("as-of models before %s round %s know no %s; the current models are used",
                    season, rnd, "/".join(missing))
        return models, {"models_fitted_on": f"seasons {span(seen)}, this race included (the {len(races)} "
                                            f"earlier stored races have too few clean laps on {'/'.join(missing)} to fit them)",
                        "training_seasons": seen, "cutoff": None, "source": "given", "hindsight": True}
    log.info("as-of models for %s round %s fitted on %s in %.1f s", season, rnd, words, seconds)
    # the answer must not depend on whether the set came from the cache: always use the
    # persisted form (its frames are rounded)
    fitted = RaceModels.from_dict(json.loads(json.dumps(fitted.to_dict(), allow_nan=False)))
    if path is not None:
        fitted.save(path)
        _remember(path, fitted)
    return fitted, {**used, "source": "as_of_fit", "fit_seconds": seconds}


def _missing_dry_compounds(models: RaceModels, season: int) -> list[str]:
    """Dry compounds the all-circuit model has no fit of for ``season``'s era."""
    g = models.global_
    have = g.compounds_by_era.get(models.era_of(season)) or g.compounds
    return [c for c in ("SOFT", "MEDIUM", "HARD") if c not in have]


def _remember(path: Path, models: RaceModels) -> RaceModels:
    if len(_MEMORY) >= _MEMORY_SIZE:
        _MEMORY.pop(next(iter(_MEMORY)))
    _MEMORY[str(path)] = models
    return models


__all__ = ["models_as_of", "fit_as_of", "races_before", "fingerprint", "describe_cutoff", "ASOF_DIR"]
