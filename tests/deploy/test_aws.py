"""f1analyzer.aws against moto's server on loopback: Secrets Manager, CloudWatch, S3 sync."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import boto3
import pytest

from f1analyzer.aws import secrets as aws_secrets
from f1analyzer.aws.cloudwatch import MetricsPublisher
from f1analyzer.aws.s3 import download_lap_files, pull_store, push_store
from f1analyzer.config import get_settings, reset_settings
from f1analyzer.errors import BackendUnavailableError, ConfigError
from tests.helpers import REPO, free_port


def boto(service: str, url: str):
    return boto3.session.Session().client(service, region_name="us-east-1", endpoint_url=url)


def lap_csv(round_: int = 1, event: str = "Bahrain Grand Prix", n_laps: int = 5) -> bytes:
    """A tiny FastF1-format lap file (two cars, one stint each)."""
    cols = ["Time", "Driver", "DriverNumber", "LapTime", "LapNumber", "Stint", "PitOutTime", "PitInTime",
            "Compound", "TyreLife", "FreshTyre", "Team", "TrackStatus", "Position", "IsAccurate",
            "RoundNumber", "EventName"]
    lines = [",".join(cols)]
    for pos, (drv, num, team) in enumerate([("AAA", 1, "Alpha"), ("BBB", 2, "Bravo")], start=1):
        t = 3600.0
        for lap in range(1, n_laps + 1):
            lt = 92.0 + pos * 0.3 + lap * 0.05
            t += lt
            lap_time = "" if lap == 1 else f"{lt:.3f}"
            session = f"0 days {int(t // 3600):02d}:{int(t % 3600 // 60):02d}:{t % 60:06.3f}000"
            lines.append(",".join(map(str, [session, drv, num, lap_time, float(lap), 1.0, "", "", "MEDIUM",
                                            float(lap + 2), False, team, "1", float(pos), True,
                                            round_, event])))
    return ("\n".join(lines) + "\n").encode()


# ------------------------------------------------------------------------------ Secrets Manager
def test_parse_secret_keeps_known_non_empty_keys():
    got = aws_secrets.parse_secret(json.dumps({
        "ANTHROPIC_API_KEY": "sk-ant", "PINECONE_API_KEY": "", "API_KEYS": ["k1", "k2"], "OTHER": "x"}))
    assert got == {"ANTHROPIC_API_KEY": "sk-ant", "API_KEYS": "k1,k2"}
    with pytest.raises(ConfigError):
        aws_secrets.parse_secret("not json")
    with pytest.raises(ConfigError):
        aws_secrets.parse_secret("[1, 2]")


def test_load_secrets_fills_the_environment_and_settings(aws, monkeypatch):
    sm = boto("secretsmanager", aws)
    sm.create_secret(Name="f1a/keys", SecretString=json.dumps(
        {"ANTHROPIC_API_KEY": "sk-ant-from-secret", "PINECONE_API_KEY": "pc-secret",
         "API_KEYS": "a1,a2"}))
    monkeypatch.setenv("SECRETS_MANAGER_SECRET_ID", "f1a/keys")
    monkeypatch.setenv("PINECONE_API_KEY", "pc-set-by-operator")  # explicit variables win
    aws_secrets.forget_loaded_secret()
    env: dict[str, str] = dict(os.environ)
    applied = aws_secrets.load_secrets(env)
    assert sorted(applied) == ["ANTHROPIC_API_KEY", "API_KEYS"]
    assert env["ANTHROPIC_API_KEY"] == "sk-ant-from-secret"
    assert env["PINECONE_API_KEY"] == "pc-set-by-operator"
    # into os.environ (the normal case): the settings see the keys
    for k in applied:
        monkeypatch.delenv(k, raising=False)
    try:
        assert aws_secrets.load_secrets() == ["ANTHROPIC_API_KEY", "API_KEYS"]
        s = get_settings()
        assert s.secret("anthropic_api_key") == "sk-ant-from-secret" and s.api_key_values == ["a1", "a2"]
        assert aws_secrets.load_secrets() == []  # once per process
    finally:
        for k in ("ANTHROPIC_API_KEY", "API_KEYS"):
            os.environ.pop(k, None)
        aws_secrets.forget_loaded_secret()
        reset_settings()


def test_no_secret_configured_is_a_no_op(aws):
    aws_secrets.forget_loaded_secret()
    assert aws_secrets.load_secrets({}) == []


def test_missing_secret_is_reported(aws, monkeypatch):
    monkeypatch.setenv("SECRETS_MANAGER_SECRET_ID", "does/not/exist")
    aws_secrets.forget_loaded_secret()
    with pytest.raises(BackendUnavailableError, match="does/not/exist"):
        aws_secrets.load_secrets({})


@pytest.mark.slow
def test_entrypoint_execs_the_command_with_the_keys(aws, tmp_path):
    boto("secretsmanager", aws).create_secret(
        Name="f1a/exec", SecretString=json.dumps({"ANTHROPIC_API_KEY": "sk-exec"}))
    env = {**os.environ, "SECRETS_MANAGER_SECRET_ID": "f1a/exec"}
    env.pop("ANTHROPIC_API_KEY", None)
    r = subprocess.run([sys.executable, "-m", "f1analyzer.aws.secrets", sys.executable, "-c",
                        "import os; print(os.environ['ANTHROPIC_API_KEY'])"],
                       env=env, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "sk-exec"
    bad = subprocess.run([sys.executable, "-m", "f1analyzer.aws.secrets", "true"],
                         env={**env, "SECRETS_MANAGER_SECRET_ID": "nope"}, capture_output=True,
                         text=True, cwd=REPO, timeout=120)
    assert bad.returncode == 1 and "error:" in bad.stderr and "sk-" not in bad.stderr


# ------------------------------------------------------------------------------------ CloudWatch
def test_publisher_batches_put_metric_data(aws):
    cw = boto("cloudwatch", aws)
    pub = MetricsPublisher("F1Test", dimensions={"Function": "t"}, batch_size=10)
    for i in range(25):
        pub.put("Widgets", 1.0, unit="Count")
    assert pub.requests_sent == 2 and pub.pending() == 5  # two full batches went out already
    assert pub.flush() == 5
    assert (pub.requests_sent, pub.points_sent, pub.points_failed) == (3, 25, 0)
    metrics = cw.list_metrics(Namespace="F1Test")["Metrics"]
    assert [m["MetricName"] for m in metrics] == ["Widgets"]
    assert metrics[0]["Dimensions"] == [{"Name": "Function", "Value": "t"}]
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    stats = cw.get_metric_statistics(Namespace="F1Test", MetricName="Widgets",
                                     Dimensions=[{"Name": "Function", "Value": "t"}],
                                     StartTime=now - timedelta(hours=1), EndTime=now + timedelta(minutes=5),
                                     Period=3600, Statistics=["Sum"])
    assert sum(p["Sum"] for p in stats["Datapoints"]) == 25


def test_publisher_never_raises(monkeypatch):
    from botocore.config import Config

    dead = boto3.session.Session().client(
        "cloudwatch", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{free_port()}",
        aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=2))
    with MetricsPublisher("F1Test", client=dead) as pub:
        pub.put("Widgets", 1)
    assert pub.points_failed == 1 and pub.points_sent == 0
    with pytest.raises(ValueError):
        MetricsPublisher(batch_size=1001)


# -------------------------------------------------------------------------------------------- S3
def test_lap_files_download_and_store_round_trip(aws, tmp_path):
    s3 = boto("s3", aws)
    s3.create_bucket(Bucket="f1a-art")
    s3.put_object(Bucket="f1a-art", Key="race-data/2023/2023.csv.gz", Body=gzip.compress(lap_csv()))
    s3.put_object(Bucket="f1a-art", Key="race-data/notes.txt", Body=b"ignored")
    s3.put_object(Bucket="f1a-art", Key="race-data/compound_selection.toml", Body=b"")
    files = download_lap_files(s3, "f1a-art", "race-data/", tmp_path / "in")
    assert [f.name for f in files] == ["2023__2023.csv.gz"]
    assert (tmp_path / "in" / "compound_selection.toml").exists()

    store = tmp_path / "store"
    (store / "seasons").mkdir(parents=True)
    (store / "seasons" / "2023.parquet").write_bytes(b"PAR1-fake")
    (store / "seasons" / "2024.parquet").write_bytes(b"PAR1-other")
    assert push_store(s3, "f1a-art", store, seasons=[2023]) == ["store/seasons/2023.parquet"]
    assert push_store(s3, "f1a-art", store) == ["store/seasons/2023.parquet", "store/seasons/2024.parquet"]
    got = pull_store(s3, "f1a-art", tmp_path / "copy")
    assert [p.name for p in got] == ["2023.parquet", "2024.parquet"]
    assert (tmp_path / "copy" / "seasons" / "2024.parquet").read_bytes() == b"PAR1-other"
