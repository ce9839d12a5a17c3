"""Which models a process uses: the registry's latest set, else the bundled defaults.

``load_model_set(settings)`` returns a :class:`ModelSet`. Order:

1. the newest version in the registry (``get_registry(settings)``: local files + SQLite, or
   S3 + DynamoDB) — everything ``f1analyzer train`` produced;
2. the bundled defaults shipped in the package (``f1analyzer/bundled/``): the fitted race models
   from ``models.bundled.load_bundled_models()`` and, when present, the learned lap-time and
   pit-stop models in ``bundled/learned_models.joblib`` (with its ``learned_models.json`` sidecar).

The application layer (``f1analyzer.app.services.Services``) holds the set a process serves and
reloads it when the registry moves on; nothing here keeps state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import BackendUnavailableError, NotFittedError, NotFoundError
from ..log import get_logger
from .bundled import as_race_models, load_bundled_models
from .registry import code_versions, get_registry

log = get_logger("models.loading")

BUNDLED_DIR = Path(__file__).resolve().parents[1] / "bundled"
BUNDLED_LEARNED = BUNDLED_DIR / "learned_models.joblib"
BUNDLED_LEARNED_SIDECAR = BUNDLED_DIR / "learned_models.json"


@dataclass
class ModelSet:
    """The models one process uses. Any part may be None when it is not available."""

    race_models: Any = None
    laptime: Any = None
    pitstop: Any = None
    version: str | None = None
    source: str = "none"  # "registry" | "bundled" | "none"
    metadata: dict = field(default_factory=dict)
    #: registered versions passed over and why (failed manifest, unreadable file): /health says so
    refused: list[str] = field(default_factory=list)
    #: ``registry_token`` of the registry when this set was chosen (refused versions included), so
    #: a process does not reload on every check because the newest version is refused
    registry_state: str | None = None

    @property
    def is_loaded(self) -> bool:
        return any(m is not None for m in (self.race_models, self.laptime, self.pitstop))

    def require(self, part: str) -> Any:
        """The named part, or ``NotFittedError`` saying how to get one."""
        obj = getattr(self, part)
        if obj is None:
            raise NotFittedError(f"No {part.replace('_', ' ')} model is available (source: {self.source}). "
                                 "Train one with `f1analyzer train` (or `python train_models.py --quick`).")
        return obj

    def summary(self) -> dict:
        return {"version": self.version, "source": self.source,
                "race_models": self.race_models is not None, "laptime": self.laptime is not None,
                "pitstop": self.pitstop is not None,
                "training_seasons": self.metadata.get("training_seasons")}


def registry_token(versions: list[str]) -> str | None:
    """Changes with every registration: newest id and count (None: nothing registered)."""
    return f"{versions[-1]}#{len(versions)}" if versions else None


#: how many registered versions (newest first) are tried before falling back to the bundle
MAX_CANDIDATES = 5


def _load_version(mv) -> ModelSet:
    """Every part of one version; the manifest is checked before the first joblib load."""
    mv.verify()
    names = set(mv.artifact_names())
    parts = {n: (mv.load(n) if n in names else None) for n in ("race_models", "laptime", "pitstop")}
    return ModelSet(**parts, version=mv.version, source="registry", metadata=mv.metadata)


def _from_registry(settings: Settings) -> tuple[ModelSet | None, list[str], str | None]:
    """(the newest registered set that verifies and loads, refusals, the newest version id).

    A version whose manifest does not match (planted, altered, unsigned) or whose files do not
    load (truncated, wrong library) is refused and the previous one tried; the caller falls back
    to the bundled set when none is left.
    """
    refused: list[str] = []
    try:
        reg = get_registry(settings)
        versions = [v.version for v in reg.list()]
    except BackendUnavailableError as exc:
        log.warning("model registry unavailable, using the bundled models: %s", exc.message)
        return None, [f"model registry unavailable: {exc.message}"], None
    newest = registry_token(versions)
    for version in reversed(versions[-MAX_CANDIDATES:]):
        try:
            return _load_version(reg.get(version)), refused, newest
        except (BackendUnavailableError, NotFoundError) as exc:
            why = exc.message
        except Exception as exc:  # noqa: BLE001 - untrusted or unreadable: refuse it, try the previous
            why = getattr(exc, "message", None) or f"{type(exc).__name__}: {str(exc)[:200]}"
        log.error("model version %s refused: %s", version, why)
        refused.append(f"model version {version} refused ({why})")
    return None, refused, newest


def load_bundled_learned() -> tuple[Any, Any, dict]:
    """(laptime, pitstop, sidecar) shipped in the package, or (None, None, {})."""
    if not BUNDLED_LEARNED.is_file():
        return None, None, {}
    import joblib

    try:
        obj = joblib.load(BUNDLED_LEARNED)
        meta = json.loads(BUNDLED_LEARNED_SIDECAR.read_text()) if BUNDLED_LEARNED_SIDECAR.is_file() else {}
    except Exception as exc:  # an unreadable bundle (library versions) must not stop the app
        log.warning("bundled learned models unreadable (%s); lap-time/pit-stop predictions disabled", exc)
        return None, None, {}
    return obj.get("laptime"), obj.get("pitstop"), meta


def write_bundled_learned(laptime: Any, pitstop: Any, metadata: dict, directory: Path = BUNDLED_DIR) -> Path:
    """Ship learned models with the package: ``learned_models.joblib`` + ``learned_models.json``.

    Used by the maintainers after ``f1analyzer train`` on the full data (see ``bundle_latest``).
    """
    import joblib  # heavy; only the maintainers' bundling step writes

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / BUNDLED_LEARNED.name
    joblib.dump({"laptime": laptime, "pitstop": pitstop}, path, compress=3)
    meta = {**metadata, "code": metadata.get("code") or code_versions()}
    (directory / BUNDLED_LEARNED_SIDECAR.name).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
    return path


def bundle_latest(settings: Settings, directory: Path = BUNDLED_DIR) -> Path:
    """Copy the registry's latest learned models into the package's bundle folder."""
    mv = get_registry(settings).latest()
    if mv is None:
        raise NotFittedError("Nothing registered yet: run `f1analyzer train` first.")
    keep = ("version", "created_at", "training_seasons", "data_hash", "metrics", "code", "n_laps")
    return write_bundled_learned(mv.load("laptime"), mv.load("pitstop"),
                                 {k: mv.metadata.get(k) for k in keep}, directory)


def _bundled() -> ModelSet:
    race_models = _bundled_race_models()
    laptime, pitstop, meta = load_bundled_learned()
    version = meta.get("version") or ("bundled" if race_models is not None or laptime is not None else None)
    source = "bundled" if (race_models is not None or laptime is not None or pitstop is not None) else "none"
    return ModelSet(race_models=race_models, laptime=laptime, pitstop=pitstop, version=version,
                    source=source, metadata=meta)


def _bundled_race_models() -> Any:
    try:
        return load_bundled_models()
    except NotFittedError:
        log.info("no bundled race models in this build")
    except Exception as exc:
        log.warning("bundled race models unreadable: %s", exc)
    return None


def load_model_set(settings: Settings) -> ModelSet:
    """The registry's latest model set, else the bundled defaults (``source`` says which).

    A registered set without race models (their fit failed or was skipped) borrows the bundled
    ones; ``metadata["race_models_source"]`` then says ``"bundled"``.
    """
    ms, refused, newest = _from_registry(settings)
    if ms is None:
        ms = _bundled()
        if refused:
            refused.append(f"serving the {ms.source} models instead")
    elif refused:
        refused.append(f"serving the previous good version {ms.version} instead")
    ms.refused, ms.registry_state = refused, newest
    if ms.race_models is None:
        ms.race_models = _bundled_race_models()
        if ms.race_models is not None:
            ms.metadata = {**ms.metadata, "race_models_source": "bundled"}
    return ms


def current_race_models(settings: Settings) -> Any:
    """Race models of :func:`load_model_set` (the registry's latest, else the bundled ones).

    A one-off read for batch work (documents, scripts); a serving process asks its
    ``Services.model_set()`` instead, which keeps the set and follows the registry.
    """
    try:
        return as_race_models(load_model_set(settings))
    except NotFittedError:
        return load_bundled_models()
