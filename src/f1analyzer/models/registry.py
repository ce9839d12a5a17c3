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
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import ConfigError, NotFoundError
from ..log import get_logger
# the shared types and helpers live in registry_base (registry_aws uses them too); re-exported
from .registry_base import (  # noqa: F401
    MANIFEST_FILE,
    METADATA_FILE,
    ModelRegistry,
    ModelVersion,
    _stage,
    code_versions,
    complete_metadata,
    git_sha,
    new_version,
    signing_key_bytes,
    valid_version,
    verify_manifest,
    write_artifacts,
    write_manifest,
)
from .registry_aws import S3Registry

log = get_logger("models.registry")



# --------------------------------------------------------------------------------- local
class LocalRegistry:
    """Files under ``root/versions`` and SQLite metadata in ``root/registry.sqlite``."""

    def __init__(self, root: Path, signing_key: bytes | None = None):
        self.root = Path(root)
        #: with a key, manifests are signed at registration and must carry a valid signature
        self.signing_key = signing_key

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
            _stage(artifacts, staging, meta, self.signing_key)
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
                            path=self.root / "versions" / row[0], signing_key=self.signing_key,
                            require_signature=self.signing_key is not None)

    def list(self) -> list[ModelVersion]:
        if not self.db_path.exists():
            return []
        con = self._connect()
        try:
            rows = con.execute("SELECT version, created_at, metadata FROM versions ORDER BY version").fetchall()
        finally:
            con.close()
        # a row whose id new_version could not have made (a path, a planted name) is no version
        return [self._row(r) for r in rows if valid_version(r[0])]

    def latest(self) -> ModelVersion | None:
        if not self.db_path.exists():
            return None
        con = self._connect()
        try:
            cur = con.execute("SELECT version, created_at, metadata FROM versions ORDER BY version DESC")
            row = next((r for r in cur if valid_version(r[0])), None)
        finally:
            con.close()
        return self._row(row) if row else None

    def get(self, version: str) -> ModelVersion:
        if not valid_version(version):
            raise NotFoundError.with_suggestions("model version", str(version)[:80],
                                                 [v.version for v in self.list()])
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
        if not settings.s3_bucket or not settings.dynamodb_table:
            raise ConfigError("F1A_MODEL_STORE=s3 needs F1A_S3_BUCKET and F1A_DYNAMODB_TABLE.")
        return S3Registry(settings)
    return LocalRegistry(settings.models_dir, signing_key_bytes(settings))
