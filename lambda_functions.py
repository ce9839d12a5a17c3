"""AWS Lambda entry points (the seed's ``lambda_functions.py``); wired up in ``template.yaml``.

- ``race_data_ingestion_handler``: EventBridge weekly schedule. Ingests the latest races live
  (``f1analyzer.data.live``) when that source is available, else every FastF1-format lap file under
  ``s3://$F1A_S3_BUCKET/$F1A_INGEST_S3_PREFIX`` (default ``race-data/``); the race store lives in
  the same bucket under ``store/seasons/``. Records the run in DynamoDB and CloudWatch.
- ``strategy_generation_handler``: API Gateway proxy, ``POST /strategy/generate``.
- ``semantic_query_handler``: API Gateway proxy, ``POST /query``.
- ``api_proxy_handler``: any other path, routed by the event (not in the template by default).

The API handlers run the FastAPI app itself in-process (``f1analyzer.aws.apigw``), so Lambda and
the container serve the very same routes, validation and error shape. Secrets are loaded from
Secrets Manager (``SECRETS_MANAGER_SECRET_ID``) before the settings are first read.

Environment (besides the settings in ``.env.example``): ``F1A_INGEST_SOURCE`` = auto | live | s3
(default auto: live first, S3 when live is unavailable) and ``F1A_INGEST_S3_PREFIX``.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from f1analyzer.aws.secrets import load_secrets
from f1analyzer.log import get_logger

log = get_logger("aws.lambda")

#: seconds between re-reads of the S3 race store by a warm API function
STORE_REFRESH_S = 900.0
METRICS_NAMESPACE = "F1Analyzer"

_adapter: Any = None
_adapter_lock = threading.Lock()
_store_pulled_at: float | None = None


# ---------------------------------------------------------------------------------------- shared
def _settings():
    load_secrets()
    from f1analyzer.config import get_settings

    return get_settings()


def _s3_store_sync(settings, *, force: bool = False) -> None:
    """Pull the race store from S3 on cold start and every STORE_REFRESH_S after."""
    global _store_pulled_at
    if not settings.s3_bucket:
        return
    now = time.monotonic()
    if not force and _store_pulled_at is not None and now - _store_pulled_at < STORE_REFRESH_S:
        return
    from f1analyzer.aws.clients import client
    from f1analyzer.aws.s3 import pull_store

    try:
        pull_store(client("s3", settings), settings.s3_bucket, settings.store_dir)
    except Exception as exc:  # serve what we have; /health reports the store
        log.warning("could not pull the race store from s3://%s: %s", settings.s3_bucket, exc)
    _store_pulled_at = now


def _get_adapter():
    global _adapter
    with _adapter_lock:
        if _adapter is None:
            from f1analyzer.api.main import create_app
            from f1analyzer.aws.apigw import ApiGatewayAdapter

            settings = _settings()
            _s3_store_sync(settings, force=True)
            _adapter = ApiGatewayAdapter(create_app)
        else:
            _s3_store_sync(_settings())
        return _adapter


def reset() -> None:
    """Forget the app and the store timestamp (tests; a new configuration)."""
    global _adapter, _store_pulled_at
    with _adapter_lock:
        if _adapter is not None:
            _adapter.close()
        _adapter = None
        _store_pulled_at = None
    from f1analyzer.aws.secrets import forget_loaded_secret

    forget_loaded_secret()


# ---------------------------------------------------------------------------------- API handlers
def _serve(event: dict, path: str | None) -> dict:
    from f1analyzer.errors import F1AnalyzerError

    try:
        adapter = _get_adapter()
    except F1AnalyzerError as exc:  # e.g. the secret cannot be read: answer, don't crash
        from f1analyzer.api.errors import status_for
        from f1analyzer.aws.apigw import ProxyRequest, error_response

        log.error("cannot start the API: %s", exc.message)  # details in the log, not to the caller
        rid = ProxyRequest(event).request_id
        return error_response(max(status_for(exc), 500), exc.code,
                              "The service cannot start right now; try again shortly.", rid)
    try:  # /query and the strategy narrative read the knowledge index
        _wait_for_index()
    except Exception as exc:  # noqa: BLE001 - the routes answer 503 / unsourced text themselves
        log.warning("knowledge index not ready: %s", exc)
    return adapter.handle(event, path=path)


def strategy_generation_handler(event: dict, context: Any = None) -> dict:
    """API Gateway proxy → ``POST /strategy/generate`` of the API."""
    return _serve(event, "/strategy/generate")


def _wait_for_index(timeout_s: float = 120.0) -> None:
    """On a cold start the API builds a missing index in a background thread; a Lambda answers
    one event at a time, so wait for that build rather than answer the first question with 503."""
    adapter = _adapter
    if adapter is None:
        return
    adapter.start()
    from f1analyzer.app.knowledge import index_status

    status = index_status(adapter.app.state.f1a.services)
    if status is not None and status.thread is not None:
        status.thread.join(timeout=timeout_s)


def semantic_query_handler(event: dict, context: Any = None) -> dict:
    """API Gateway proxy → ``POST /query`` of the API."""
    return _serve(event, "/query")


def api_proxy_handler(event: dict, context: Any = None) -> dict:
    """API Gateway proxy → whatever path the event names (``/{proxy+}``)."""
    return _serve(event, None)


# ------------------------------------------------------------------------------------- ingestion
def _ingest_live(store) -> list | None:
    """Results of a live ingest, or None when the live source is not available here."""
    try:
        from f1analyzer.data.live import ingest_live
    except ImportError:
        log.info("live source not available in this build")
        return None
    from f1analyzer.errors import BackendUnavailableError

    try:
        return list(ingest_live(store, latest=True))
    except BackendUnavailableError as exc:  # includes NetworkUnavailableError
        log.warning("live ingest unavailable (%s); falling back to S3", exc.message)
        return None


def _ingest_s3(settings, store, prefix: str) -> list:
    from f1analyzer.aws.clients import client
    from f1analyzer.aws.s3 import download_lap_files
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.errors import ConfigError

    if not settings.s3_bucket:
        raise ConfigError("F1A_S3_BUCKET is not set: nowhere to read race data from")
    with tempfile.TemporaryDirectory(prefix="f1a-ingest-") as tmp:
        files = download_lap_files(client("s3", settings), settings.s3_bucket, prefix, Path(tmp))
        if not files:
            log.info("no lap files under s3://%s/%s", settings.s3_bucket, prefix)
            return []
        return ingest_files(files, store)


def _record_run(settings, summary: dict) -> None:
    if not settings.dynamodb_table:
        return
    from f1analyzer.aws.clients import client

    item = {
        "pk": {"S": "ingestion"},
        "sk": {"S": summary["finished_at"]},
        "source": {"S": summary["source"]},
        "files": {"N": str(summary["files"])},
        "files_rejected": {"N": str(summary["files_rejected"])},
        "seasons": {"S": ",".join(str(s) for s in summary["seasons"])},
        "rounds": {"N": str(summary["rounds"])},
    }
    try:
        client("dynamodb", settings).put_item(TableName=settings.dynamodb_table, Item=item)
    except Exception as exc:
        log.warning("could not record the ingestion run in %s: %s", settings.dynamodb_table, exc)


def race_data_ingestion_handler(event: dict, context: Any = None) -> dict:
    """EventBridge schedule → ingest new race data into the store (and S3). Returns a summary."""
    from f1analyzer.aws.clients import client
    from f1analyzer.aws.cloudwatch import MetricsPublisher
    from f1analyzer.aws.s3 import push_store
    from f1analyzer.data.store import RaceStore

    settings = _settings()
    mode = os.environ.get("F1A_INGEST_SOURCE", "auto").lower()
    prefix = os.environ.get("F1A_INGEST_S3_PREFIX", "race-data/")
    log.info("ingestion run (%s, trigger %s %s)", mode, event.get("source"), event.get("time"))
    _s3_store_sync(settings, force=True)
    store = RaceStore(settings.store_dir)

    results = None
    source = "live"
    if mode in ("auto", "live"):
        results = _ingest_live(store)
    if results is None:
        if mode == "live":
            from f1analyzer.errors import BackendUnavailableError

            raise BackendUnavailableError("live ingest requested (F1A_INGEST_SOURCE=live) but unavailable")
        source = f"s3://{settings.s3_bucket}/{prefix}"
        results = _ingest_s3(settings, store, prefix)

    seasons = sorted({r.season for r in results if r.ok and r.season is not None})
    rounds = sum(len(r.rounds) for r in results if r.ok)
    if settings.s3_bucket and seasons:
        push_store(client("s3", settings), settings.s3_bucket, settings.store_dir, seasons)
    summary = {
        "source": source,
        "trigger": event.get("detail-type") or event.get("source") or "manual",
        "files": len(results),
        "files_rejected": sum(1 for r in results if not r.ok),
        "seasons": seasons,
        "rounds": rounds,
        "errors": [r.error for r in results if not r.ok][:20],
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    _record_run(settings, summary)
    with MetricsPublisher(METRICS_NAMESPACE, dimensions={"Function": "race_data_ingestion"},
                          settings=settings) as metrics:
        metrics.put("FilesIngested", summary["files"] - summary["files_rejected"], unit="Count")
        metrics.put("FilesRejected", summary["files_rejected"], unit="Count")
        metrics.put("RoundsIngested", rounds, unit="Count")
    log.info("ingestion done: %s", summary)
    return summary
