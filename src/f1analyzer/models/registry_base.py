"""What every model registry backend shares: the version record, the backend protocol, version
ids, the metadata sidecar and staging a model set on disk.

``registry.py`` (the local backend and ``get_registry``) and ``registry_aws.py`` (S3 + DynamoDB)
both build on this module, so neither imports the other's internals.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..errors import NotFoundError
from .. import __version__


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
