"""What every model registry backend shares: the version record, the backend protocol, version
ids, the metadata sidecar and staging a model set on disk.

``registry.py`` (the local backend and ``get_registry``) and ``registry_aws.py`` (S3 + DynamoDB)
both build on this module, so neither imports the other's internals.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import platform
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..errors import NotFoundError, UntrustedArtifactError
from .. import __version__


METADATA_FILE = "metadata.json"
#: SHA-256 of every file of a version (and, with a signing key, an HMAC over that list); written
#: at registration, checked before anything of the version is unpickled
MANIFEST_FILE = "manifest.json"
#: what ``new_version`` makes; anything else (``..``, slashes, far-future junk) is not a version
VERSION_RE = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{6}$")
_FILE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")


def valid_version(version: object) -> bool:
    """True for a version id ``new_version`` could have made (no path tricks)."""
    return isinstance(version, str) and VERSION_RE.fullmatch(version) is not None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _canonical(manifest: dict) -> bytes:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _signature(manifest: dict, key: bytes) -> str:
    return hmac.new(key, _canonical(manifest), hashlib.sha256).hexdigest()


def write_manifest(directory: Path, version: str, signing_key: bytes | None = None) -> dict:
    """Hash every file in ``directory`` into ``manifest.json`` (signed when a key is given)."""
    directory = Path(directory)
    files = {f.name: _sha256(f) for f in sorted(directory.iterdir())
             if f.is_file() and f.name != MANIFEST_FILE}
    manifest: dict = {"version": version, "algorithm": "sha256", "files": files}
    if signing_key:
        manifest["signature"] = _signature(manifest, signing_key)
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def verify_manifest(directory: Path, version: str, signing_key: bytes | None = None, *,
                    require_signature: bool = False) -> dict:
    """Check ``directory`` against its manifest before anything in it is loaded.

    Every file must be listed with its SHA-256 and nothing else may be there; the manifest must
    name this version; with a signing key its HMAC must match (``require_signature``: a key is
    required at all, the S3 case).

    Raises:
        UntrustedArtifactError: saying what failed; the caller refuses the version.
    """
    directory = Path(directory)
    if not valid_version(version):
        raise UntrustedArtifactError(f"{version!r} is not a model version id")
    mpath = directory / MANIFEST_FILE
    if not mpath.is_file():
        raise UntrustedArtifactError(f"model version {version} has no manifest")
    try:
        manifest = json.loads(mpath.read_text())
        files = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as exc:
        raise UntrustedArtifactError(f"model version {version}: unreadable manifest ({exc})") from exc
    if manifest.get("version") != version:
        raise UntrustedArtifactError(f"model version {version}: manifest names another version")
    if require_signature and not signing_key:
        raise UntrustedArtifactError(f"model version {version}: no signing key configured "
                                     "(F1A_MODEL_SIGNING_KEY) to check its signature")
    if signing_key:
        sig = manifest.get("signature")
        if not isinstance(sig, str) or not hmac.compare_digest(sig, _signature(manifest, signing_key)):
            raise UntrustedArtifactError(f"model version {version}: manifest signature does not match")
    present = {f.name for f in directory.iterdir() if f.name != MANIFEST_FILE}
    if present != set(files):
        extra, missing = sorted(present - set(files)), sorted(set(files) - present)
        raise UntrustedArtifactError(f"model version {version}: files differ from its manifest "
                                     f"(unlisted: {extra}, missing: {missing})")
    for name, digest in files.items():
        p = directory / name
        if not _FILE_RE.fullmatch(name) or p.is_symlink() or not p.is_file():
            raise UntrustedArtifactError(f"model version {version}: {name!r} is not a plain artifact file")
        if not hmac.compare_digest(_sha256(p), str(digest)):
            raise UntrustedArtifactError(f"model version {version}: {name} does not match its manifest "
                                         "(altered or truncated)")
    return manifest


@dataclass
class ModelVersion:
    """One registered model set. ``path`` is a local folder holding its artifacts."""

    version: str
    created_at: str
    metadata: dict = field(default_factory=dict)
    path: Path | None = None
    #: HMAC key of the manifest (from settings); ``require_signature``: refuse unsigned versions
    signing_key: bytes | None = field(default=None, repr=False)
    require_signature: bool = field(default=False, repr=False)
    _verified: bool = field(default=False, repr=False)

    def verify(self) -> None:
        """Check the artifacts against the manifest (once); ``UntrustedArtifactError`` otherwise."""
        if not self._verified:
            verify_manifest(Path(self.path or "."), self.version, self.signing_key,
                            require_signature=self.require_signature)
            self._verified = True

    def artifact_names(self) -> list[str]:
        if self.path is None:
            return []
        return sorted(p.name[: -len(".joblib")] for p in Path(self.path).glob("*.joblib"))

    def load(self, name: str) -> Any:
        """Load one artifact (``"laptime"``, ``"pitstop"``, ``"race_models"``...).

        joblib unpickles, which runs code: the manifest is checked first, every time a version
        is first loaded (``UntrustedArtifactError`` when it does not match).
        """
        import joblib

        p = Path(self.path or ".") / f"{name}.joblib"
        if not p.is_file():
            raise NotFoundError.with_suggestions(f"artifact of model version {self.version}", name,
                                                 self.artifact_names())
        self.verify()
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


def _stage(artifacts: Path | dict[str, Any], staging: Path, meta: dict,
           signing_key: bytes | None = None) -> Path:
    """Write the version's files into ``staging`` and, last, its manifest over all of them."""
    if isinstance(artifacts, dict):
        write_artifacts(staging, artifacts, meta)
    else:
        src = Path(artifacts)
        if not src.is_dir():
            raise NotFoundError(f"Artifacts folder {src} does not exist.")
        # plain files only: a symlink or a sub-folder would not be covered by the manifest
        staging.mkdir(parents=True, exist_ok=True)
        for f in sorted(src.iterdir()):
            if f.is_file() and not f.is_symlink() and f.name != MANIFEST_FILE:
                shutil.copyfile(f, staging / f.name)
        (staging / METADATA_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
    write_manifest(staging, meta["version"], signing_key)
    return staging


def signing_key_bytes(settings: Any) -> bytes | None:
    """The manifest HMAC key of ``settings`` (``F1A_MODEL_SIGNING_KEY``), or None."""
    key = getattr(settings, "model_signing_key", None)
    value = key.get_secret_value() if key is not None else ""
    return value.encode() if value else None
