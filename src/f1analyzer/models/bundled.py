"""The default model set shipped inside the package (``f1analyzer/bundled/race_models.json``).

It is fitted on the 2018–2024 lap data by ``scripts/build_bundled_models.py`` and holds only fitted
parameters (no laps). Lap data: Armchair Strategist (Apache-2.0), sourced from F1 live timing via
FastF1 — see ``bundled/README.md``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..errors import NotFittedError
from .race_models import RaceModels

BUNDLED_DIR = Path(__file__).resolve().parents[1] / "bundled"
BUNDLED_RACE_MODELS = BUNDLED_DIR / "race_models.json"


def load_bundled_models(path: Path | None = None) -> RaceModels:
    """The shipped :class:`RaceModels` (read once per process and cached).

    Raises:
        NotFittedError: the bundle is missing (run ``scripts/build_bundled_models.py``).
    """
    p = Path(path) if path is not None else BUNDLED_RACE_MODELS
    if not p.is_file():
        raise NotFittedError(
            f"No bundled race models at {p}. Build them with "
            "`python scripts/build_bundled_models.py --data-dir $F1_DATA_DIR`."
        )
    return _load(str(p), p.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _load(path: str, _mtime: int) -> RaceModels:
    return RaceModels.load(Path(path))


def as_race_models(obj: object) -> RaceModels:
    """The :class:`RaceModels` inside a model set (itself, ``.race_models`` or ``["race_models"]``)."""
    if isinstance(obj, RaceModels):
        return obj
    for name in ("race_models", "race", "physical"):
        inner = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if isinstance(inner, RaceModels):
            return inner
    raise NotFittedError(f"The model set {type(obj).__name__} holds no fitted race models.")
