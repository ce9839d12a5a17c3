"""lambda_functions.py with real API Gateway proxy (REST v1) and EventBridge scheduled events.

The API handlers run the FastAPI app in-process, so they must answer exactly what the app answers;
the ingestion handler reads FastF1-format files from S3 and keeps the race store in S3 — both
against moto's server on loopback.
"""

from __future__ import annotations

import base64
import gzip
import json
import uuid

import pytest
from fastapi.testclient import TestClient

from tests.deploy.test_aws import boto, lap_csv

SOURCE_IP = "198.51.100.7"


def rest_event(method: str, path: str, *, body: str | None = None, headers: dict | None = None,
               query: dict[str, list[str]] | None = None, b64: bool = False,
               source_ip: str = SOURCE_IP, request_id: str | None = None) -> dict:
    """An API Gateway REST API (v1) Lambda proxy integration event, as API Gateway sends it."""
    headers = {"Accept": "application/json", "Host": "abc123.execute-api.us-east-1.amazonaws.com",
               "User-Agent": "pytest", "X-Forwarded-For": source_ip, "X-Forwarded-Proto": "https",
               "X-Forwarded-Port": "443", **(headers or {})}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "httpMethod": method,
            "path": f"/prod{path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id or str(uuid.uuid4()),
            "requestTimeEpoch": 1727071200000,
            "resourcePath": path,
            "stage": "prod",
            "identity": {"sourceIp": source_ip, "userAgent": "pytest"},
        },
        "body": body,
        "isBase64Encoded": b64,
    }


def scheduled_event() -> dict:
    """The event an EventBridge schedule rule delivers."""
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2024-09-23T06:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/f1analyzer-weekly-ingestion"],
        "detail": {},
    }


def error_code(resp: dict) -> str:
    return json.loads(resp["body"])["error"]["code"]


def _comparable(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("latency_ms", "cached")}


# ------------------------------------------------------------------------------- API handlers
def test_bad_json_is_400_with_the_error_shape(lambda_module):
    for handler in (lambda_module.strategy_generation_handler, lambda_module.semantic_query_handler):
        resp = handler(rest_event("POST", "/x", body='{"season": 2024,', request_id="req-1",
                                  headers={"Content-Type": "application/json"}))
        assert resp["statusCode"] == 400
        body = json.loads(resp["body"])
        assert body["error"]["code"] == "invalid_json" and "message" in body["error"]
        assert resp["headers"]["x-request-id"] == "req-1"
        assert resp["isBase64Encoded"] is False


@pytest.mark.parametrize("route,handler_name,payload", [
    ("/strategy/generate", "strategy_generation_handler", {"season": 2024, "event": "Monza", "driver": "LEC"}),
    ("/query", "semantic_query_handler", {"query": "Why did the undercut work?", "top_k": 3}),
])
def test_handlers_answer_exactly_like_the_api(lambda_module, route, handler_name, payload):
    from f1analyzer.api.main import create_app

    resp = getattr(lambda_module, handler_name)(
        rest_event("POST", route, body=json.dumps(payload), headers={"Content-Type": "application/json"}))
    with TestClient(create_app()) as client:
        direct = client.post(route, json=payload)
    assert resp["statusCode"] == direct.status_code
    assert resp["headers"]["content-type"] == direct.headers["content-type"]
    assert _comparable(json.loads(resp["body"])) == _comparable(direct.json())
    # invalid (but well-formed) requests get the API's own validation answer, with or without
    # a Content-Type header (what the app makes of a missing one is the app's business)
    handler = getattr(lambda_module, handler_name)
    bad_json_ct = handler(rest_event("POST", route, body="{}", headers={"Content-Type": "application/json"}))
    bad_no_ct = handler(rest_event("POST", route, body="{}"))
    with TestClient(create_app()) as client:
        direct_json_ct = client.post(route, json={})
        direct_no_ct = client.post(route, content=b"{}")
    assert "content-type" not in direct_no_ct.request.headers
    for lam, direct in ((bad_json_ct, direct_json_ct), (bad_no_ct, direct_no_ct)):
        assert lam["statusCode"] == direct.status_code
        assert json.loads(lam["body"]) == direct.json()


