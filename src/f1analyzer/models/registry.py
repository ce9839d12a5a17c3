"""Model registry: versioned model sets behind one small interface.

A *model set* is a folder of artifacts — each object saved with joblib as ``<name>.joblib`` — plus
``metadata.json``, the sidecar that says what the models are: training seasons, a hash of the
training data, evaluation metrics, ``created_at`` and the code and library versions
(``f1analyzer.__version__``, the git commit when available, numpy/pandas/scikit-learn/LightGBM).
joblib files must only be loaded with matching library versions from a trusted source; the
sidecar lets a loader check that.

Backends (``get_registry(settings)`` picks one from ``settings.model_store``):

* ``local`` (default): ``<models_dir>/versions/<version>/`` and a SQLite table of metadata in
  ``<models_dir>/registry.sqlite``. Written to a temporary folder and renamed, so a half-written
  version is never listed.
* ``s3``: artifacts under ``s3://<s3_bucket>/models/<version>/``, metadata in the DynamoDB table
  ``dynamodb_table`` (``pk = "model"``, ``sk = <version>``); see ``registry_aws``.

Version ids sort by time: ``20241006T153000.123456Z-1a2b3c``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sqlite3
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..config import Settings
from ..errors import ConfigError, NotFoundError
from ..log import get_logger
from .. import __version__

log = get_logger("models.registry")

METADATA_FILE = "metadata.json"


@dataclass
class ModelVersion:
    """One registered model set. ``path`` is a local folder holding its artifacts."""

    version: str
    created_at: str
    metadata: dict = field(default_factory=dict)
    path: Path | None = None

    def artifact_names(self) -> list[str]:
        if self.path is None:
            return []
        return sorted(p.name[: -len(".joblib")] for p in Path(self.path).glob("*.joblib"))

    def load(self, name: str) -> Any:
        """Load one artifact (``"laptime"``, ``"pitstop"``, ``"race_models"``...)."""
        import joblib

        p = Path(self.path or ".") / f"{name}.joblib"
        if not p.is_file():
            raise NotFoundError.with_suggestions(f"artifact of model version {self.version}", name,
                                                 self.artifact_names())
        return joblib.load(p)

    def to_dict(self) -> dict:
        return {"version": self.version, "created_at": self.created_at, "metadata": self.metadata}


@runtime_checkable
class ModelRegistry(Protocol):
    """What every registry backend offers."""

    def register(self, artifacts: Path | dict[str, Any], metadata: dict) -> str:
        """Store a model set (a folder of artifacts, or name → object) and return its version."""

    def latest(self) -> ModelVersion | None:
        """The newest version, or None when nothing is registered."""

    def get(self, version: str) -> ModelVersion:
        """One version (raises ``NotFoundError`` listing the known versions)."""

    def list(self) -> list[ModelVersion]:
        """Every version, oldest first."""


# --------------------------------------------------------------------------------- helpers
def new_version(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S.%fZ") + "-" + uuid.uuid4().hex[:6]


def git_sha() -> str | None:
    """The commit of the source tree, when it is a git checkout (never raises)."""
    try:
        root = Path(__file__).resolve().parents[3]
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=False)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def code_versions() -> dict:
    """Versions the artifacts depend on (for the sidecar)."""
    import joblib
    import numpy
    import pandas
    import sklearn

    out = {"f1analyzer": __version__, "git_sha": git_sha(), "python": platform.python_version(),
           "numpy": numpy.__version__, "pandas": pandas.__version__, "scikit-learn": sklearn.__version__,
           "joblib": joblib.__version__}
    try:
        import lightgbm

        out["lightgbm"] = lightgbm.__version__
    except ImportError:  # pragma: no cover - a declared dependency
        pass
    return out


def write_artifacts(directory: Path, objects: dict[str, Any], metadata: dict) -> Path:
    """Save ``objects`` with joblib and the ``metadata.json`` sidecar into ``directory``."""
    import joblib

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, obj in objects.items():
        if obj is not None:
            joblib.dump(obj, directory / f"{name}.joblib", compress=3)
    (directory / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True, default=str))
    return directory


def complete_metadata(metadata: dict, version: str, created_at: str) -> dict:
    meta = dict(metadata)
    meta.setdefault("code", code_versions())
    meta["version"] = version
    meta["created_at"] = created_at
    return meta


def _stage(artifacts: Path | dict[str, Any], staging: Path, meta: dict) -> Path:
    if isinstance(artifacts, dict):
        return write_artifacts(staging, artifacts, meta)
    src = Path(artifacts)
    if not src.is_dir():
        raise NotFoundError(f"Artifacts folder {src} does not exist.")
    shutil.copytree(src, staging, dirs_exist_ok=True)
    (staging / METADATA_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
    return staging


# --------------------------------------------------------------------------------- local
class LocalRegistry:
    """Files under ``root/versions`` and SQLite metadata in ``root/registry.sqlite``."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def db_path(self) -> Path:
        return self.root / "registry.sqlite"

    def _connect(self) -> sqlite3.Connection:
        self.root.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.db_path, timeout=30)
        con.execute("CREATE TABLE IF NOT EXISTS versions (version TEXT PRIMARY KEY, created_at TEXT NOT NULL, "
                    "metadata TEXT NOT NULL)")
        return con

    def register(self, artifacts: Path | dict[str, Any], metadata: dict) -> str:
        created = datetime.now(timezone.utc)
        version = new_version(created)
        meta = complete_metadata(metadata, version, created.isoformat())
        final = self.root / "versions" / version
        staging = self.root / "versions" / f".{version}.tmp"
        try:
            _stage(artifacts, staging, meta)
            os.replace(staging, final)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        con = self._connect()
        try:
            with con:
                con.execute("INSERT INTO versions VALUES (?, ?, ?)",
                            (version, meta["created_at"], json.dumps(meta, sort_keys=True, default=str)))
        finally:
            con.close()
        log.info("registered model set %s in %s", version, final)
        return version

    def _row(self, row: tuple) -> ModelVersion:
        return ModelVersion(version=row[0], created_at=row[1], metadata=json.loads(row[2]),
                            path=self.root / "versions" / row[0])

    def list(self) -> list[ModelVersion]:
        if not self.db_path.exists():
            return []
        con = self._connect()
        try:
            rows = con.execute("SELECT version, created_at, metadata FROM versions ORDER BY version").fetchall()
        finally:
            con.close()
        return [self._row(r) for r in rows]

    def latest(self) -> ModelVersion | None:
        if not self.db_path.exists():
            return None
        con = self._connect()
        try:
            row = con.execute("SELECT version, created_at, metadata FROM versions ORDER BY version DESC "
                              "LIMIT 1").fetchone()
        finally:
            con.close()
        return self._row(row) if row else None

    def get(self, version: str) -> ModelVersion:
        con = self._connect()
        try:
            row = con.execute("SELECT version, created_at, metadata FROM versions WHERE version = ?",
                              (version,)).fetchone()
            if row is None:
                known = [r[0] for r in con.execute("SELECT version FROM versions ORDER BY version")]
                raise NotFoundError.with_suggestions("model version", version, known)
        finally:
            con.close()
        return self._row(row)


def get_registry(settings: Settings) -> ModelRegistry:
    """The registry chosen by ``settings.model_store`` (``local`` or ``s3``)."""
    if settings.model_store == "s3":
        # registry_aws imports this module (cycle); boto3 only for the S3 registry
        from .registry_aws import S3Registry

        if not settings.s3_bucket or not settings.dynamodb_table:
            raise ConfigError("F1A_MODEL_STORE=s3 needs F1A_S3_BUCKET and F1A_DYNAMODB_TABLE.")
        return S3Registry(settings)
    return LocalRegistry(settings.models_dir)
