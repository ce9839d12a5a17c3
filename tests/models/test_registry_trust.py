"""Model artifacts are verified before anything is unpickled (issue 13, item 1).

Real files and a real SQLite registry: a version is refused when its manifest is missing, its
files were altered or truncated, its signature does not match, or its id is not one
``new_version`` makes; the loader then serves the previous good version, else the bundled set.
"""

from __future__ import annotations

import json
import os
import pickle
import sqlite3

import pytest

from f1analyzer.config import Settings
from f1analyzer.errors import NotFoundError, UntrustedArtifactError
from f1analyzer.models.loading import load_model_set
from f1analyzer.models.registry import LocalRegistry, get_registry
from f1analyzer.models.registry_base import MANIFEST_FILE, valid_version, verify_manifest

FUTURE = "29991231T235959.999999Z-ffffff"


class _Payload:
    """Unpickling this creates a file: the proof that a planted artifact ran code."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (self.marker,))


def _plant(reg: LocalRegistry, version: str, marker, *, manifest: dict | None = None) -> None:
    """What an attacker with write access to the models folder does: a version folder with a
    pickle that runs code, and its row in the registry table."""
    d = reg.root / "versions" / version
    d.mkdir(parents=True)
    (d / "laptime.joblib").write_bytes(pickle.dumps(_Payload(str(marker))))
    (d / "metadata.json").write_text(json.dumps({"version": version}))
    if manifest is not None:
        (d / MANIFEST_FILE).write_text(json.dumps(manifest))
    con = sqlite3.connect(reg.db_path)
    with con:
        con.execute("INSERT INTO versions VALUES (?, ?, ?)", (version, "2999-12-31", json.dumps({"version": version})))
    con.close()


def test_registration_writes_a_manifest_over_every_file(tmp_path):
    reg = LocalRegistry(tmp_path / "models")
    v = reg.register({"laptime": [1, 2], "pitstop": {"p": 1}}, {"training_seasons": [2024]})
    mv = reg.get(v)
    manifest = json.loads((mv.path / MANIFEST_FILE).read_text())
    assert manifest["version"] == v
    assert sorted(manifest["files"]) == ["laptime.joblib", "metadata.json", "pitstop.joblib"]
    assert all(len(h) == 64 for h in manifest["files"].values())
    verify_manifest(mv.path, v)  # passes
    assert mv.load("laptime") == [1, 2]


def test_a_planted_far_future_version_never_runs_and_the_previous_one_is_served(tmp_path):
    s = Settings(home=tmp_path / "home")
    reg = get_registry(s)
    good = reg.register({"laptime": "L-good", "pitstop": "P-good"}, {"training_seasons": [2024]})
    marker = tmp_path / "pwned"
    _plant(reg, FUTURE, marker)
    ms = load_model_set(s)
    assert not marker.exists()  # the planted pickle was never loaded
    assert ms.source == "registry" and ms.version == good and ms.laptime == "L-good"
    assert any(FUTURE in r and "no manifest" in r for r in ms.refused)
    with pytest.raises(UntrustedArtifactError):
        reg.get(FUTURE).load("laptime")
    assert not marker.exists()


def test_a_forged_manifest_without_the_signing_key_is_refused(tmp_path):
    s = Settings(home=tmp_path / "home", model_signing_key="local-signing-key-123")
    reg = get_registry(s)
    good = reg.register({"laptime": "L-good"}, {})
    marker = tmp_path / "pwned"
    # a manifest that lists the planted files correctly, but unsigned / signed with another key
    import hashlib

    d = tmp_path / "probe"
    d.mkdir()
    (d / "laptime.joblib").write_bytes(pickle.dumps(_Payload(str(marker))))
    (d / "metadata.json").write_text(json.dumps({"version": FUTURE}))
    files = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in d.iterdir()}
    _plant(reg, FUTURE, marker, manifest={"version": FUTURE, "algorithm": "sha256", "files": files,
                                         "signature": "0" * 64})
    ms = load_model_set(s)
    assert not marker.exists()
    assert ms.version == good and any("signature" in r for r in ms.refused)


def test_an_altered_artifact_is_refused_and_the_bundled_set_served(tmp_path):
    s = Settings(home=tmp_path / "home")
    reg = get_registry(s)
    v = reg.register({"laptime": "L", "pitstop": "P"}, {})
    p = reg.get(v).path / "laptime.joblib"
    p.write_bytes(p.read_bytes()[:-3] + b"xyz")
    ms = load_model_set(s)
    assert ms.source != "registry" and ms.laptime != "L"
    assert any(v in r and "laptime.joblib" in r for r in ms.refused)
    assert any("instead" in r for r in ms.refused)


def test_version_ids_are_validated(tmp_path):
    assert valid_version("20241006T153000.123456Z-1a2b3c")
    for bad in ("../../etc", "20241006T153000.123456Z-1a2b3c/..", "", "x" * 40, FUTURE + "/x"):
        assert not valid_version(bad)
    reg = LocalRegistry(tmp_path / "models")
    v = reg.register({"laptime": 1}, {})
    con = sqlite3.connect(reg.db_path)
    with con:
        con.execute("INSERT INTO versions VALUES (?, ?, ?)", ("~zzz/../../x", "2999", "{}"))
    con.close()
    assert reg.latest().version == v and [m.version for m in reg.list()] == [v]
    with pytest.raises(NotFoundError):
        reg.get("../" + v)
