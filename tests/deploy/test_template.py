"""template.yaml (SAM): cfn-lint clean, and wired to the code it deploys."""

from __future__ import annotations

import importlib
import re
import subprocess

import pytest

from tests.deploy.conftest import venv_tool
from tests.deploy.test_dockerfile import DOCKERFILE, parse_dockerfile
from tests.helpers import REPO

TEMPLATE = REPO / "template.yaml"


@pytest.fixture(scope="module")
def template() -> dict:
    from cfnlint.decode import decode

    tpl, matches = decode(str(TEMPLATE))
    assert not matches, matches
    return tpl


def functions(tpl: dict) -> dict[str, dict]:
    return {k: v for k, v in tpl["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


def test_cfn_lint_is_clean():
    exe = venv_tool("cfn-lint")
    if exe is None:
        pytest.skip("cfn-lint is not installed (pip install -e '.[test]')")
    r = subprocess.run([exe, str(TEMPLATE)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_sam_transform_and_core_resources(template):
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    types = {v["Type"] for v in template["Resources"].values()}
    assert {"AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::SecretsManager::Secret",
            "AWS::Serverless::Api", "AWS::CloudWatch::Alarm"} <= types


def test_functions_point_at_real_handlers_in_the_lambda_image(template):
    _, stages = parse_dockerfile(DOCKERFILE.read_text())
    stage_names = {s.name for s in stages}
    handlers = {}
    for name, fn in functions(template).items():
        props = fn["Properties"]
        assert props["PackageType"] == "Image"
        (handler,) = props["ImageConfig"]["Command"]
        module, _, func = handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), func)), handler
        handlers[func] = props
        assert fn["Metadata"]["DockerBuildTarget"] in stage_names
        assert fn["Metadata"]["Dockerfile"] == "Dockerfile"
    assert set(handlers) == {"strategy_generation_handler", "semantic_query_handler",
                             "race_data_ingestion_handler"}
    gen = handlers["strategy_generation_handler"]["Events"]["Generate"]["Properties"]
    assert (gen["Path"], gen["Method"]) == ("/strategy/generate", "post")
    q = handlers["semantic_query_handler"]["Events"]["Query"]["Properties"]
    assert (q["Path"], q["Method"]) == ("/query", "post")
    sched = handlers["race_data_ingestion_handler"]["Events"]["Weekly"]
    assert sched["Type"] == "Schedule"
    default = template["Parameters"][sched["Properties"]["Schedule"]["Ref"]]["Default"]
    assert re.fullmatch(r"cron\(\S+ \S+ \S+ \S+ \S+ \S+\)", default)  # EventBridge: 6 fields


def test_environment_names_are_the_settings(template):
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["F1A_MODEL_STORE"] == "s3"
    assert env["F1A_S3_BUCKET"] == {"Ref": "ArtifactsBucket"}
    assert env["F1A_DYNAMODB_TABLE"] == {"Ref": "ModelMetadataTable"}
    assert env["SECRETS_MANAGER_SECRET_ID"] == {"Ref": "ApiKeysSecret"}
    assert env["F1A_HOME"].startswith("/tmp/")  # Lambda's only writable disk
    assert "AWS_REGION" not in env  # reserved; Lambda sets it
    from f1analyzer.config import Settings

    names = set()
    for fname, field in Settings.model_fields.items():
        alias = field.validation_alias
        names |= set(alias.choices) if alias is not None else {f"F1A_{fname.upper()}"}
    names |= {"HF_HUB_OFFLINE", "F1A_INGEST_SOURCE", "F1A_INGEST_S3_PREFIX"}
    for fn in functions(template).values():
        env |= fn["Properties"].get("Environment", {}).get("Variables", {})
    assert set(env) <= names, set(env) - names


def test_least_privilege_policies(template):
    fns = {fn["Properties"]["ImageConfig"]["Command"][0].rsplit(".", 1)[1]: fn["Properties"]["Policies"]
           for fn in functions(template).values()}

    def kinds(policies):
        return {next(iter(p)) if isinstance(p, dict) else p for p in policies}

    for api_fn in ("strategy_generation_handler", "semantic_query_handler"):
        assert kinds(fns[api_fn]) == {"S3ReadPolicy", "DynamoDBReadPolicy", "AWSSecretsManagerGetSecretValuePolicy"}
    assert kinds(fns["race_data_ingestion_handler"]) == {
        "S3CrudPolicy", "DynamoDBCrudPolicy", "AWSSecretsManagerGetSecretValuePolicy", "CloudWatchPutMetricPolicy"}
    for policies in fns.values():
        for p in policies:
            assert p != "AdministratorAccess" and "FullAccess" not in str(p)


def test_table_keys_match_the_model_registry(template):
    table = template["Resources"]["ModelMetadataTable"]["Properties"]
    keys = {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]}
    assert keys == {"pk": "HASH", "sk": "RANGE"}
    src = (REPO / "src" / "f1analyzer" / "models" / "registry_aws.py")
    if src.exists():  # the registry writes pk = "model", sk = <version> into this table
        text = src.read_text()
        assert '"AttributeName": "pk", "KeyType": "HASH"' in text
        assert '"AttributeName": "sk", "KeyType": "RANGE"' in text


def test_storage_is_private_and_retained(template):
    bucket = template["Resources"]["ArtifactsBucket"]
    assert bucket["DeletionPolicy"] == "Retain"
    pab = bucket["Properties"]["PublicAccessBlockConfiguration"]
    assert all(pab[k] is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls",
                                        "RestrictPublicBuckets"))
    assert "BucketEncryption" in bucket["Properties"]
    assert template["Resources"]["ModelMetadataTable"]["DeletionPolicy"] == "Retain"
