"""RedisCache against a real redis-server: outage → misses and degraded health, then recovery."""

from __future__ import annotations

import logging
import shutil
import time

import pytest

from f1analyzer.backends.cache import RedisCache, make_key
from tests.helpers import redis_server, stop_process, wait_until

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is not installed")


def test_round_trip_json_and_ttl_is_set():
    with redis_server() as (url, _proc):
        cache = RedisCache(url, default_ttl_s=300)
        key = make_key("strategy", {"event": "monza", "season": 2023})
        assert cache.get(key) is None
        value = {"strategies": [{"stops": 1, "compounds": ["MEDIUM", "HARD"], "p50": 2.0}]}
        cache.set(key, value)
        assert cache.get(key) == value
        pttl_ms = cache._client.pttl(key)
        assert 0 < pttl_ms <= 300_000
        cache.set("no-expiry", [1, 2], ttl_s=0)
        assert cache._client.pttl("no-expiry") == -1
        assert cache.healthy() is True and cache.last_error is None
        cache.close()


def test_outage_gives_misses_degraded_health_and_recovers_on_same_port(caplog):
    with redis_server() as (url, proc):
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        cache = RedisCache(url, default_ttl_s=300, log_interval_s=3600, retry_interval_s=0.05)
        cache.set("k", {"v": 1})
        assert cache.get("k") == {"v": 1}

        stop_process(proc)  # Redis dies mid-test
        with caplog.at_level(logging.WARNING, logger="f1analyzer.backends.cache"):
            results = []
            for _ in range(5):
                results.append(cache.get("k"))
                cache.set("k2", {"v": 2})  # must not raise
                time.sleep(0.06)  # let the retry interval pass so each call hits the network
            health = cache.healthy()
        assert results == [None] * 5
        assert health is False
        assert cache.last_error is not None and "ConnectionError" in cache.last_error
        outage_logs = [r for r in caplog.records if "unavailable" in r.getMessage()]
        assert len(outage_logs) == 1  # logged once per interval, not per call

    # restart on the same port: the same cache object recovers by itself
    with redis_server(port=port) as (url2, _proc2):
        assert url2 == url
        assert wait_until(cache.healthy)
        assert cache.last_error is None
        assert cache.get("k") is None  # the old server's data is gone (no persistence)
        cache.set("k", {"v": 3})
        assert cache.get("k") == {"v": 3}
        cache.close()


def test_unreadable_entry_is_a_miss():
    with redis_server() as (url, _proc):
        cache = RedisCache(url)
        cache._client.set("raw", b"\xff not json")
        assert cache.get("raw") is None
        cache.close()
