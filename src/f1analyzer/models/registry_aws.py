"""Production model registry: artifacts in S3, metadata in DynamoDB.

Layout: ``s3://<F1A_S3_BUCKET>/models/<version>/<name>.joblib`` and ``metadata.json``; one DynamoDB
item per version in ``F1A_DYNAMODB_TABLE`` with ``pk = "model"`` and ``sk = <version>`` (the table
is shared with other records, e.g. ingestion runs under ``pk = "ingestion"``). Version ids sort by
time, so ``latest`` is one descending query. Artifacts are downloaded on ``get``/``latest`` into
``<cache_dir>/models/<version>/`` (once; a version never changes).

Clients come from ``settings.aws_region`` and ``settings.aws_endpoint_url`` (a local moto server in
tests); credentials from boto3's usual chain.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import BackendUnavailableError, ConfigError, NotFoundError
from ..log import get_logger
from ..backends.aws_clients import client
from .registry_base import (
    _FILE_RE,
    METADATA_FILE,
    ModelVersion,
    _stage,
    complete_metadata,
    new_version,
    signing_key_bytes,
    valid_version,
)

log = get_logger("models.registry_aws")

PREFIX = "models/"
PK = "model"


def _client(service: str, settings: Settings) -> Any:
    return client(service, settings)


class S3Registry:
    """``ModelRegistry`` on S3 + DynamoDB."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.bucket = settings.s3_bucket
        self.table = settings.dynamodb_table
        self.s3 = _client("s3", settings)
        self.ddb = _client("dynamodb", settings)
        #: manifests in S3 are always signed: whoever can write the bucket must not be able to
        #: make the service unpickle their file (the key lives in settings / Secrets Manager)
        self.signing_key = signing_key_bytes(settings)

    def create_resources(self) -> None:
        """Create the bucket and table if missing (development and tests; infra owns them in AWS)."""
        existing = {b["Name"] for b in self.s3.list_buckets().get("Buckets", [])}
        if self.bucket not in existing:
            kwargs: dict = {"Bucket": self.bucket}
            if self.settings.aws_region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.settings.aws_region}
            self.s3.create_bucket(**kwargs)
        if self.table not in self.ddb.list_tables().get("TableNames", []):
            self.ddb.create_table(
                TableName=self.table, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                      {"AttributeName": "sk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                           {"AttributeName": "sk", "KeyType": "RANGE"}],
            )
            self.ddb.get_waiter("table_exists").wait(TableName=self.table)

    def _call(self, fn, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(**kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise BackendUnavailableError(f"Model registry (S3 {self.bucket} / DynamoDB {self.table}): {exc}") from exc

    # ----------------------------------------------------------------------------- write
    def register(self, artifacts: Path | dict[str, Any], metadata: dict) -> str:
        if not self.signing_key:
            raise ConfigError("F1A_MODEL_STORE=s3 needs F1A_MODEL_SIGNING_KEY to sign what it registers.")
        created = datetime.now(timezone.utc)
        version = new_version(created)
        meta = complete_metadata(metadata, version, created.isoformat())
        with tempfile.TemporaryDirectory(prefix="f1a-model-") as tmp:
            staged = _stage(artifacts, Path(tmp) / version, meta, self.signing_key)
            for f in sorted(staged.iterdir()):
                if f.is_file():
                    self._call(self.s3.upload_file, Filename=str(f), Bucket=self.bucket,
                               Key=f"{PREFIX}{version}/{f.name}")
        # metadata last: a version is listed only once all its artifacts are in S3
        self._call(self.ddb.put_item, TableName=self.table, Item={
            "pk": {"S": PK}, "sk": {"S": version}, "created_at": {"S": meta["created_at"]},
            "metadata": {"S": json.dumps(meta, sort_keys=True, default=str)},
        })
        log.info("registered model set %s in s3://%s/%s%s/", version, self.bucket, PREFIX, version)
        return version

    # ----------------------------------------------------------------------------- read
    def _item(self, item: dict) -> ModelVersion:
        return ModelVersion(version=item["sk"]["S"], created_at=item["created_at"]["S"],
                            metadata=json.loads(item["metadata"]["S"]), signing_key=self.signing_key,
                            require_signature=True)

    def _query(self, forward: bool, limit: int | None = None) -> list[dict]:
        kwargs: dict = {"TableName": self.table, "KeyConditionExpression": "pk = :pk",
                        "ExpressionAttributeValues": {":pk": {"S": PK}}, "ScanIndexForward": forward}
        if limit:
            kwargs["Limit"] = limit
        items: list[dict] = []
        while True:
            page = self._call(self.ddb.query, **kwargs)
            items.extend(page.get("Items", []))
            if limit and len(items) >= limit:
                return items[:limit]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def list(self) -> list[ModelVersion]:
        return [self._item(i) for i in self._query(True) if valid_version(i["sk"]["S"])]

    def latest(self) -> ModelVersion | None:
        # newest first; ids new_version could not have made are skipped (few: read a page at a time)
        for item in self._query(False):
            if valid_version(item["sk"]["S"]):
                return self._download(self._item(item))
        return None

    def get(self, version: str) -> ModelVersion:
        if not valid_version(version):
            raise NotFoundError.with_suggestions("model version", str(version)[:80],
                                                 [v.version for v in self.list()])
        res = self._call(self.ddb.get_item, TableName=self.table, Key={"pk": {"S": PK}, "sk": {"S": version}})
        if "Item" not in res:
            raise NotFoundError.with_suggestions("model version", version, [v.version for v in self.list()])
        return self._download(self._item(res["Item"]))

    def _download(self, mv: ModelVersion) -> ModelVersion:
        dest = self.settings.cache_dir / "models" / mv.version
        if not (dest / METADATA_FILE).is_file():
            tmp = dest.with_name(f".{mv.version}.{os.getpid()}.tmp")
            tmp.mkdir(parents=True, exist_ok=True)
            try:
                paginator = self.s3.get_paginator("list_objects_v2")
                prefix = f"{PREFIX}{mv.version}/"
                for page in self._call(lambda **kw: list(paginator.paginate(**kw)), Bucket=self.bucket,
                                       Prefix=prefix):
                    for obj in page.get("Contents", []):
                        name = obj["Key"][len(prefix):]
                        if name and _FILE_RE.fullmatch(name):
                            self._call(self.s3.download_file, Bucket=self.bucket, Key=obj["Key"],
                                       Filename=str(tmp / name))
                if dest.exists():
                    shutil.rmtree(dest)
                os.replace(tmp, dest)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
        mv.path = dest
        return mv
