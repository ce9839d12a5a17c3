"""Rate limits on the real server: 429 + Retry-After, counters shared through Redis, fail-open
when Redis is down, client identity (API key, trusted X-Forwarded-For)."""

from __future__ import annotations

import time

import httpx
import pytest

from f1analyzer.api.ratelimit import RateLimitService, RouteLimit, _count_items
from f1analyzer.config import Settings
from tests import helpers
from tests.helpers import api_server, free_port, redis_server

KEY = "rl-key"
GENERATE = {"season": 2024, "event": "Monza", "driver": "LEC", "grid": 4, "top_k": 1}


def service_env(home, **extra) -> dict[str, str]:
    """The shared service environment with the seed's strategy limit (10/minute) under test."""
    return helpers.service_env(home, **{"F1A_RATE_LIMIT_STRATEGY": "10/minute", **extra})


def _has_generate(url: str) -> bool:
    return "/strategy/generate" in httpx.get(f"{url}/openapi.json").json()["paths"]


def limited_call(url: str):
    """POST /strategy/generate when it exists (limit 10/minute from F1A_RATE_LIMIT_STRATEGY),
    else GET /races under F1A_RATE_LIMIT_DEFAULT=10/minute (the servers below set both)."""
    if _has_generate(url):
        return lambda **kw: httpx.post(f"{url}/strategy/generate", json=GENERATE, timeout=60, **kw)
    return lambda **kw: httpx.get(f"{url}/races", **kw)


def assert_429(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    retry = int(r.headers["retry-after"])
    assert 1 <= retry <= 60
    body = r.json()["error"]
    assert body["code"] == "rate_limited" and "Rate limit exceeded" in body["message"]
    assert body["details"]["retry_after_s"] == retry


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("rl_home")
    env = service_env(home, F1A_RATE_LIMIT_DEFAULT="10/minute", API_KEYS=KEY)
    with api_server(env) as url:
        yield url


def test_eleventh_call_in_a_minute_is_429_with_retry_after(server):
    call = limited_call(server)
    statuses = [call().status_code for _ in range(10)]
    assert 429 not in statuses and all(s < 500 for s in statuses), statuses
    assert_429(call())
    assert_429(call())
    # a valid API key is a different client with its own counter; a wrong one is refused
    assert call(headers={"X-API-Key": KEY}).status_code != 429
    assert call(headers={"X-API-Key": "not-a-key"}).status_code == 403
    # probes and scrapes are never limited
    assert all(httpx.get(f"{server}/health").status_code == 200 for _ in range(15))
    metrics = httpx.get(f"{server}/metrics").text
    assert "f1a_rate_limited_total{route=" in metrics


def test_two_instances_share_counters_through_redis(tmp_path):
    with redis_server() as (redis_url, _):
        env = service_env(tmp_path, REDIS_URL=redis_url, F1A_RATE_LIMIT_DEFAULT="10/minute")
        with api_server(env) as a, api_server(env) as b:
            call_a, call_b = limited_call(a), limited_call(b)
            statuses = [call_a().status_code for _ in range(6)] + [call_b().status_code for _ in range(4)]
            assert 429 not in statuses, statuses
            assert_429(call_b())
            assert_429(call_a())


def test_redis_down_fails_open_to_per_instance_limits(tmp_path):
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    env = service_env(tmp_path, REDIS_URL=dead, F1A_RATE_LIMIT_DEFAULT="10/minute")
    with api_server(env) as url:
        call = limited_call(url)
        statuses = [call().status_code for _ in range(10)]
        assert all(s < 500 for s in statuses) and 429 not in statuses, statuses
        assert_429(call())
        deadline = time.monotonic() + 10  # /health results are reused for a second
        while True:
            health = httpx.get(f"{url}/health").json()
            prefixes = {r.split(":")[0] for r in health["reasons"]}
            if {"rate limiting", "cache"} <= prefixes or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert health["status"] == "degraded"
        assert {"rate limiting", "cache"} <= prefixes, health


@pytest.mark.parametrize("trusted,separate", [("127.0.0.1", True), ("", False)])
def test_forwarded_for_is_believed_only_from_trusted_proxies(tmp_path, trusted, separate):
    env = service_env(tmp_path, F1A_RATE_LIMIT_DEFAULT="10/minute", FORWARDED_ALLOW_IPS=trusted)
    with api_server(env) as url:
        call = limited_call(url)
        for i in range(10):
            assert call(headers={"X-Forwarded-For": "203.0.113.7"}).status_code != 429
        other = call(headers={"X-Forwarded-For": "198.51.100.9"})
        if separate:
            assert other.status_code != 429  # another client behind the trusted proxy
        else:
            assert_429(other)  # header ignored: same connection address, same client


def test_batch_costs_one_hit_per_request(tmp_path):
    with api_server(service_env(tmp_path, F1A_RATE_LIMIT_STRATEGY="10/minute")) as url:
        assert "/strategy/batch" in httpx.get(f"{url}/openapi.json").json()["paths"]
        batch = {"requests": [GENERATE] * 6}
        first = httpx.post(f"{url}/strategy/batch", json=batch, timeout=120)
        assert first.status_code != 429
        assert_429(httpx.post(f"{url}/strategy/batch", json=batch, timeout=120))
        if _has_generate(url):  # generate shares the same "strategy" bucket
            for _ in range(4):
                httpx.post(f"{url}/strategy/generate", json=GENERATE, timeout=60)
            assert_429(httpx.post(f"{url}/strategy/generate", json=GENERATE, timeout=60))


# --- in-process units ---------------------------------------------------------------------------
def test_limit_names_resolve_to_settings_and_cost_counts_items():
    svc = RateLimitService(Settings(rate_limit_strategy="2/minute"))
    items = svc.limit_for(RouteLimit("rate_limit_strategy"))
    assert [str(i) for i in items] == ["2 per 1 minute"]
    assert svc.limit_for(RouteLimit(None)) == ()
    assert svc.hit(items, "ip:a", "s", cost=2) is None
    assert svc.hit(items, "ip:a", "s") is not None
    assert svc.hit(items, "ip:b", "s") is None
    assert _count_items(b'{"requests": [1, 2, 3]}', "requests") == 3
    assert _count_items(b"not json", "requests") == 1
    assert _count_items(b'{"requests": []}', "requests") == 1
