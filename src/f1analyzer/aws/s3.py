"""S3 helpers for the serverless deployment: FastF1 files in, the Parquet race store in sync.

Layout in the artifacts bucket (``F1A_S3_BUCKET``)::

    race-data/            FastF1-format lap files (*.csv, *.csv.gz, *.parquet) dropped by anyone
    store/seasons/        the race store's season files (one Parquet file per season)
    models/               model sets (written by the model registry)

Lambda's only writable disk is /tmp, so the ingestion function pulls the store, ingests, and pushes
the changed season files back; the API functions pull the store once per cold start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..data.files import SUPPORTED_SUFFIXES
from ..log import get_logger

log = get_logger("aws.s3")

STORE_PREFIX = "store/seasons/"
#: the compound allocation file ingest_files looks for next to the lap files
ALLOCATION_FILE = "compound_selection.toml"


def _keys(s3: Any, bucket: str, prefix: str) -> list[dict]:
    out: list[dict] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out.extend(page.get("Contents", []))
    return out


def download_lap_files(s3: Any, bucket: str, prefix: str, dest: Path) -> list[Path]:
    """Download every FastF1-format lap file under ``s3://bucket/prefix`` into ``dest``.

    Sub-folders are flattened into the file name, which keeps the four-digit year that
    ``ingest_files`` reads the season from. A ``compound_selection.toml`` under the prefix is
    downloaded next to them (ingest_files picks it up). Returns the lap files' local paths, sorted.
    """
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for obj in _keys(s3, bucket, prefix):
        key = obj["Key"]
        if key.endswith("/" + ALLOCATION_FILE) or key == prefix + ALLOCATION_FILE:
            s3.download_file(bucket, key, str(dest / ALLOCATION_FILE))
            continue
        if not key.lower().endswith(SUPPORTED_SUFFIXES):
            continue
        rel = key[len(prefix):].lstrip("/") or Path(key).name
        local = dest / rel.replace("/", "__")
        s3.download_file(bucket, key, str(local))
        paths.append(local)
    log.info("downloaded %d lap files from s3://%s/%s", len(paths), bucket, prefix)
    return sorted(paths)


def pull_store(s3: Any, bucket: str, store_root: Path, prefix: str = STORE_PREFIX) -> list[Path]:
    """Copy the season files under ``prefix`` into ``store_root/seasons`` (skips unchanged sizes)."""
    seasons = store_root / "seasons"
    seasons.mkdir(parents=True, exist_ok=True)
    got = []
    for obj in _keys(s3, bucket, prefix):
        name = obj["Key"][len(prefix):]
        if "/" in name or not name.endswith(".parquet"):
            continue
        local = seasons / name
        if local.exists() and local.stat().st_size == obj["Size"]:
            got.append(local)
            continue
        tmp = local.with_name(f".{name}.download")
        s3.download_file(bucket, obj["Key"], str(tmp))
        tmp.replace(local)
        got.append(local)
    return sorted(got)


def push_store(s3: Any, bucket: str, store_root: Path, seasons: list[int] | None = None,
               prefix: str = STORE_PREFIX) -> list[str]:
    """Upload the store's season files (all, or only ``seasons``); returns the keys written."""
    keys = []
    for path in sorted((store_root / "seasons").glob("*.parquet")):
        if seasons is not None and int(path.stem) not in set(seasons):
            continue
        key = prefix + path.name
        s3.upload_file(str(path), bucket, key)
        keys.append(key)
    return keys