def test_proxy_handler_routes_by_path_with_query_and_headers(lambda_module):
    ok = lambda_module.api_proxy_handler(rest_event("GET", "/health", request_id="rid-77"))
    assert ok["statusCode"] == 200
    assert json.loads(ok["body"])["components"]["data_collector"] is True
    assert ok["headers"]["x-request-id"] == "rid-77"  # API Gateway's request id becomes the API's
    races = lambda_module.api_proxy_handler(rest_event("GET", "/races", query={"season": ["2023"]}))
    assert races["statusCode"] == 200 and json.loads(races["body"]) == {"data": [], "count": 0, "rejections": []}
    bad = lambda_module.api_proxy_handler(rest_event("GET", "/races", query={"season": ["abc"]}))
    assert bad["statusCode"] == 422 and error_code(bad) == "validation_error"
    missing = lambda_module.api_proxy_handler(rest_event("GET", "/no/such/path"))
    assert missing["statusCode"] == 404 and error_code(missing) == "not_found"


def test_base64_body_and_http_api_v2_events(lambda_module):
    body = base64.b64encode(b'{"season": 2024').decode()
    resp = lambda_module.strategy_generation_handler(rest_event("POST", "/strategy/generate", body=body, b64=True))
    assert resp["statusCode"] == 400 and error_code(resp) == "invalid_json"
    v2 = {"version": "2.0", "routeKey": "GET /health", "rawPath": "/health", "rawQueryString": "",
          "headers": {"host": "x.execute-api.us-east-1.amazonaws.com"},
          "requestContext": {"http": {"method": "GET", "path": "/health", "sourceIp": SOURCE_IP},
                             "requestId": "v2-id"},
          "isBase64Encoded": False}
    resp = lambda_module.api_proxy_handler(v2)
    assert resp["statusCode"] == 200 and resp["headers"]["x-request-id"] == "v2-id"


def test_rate_limit_sees_the_api_gateway_client(lambda_module, monkeypatch):
    """Each caller's sourceIp is the ASGI client, so the API's per-client limit works in Lambda."""
    from f1analyzer.config import reset_settings

    monkeypatch.setenv("F1A_RATE_LIMIT_DEFAULT", "2/minute")
    reset_settings()
    codes = [lambda_module.api_proxy_handler(rest_event("GET", "/races", source_ip="203.0.113.1"))["statusCode"]
             for _ in range(3)]
    assert codes == [200, 200, 429]
    other = lambda_module.api_proxy_handler(rest_event("GET", "/races", source_ip="203.0.113.2"))
    assert other["statusCode"] == 200


# ----------------------------------------------------------------------------------- ingestion
@pytest.fixture
def artifacts(aws, monkeypatch):
    """Bucket with FastF1-format files, the metadata table and a secret, as template.yaml makes them."""
    s3 = boto("s3", aws)
    s3.create_bucket(Bucket="f1a-artifacts")
    s3.put_object(Bucket="f1a-artifacts", Key="race-data/2023.csv.gz",
                  Body=gzip.compress(lap_csv(1, "Bahrain Grand Prix") + lap_csv(2, "Saudi Arabian Grand Prix").split(b"\n", 1)[1]))
    s3.put_object(Bucket="f1a-artifacts", Key="race-data/2024/2024_r1.csv", Body=lap_csv(1, "Bahrain Grand Prix"))
    s3.put_object(Bucket="f1a-artifacts", Key="race-data/2022_broken.csv", Body=b"Driver,LapNumber\nAAA,1\n")
    ddb = boto("dynamodb", aws)
    ddb.create_table(TableName="f1a-meta", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}])
    boto("secretsmanager", aws).create_secret(
        Name="f1a/keys", SecretString=json.dumps({"API_KEYS": "lambda-key", "ANTHROPIC_API_KEY": ""}))
    monkeypatch.setenv("F1A_S3_BUCKET", "f1a-artifacts")
    monkeypatch.setenv("F1A_DYNAMODB_TABLE", "f1a-meta")
    monkeypatch.setenv("SECRETS_MANAGER_SECRET_ID", "f1a/keys")
    monkeypatch.setenv("F1A_INGEST_S3_PREFIX", "race-data/")
    from f1analyzer.config import reset_settings

    reset_settings()
    return aws


