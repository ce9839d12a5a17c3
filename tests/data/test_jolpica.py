"""The Jolpica client against a local Ergast-shaped server: parsing, retries, giving up."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from f1analyzer.data.jolpica import RESULT_COLUMNS, JolpicaClient, parse_retry_after
from f1analyzer.errors import BackendUnavailableError, NetworkUnavailableError, NotFoundError
from tests.helpers import free_port

from .ergast_server import RESULTS_2024_1, SCHEDULE_2024, ergast_server, mrdata


class RecordedSleep:
    """Stands in for time.sleep: remembers each wait the client asked for."""

    def __init__(self):
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client(base: str, **kw) -> JolpicaClient:
    kw.setdefault("sleep", RecordedSleep())
    kw.setdefault("backoff_s", 0.5)
    kw.setdefault("timeout_s", 5.0)
    return JolpicaClient(base, **kw)


def test_schedule_parsed():
    with ergast_server({"/2024.json": [(200, {}, SCHEDULE_2024)]}) as (base, asked):
        with client(base) as api:
            sched = api.schedule(2024)
    assert asked == ["/ergast/f1/2024.json"]
    assert sched["round"].tolist() == [1, 2, 3, 4]
    assert sched["circuit_key"].tolist() == ["bahrain", "jeddah", "albert_park", "suzuka"]
    assert sched.loc[2, "locality"] == "Melbourne"
    assert sched.loc[0, "race_start_utc"] == pd.Timestamp("2024-03-02 15:00", tz="UTC")


def test_completed_rounds():
    now = datetime(2024, 3, 24, 9, 0, tzinfo=timezone.utc)  # 5 h after round 3's start
    with ergast_server({"/2024.json": [(200, {}, SCHEDULE_2024)]}) as (base, _):
        with client(base) as api:
            assert api.completed_rounds(2024, now=now) == [1, 2, 3]
            assert api.completed_rounds(2024, now=now - timedelta(hours=2)) == [1, 2]
            assert api.completed_rounds(2024, now=datetime(2024, 1, 1)) == []


def test_results_grid_and_classification():
    with ergast_server({"/2024/1/results.json": [(200, {}, RESULTS_2024_1)]}) as (base, _):
        with client(base) as api:
            res = api.results(2024, 1)
    assert list(res.columns) == list(RESULT_COLUMNS)
    assert res["driver"].tolist() == ["VER", "PER", "SAI", "HUL", "SAR"]
    assert res["grid"].tolist() == [1, 5, 4, 0, 20]
    assert res["status"].tolist()[-2:] == ["+1 Lap", "Retired"]
    assert res["position_text"].iat[-1] == "R"
    assert res["points"].tolist() == [26.0, 18.0, 15.0, 0.0, 0.0]
    assert res["laps"].tolist() == [57, 57, 57, 56, 20]
    assert res["team"].iat[0] == "Red Bull" and res["driver_number"].iat[2] == 55


def test_results_of_a_race_not_run_yet():
    with ergast_server({"/2024/9/results.json": [(200, {}, mrdata(2024, []))]}) as (base, _):
        with client(base) as api, pytest.raises(NotFoundError, match="no results for season 2024 round 9"):
            api.results(2024, 9)


def test_429_then_success_honours_retry_after():
    sleep = RecordedSleep()
    routes = {"/2024.json": [(429, {"Retry-After": "3"}, {"detail": "slow down"}),
                             (503, {}, {"detail": "busy"}),
                             (200, {}, SCHEDULE_2024)]}
    with ergast_server(routes) as (base, asked):
        with client(base, sleep=sleep, backoff_s=0.25) as api:
            sched = api.schedule(2024)
    assert len(sched) == 4
    assert len(asked) == 3
    # first wait from Retry-After, the second from the exponential backoff (0.25 * 2**1)
    assert sleep.waits == [3.0, 0.5]


def test_500_until_giving_up():
    sleep = RecordedSleep()
    with ergast_server({"/2024.json": [(500, {}, {"detail": "boom"})]}) as (base, asked):
        with client(base, sleep=sleep, max_attempts=4, backoff_s=1.0) as api:
            with pytest.raises(NetworkUnavailableError) as err:
                api.schedule(2024)
    assert len(asked) == 4
    assert sleep.waits == [1.0, 2.0, 4.0]  # exponential, no wait after the last try
    assert "kept failing (HTTP 500) after 4 attempt(s)" in err.value.message
    assert "\n" not in err.value.message


def test_backoff_and_retry_after_are_capped():
    sleep = RecordedSleep()
    with ergast_server({"/2024.json": [(429, {"Retry-After": "3600"}, {})]}) as (base, _):
        with client(base, sleep=sleep, max_attempts=3, max_backoff_s=7.0) as api:
            with pytest.raises(NetworkUnavailableError, match="rate-limiting"):
                api.schedule(2024)
    assert sleep.waits == [7.0, 7.0]


def test_connection_refused_gives_up_with_readable_error():
    sleep = RecordedSleep()
    base = f"http://127.0.0.1:{free_port()}/ergast/f1"  # nothing listens there
    with client(base, sleep=sleep, max_attempts=3, backoff_s=0.1) as api:
        with pytest.raises(NetworkUnavailableError) as err:
            api.completed_rounds(2024)
    assert err.value.message.startswith(f"cannot reach Jolpica at {base}")
    assert sleep.waits == [0.1, 0.2]


def test_client_error_is_not_retried():
    sleep = RecordedSleep()
    with ergast_server({}) as (base, asked):
        with client(base, sleep=sleep) as api, pytest.raises(BackendUnavailableError, match="HTTP 404"):
            api.schedule(1900)
    assert len(asked) == 1 and sleep.waits == []


def test_wrong_shape_and_non_json():
    routes = {"/2024.json": [(200, {}, {"unexpected": True})], "/2023.json": [(200, {}, b"<html>")]}
    with ergast_server(routes) as (base, _):
        with client(base) as api:
            with pytest.raises(BackendUnavailableError, match="not in the Ergast shape"):
                api.schedule(2024)
            with pytest.raises(BackendUnavailableError, match="not JSON"):
                api.schedule(2023)


def test_parse_retry_after():
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 01 May 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now=now) == 0.0
