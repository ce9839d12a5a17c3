"""Model registry: the local (files + SQLite) and the S3 + DynamoDB backends, one contract."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from f1analyzer.config import Settings
from f1analyzer.errors import ConfigError, NotFoundError
from f1analyzer.models.registry import LocalRegistry, ModelRegistry, get_registry, write_artifacts
from tests.helpers import moto_server


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def s3_settings(moto_endpoint, monkeypatch, tmp_path) -> Settings:
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    name = f"f1a-test-{tmp_path.name.lower().replace('_', '-')[-20:]}"
    return Settings(home=tmp_path / "home", model_store="s3", s3_bucket=name, dynamodb_table=name,
                    aws_region="us-east-1", aws_endpoint_url=moto_endpoint,
                    model_signing_key="test-signing-key-0123456789")


def _contract(reg: ModelRegistry) -> None:
    assert isinstance(reg, ModelRegistry)
    assert reg.latest() is None and reg.list() == []
    meta = {"training_seasons": [2022, 2023], "data_hash": "abc123", "metrics": {"mae_s": 0.4}}
    v1 = reg.register({"laptime": {"kind": "laptime", "w": [1, 2, 3]}, "pitstop": {"kind": "pit"}}, meta)
    v2 = reg.register({"laptime": {"kind": "laptime", "w": [4]}}, {**meta, "training_seasons": [2023]})
    assert v1 < v2
    assert [v.version for v in reg.list()] == [v1, v2]
    latest = reg.latest()
    assert latest.version == v2 and latest.load("laptime") == {"kind": "laptime", "w": [4]}
    got = reg.get(v1)
    assert got.metadata["training_seasons"] == [2022, 2023] and got.metadata["data_hash"] == "abc123"
    assert got.metadata["metrics"] == {"mae_s": 0.4}
    code = got.metadata["code"]
    assert code["f1analyzer"] and "lightgbm" in code and "git_sha" in code
    assert got.created_at == got.metadata["created_at"]
    assert got.artifact_names() == ["laptime", "pitstop"]
    assert got.load("pitstop") == {"kind": "pit"}
    sidecar = json.loads((got.path / "metadata.json").read_text())
    assert sidecar["version"] == v1
    with pytest.raises(NotFoundError):
        got.load("nope")
    with pytest.raises(NotFoundError):
        reg.get("19990101T000000.000000Z-000000")


def test_local_registry_contract(tmp_path):
    _contract(LocalRegistry(tmp_path / "models"))


def test_local_registry_from_a_folder(tmp_path):
    src = write_artifacts(tmp_path / "art", {"laptime": [1, 2]}, {"note": "staged"})
    reg = LocalRegistry(tmp_path / "models")
    v = reg.register(src, {"training_seasons": [2024]})
    mv = reg.get(v)
    assert mv.load("laptime") == [1, 2] and mv.metadata["training_seasons"] == [2024]
    assert not list((tmp_path / "models" / "versions").glob(".*"))  # no staging left behind


def test_factory(tmp_path):
    s = Settings(home=tmp_path)
    reg = get_registry(s)
    assert isinstance(reg, LocalRegistry) and reg.root == s.models_dir
    with pytest.raises(ConfigError):
        get_registry(Settings(home=tmp_path, model_store="s3"))


def test_s3_registry_contract(s3_settings):
    from f1analyzer.models.registry_aws import S3Registry

    reg = get_registry(s3_settings)
    assert isinstance(reg, S3Registry)
    reg.create_resources()
    _contract(reg)
    # artifacts really are in S3 and metadata in DynamoDB
    keys = [o["Key"] for o in reg.s3.list_objects_v2(Bucket=s3_settings.s3_bucket)["Contents"]]
    assert any(k.endswith("/laptime.joblib") for k in keys) and all(k.startswith("models/") for k in keys)
    items = reg.ddb.scan(TableName=s3_settings.dynamodb_table)["Items"]
    assert {i["pk"]["S"] for i in items} == {"model"} and len(items) == 2


def test_model_set_from_s3_registry(s3_settings):
    from f1analyzer.models.loading import load_model_set

    reg = get_registry(s3_settings)
    reg.create_resources()
    v = reg.register({"laptime": "L", "pitstop": "P"}, {"training_seasons": [2024]})
    ms = load_model_set(s3_settings)
    assert ms.source == "registry" and ms.version == v and ms.laptime == "L" and ms.pitstop == "P"
    assert ms.is_loaded  # race models: borrowed from the bundle when the package ships one


def test_s3_versions_must_carry_a_valid_signature(s3_settings):
    from f1analyzer.models.loading import load_model_set

    reg = get_registry(s3_settings)
    reg.create_resources()
    v = reg.register({"laptime": "L", "pitstop": "P"}, {"training_seasons": [2024]})
    # a reader with another key (or none) refuses what it cannot verify, and serves the bundle
    for other in ("another-signing-key-000", ""):
        s = s3_settings.model_copy(update={"home": s3_settings.home.parent / f"other{len(other)}"})
        s = Settings(**{**s.model_dump(), "model_signing_key": other or None})
        ms = load_model_set(s)
        assert ms.source != "registry" and ms.laptime != "L"
        assert any(v in r and ("signature" in r or "signing key" in r) for r in ms.refused)
    with pytest.raises(ConfigError):
        get_registry(Settings(**{**s3_settings.model_dump(), "model_signing_key": None})).register({"laptime": 1}, {})