@pytest.mark.slow
def test_scheduled_ingestion_from_s3_feeds_a_cold_api_function(lambda_module, artifacts, monkeypatch, tmp_path):
    monkeypatch.setenv("F1A_INGEST_SOURCE", "s3")
    summary = lambda_module.race_data_ingestion_handler(scheduled_event(), None)
    assert summary["source"] == "s3://f1a-artifacts/race-data/"
    assert summary["trigger"] == "Scheduled Event"
    assert (summary["files"], summary["files_rejected"]) == (3, 1)
    assert summary["seasons"] == [2023, 2024] and summary["rounds"] == 3
    assert len(summary["errors"]) == 1 and "2022_broken" in summary["errors"][0]

    s3 = boto("s3", artifacts)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="f1a-artifacts", Prefix="store/")["Contents"])
    assert keys == ["store/seasons/2023.parquet", "store/seasons/2024.parquet"]
    items = boto("dynamodb", artifacts).query(
        TableName="f1a-meta", KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "ingestion"}})["Items"]
    assert len(items) == 1 and items[0]["files_rejected"] == {"N": "1"}
    metrics = boto("cloudwatch", artifacts).list_metrics(Namespace="F1Analyzer")["Metrics"]
    assert {m["MetricName"] for m in metrics} == {"FilesIngested", "FilesRejected", "RoundsIngested"}
    # the secret was loaded before the settings were read
    from f1analyzer.config import get_settings

    assert get_settings().api_key_values == ["lambda-key"]
    assert not get_settings().anthropic_api_key  # an empty placeholder is not a key

    # a new container (empty /tmp) of an API function: pulls the store from S3 on cold start
    lambda_module.reset()
    monkeypatch.setenv("F1A_HOME", str(tmp_path / "cold"))
    from f1analyzer.config import reset_settings

    reset_settings()
    resp = lambda_module.api_proxy_handler(rest_event("GET", "/races", query={"season": ["2023"]}))
    assert resp["statusCode"] == 200, resp["body"]
    data = json.loads(resp["body"])
    assert data["count"] == 2
    assert [r["event"] for r in data["data"]] == ["Bahrain Grand Prix", "Saudi Arabian Grand Prix"]

    # running the schedule again is idempotent
    lambda_module.reset()
    again = lambda_module.race_data_ingestion_handler(scheduled_event(), None)
    assert again["seasons"] == [2023, 2024] and again["rounds"] == 3


@pytest.mark.slow
def test_auto_mode_falls_back_to_s3_when_live_is_unavailable(lambda_module, artifacts, monkeypatch):
    from f1analyzer.data import live
    from f1analyzer.errors import NetworkUnavailableError

    calls = []

    def offline(store, *args, **kwargs):
        calls.append(kwargs)
        raise NetworkUnavailableError("no route to livetiming.formula1.com")

    monkeypatch.setattr(live, "ingest_live", offline)
    monkeypatch.setenv("F1A_INGEST_SOURCE", "auto")
    summary = lambda_module.race_data_ingestion_handler(scheduled_event(), None)
    assert calls == [{"latest": True}]
    assert summary["source"].startswith("s3://") and summary["rounds"] == 3


def test_live_only_mode_fails_loudly_when_live_is_unavailable(lambda_module, artifacts, monkeypatch):
    from f1analyzer.data import live
    from f1analyzer.errors import BackendUnavailableError, NetworkUnavailableError

    def offline(store, *args, **kwargs):
        raise NetworkUnavailableError("offline")

    monkeypatch.setattr(live, "ingest_live", offline)
    monkeypatch.setenv("F1A_INGEST_SOURCE", "live")
    with pytest.raises(BackendUnavailableError):
        lambda_module.race_data_ingestion_handler(scheduled_event(), None)


def test_unreadable_secret_is_a_503_answer_not_a_crash(lambda_module, aws, monkeypatch):
    monkeypatch.setenv("SECRETS_MANAGER_SECRET_ID", "f1a/missing")
    from f1analyzer.config import reset_settings

    reset_settings()
    resp = lambda_module.strategy_generation_handler(
        rest_event("POST", "/strategy/generate", body="{}", request_id="rid-s"))
    assert resp["statusCode"] == 503
    assert error_code(resp) == "backend_unavailable" and resp["headers"]["x-request-id"] == "rid-s"


def test_adapter_answers_500_when_the_app_fails_before_responding():
    from f1analyzer.aws.apigw import ApiGatewayAdapter

    async def broken_app(scope, receive, send):
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        raise RuntimeError("boom")

    adapter = ApiGatewayAdapter(lambda: broken_app)
    try:
        resp = adapter.handle(rest_event("GET", "/anything", request_id="rid-500"))
    finally:
        adapter.close()
    assert resp["statusCode"] == 500 and error_code(resp) == "internal_error"
    assert "boom" not in resp["body"]
