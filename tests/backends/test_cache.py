"""Cache keys and the in-process MemoryCache."""

from __future__ import annotations

import threading

import pytest

from f1analyzer.backends.cache import MemoryCache, RedisCache, cached, get_cache, make_key
from f1analyzer.config import get_settings, reset_settings


class ManualClock:
    """A clock the test advances by hand (the cache takes any seconds source)."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_make_key_normalises_case_whitespace_order_and_integral_floats():
    a = make_key("strategy", {"Event": " Monza ", "season": 2023, "driver": "VER"})
    b = make_key("Strategy", {"driver": "ver", "season": 2023.0, "event": "monza"})
    assert a == b
    assert a.startswith("f1a:strategy:v1:") and len(a.split(":")[-1]) == 64


def test_make_key_distinguishes_values_and_list_order():
    base = {"event": "monza", "compounds": ["SOFT", "HARD"]}
    assert make_key("s", base) != make_key("s", {**base, "event": "spa"})
    assert make_key("s", base) != make_key("s", {**base, "compounds": ["HARD", "SOFT"]})
    assert make_key("s", base) != make_key("q", base)


def test_memory_cache_ttl_expires_entries():
    clock = ManualClock()
    cache = MemoryCache(default_ttl_s=60, clock=clock)
    cache.set("a", {"x": 1})
    cache.set("b", [1, 2], ttl_s=5)
    clock.now += 4.9
    assert cache.get("a") == {"x": 1} and cache.get("b") == [1, 2]
    clock.now += 0.2
    assert cache.get("b") is None
    assert cache.get("a") == {"x": 1}
    clock.now += 60
    assert cache.get("a") is None
    assert len(cache) == 0


def test_memory_cache_zero_ttl_means_no_expiry():
    clock = ManualClock()
    cache = MemoryCache(default_ttl_s=0, clock=clock)
    cache.set("k", "v")
    clock.now += 10**9
    assert cache.get("k") == "v"


def test_memory_cache_evicts_least_recently_used():
    cache = MemoryCache(max_entries=3)
    for k in "abc":
        cache.set(k, k.upper())
    assert cache.get("a") == "A"          # a becomes most recent
    cache.set("d", "D")                    # evicts b, the least recently used
    assert cache.get("b") is None
    assert [cache.get(k) for k in "acd"] == ["A", "C", "D"]
    assert len(cache) == 3


def test_memory_cache_is_thread_safe_and_bounded():
    cache = MemoryCache(max_entries=50)
    errors = []

    def worker(n):
        try:
            for i in range(500):
                cache.set(f"{n}:{i}", i)
                cache.get(f"{n}:{i - 1}")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(cache) == 50


def test_cached_computes_once():
    cache = MemoryCache()
    calls = []

    def compute():
        calls.append(1)
        return {"answer": 42}

    assert cached(cache, "k", compute) == {"answer": 42}
    assert cached(cache, "k", compute) == {"answer": 42}
    assert len(calls) == 1


def test_get_cache_follows_settings(monkeypatch):
    assert isinstance(get_cache(), MemoryCache)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("F1A_CACHE_TTL_S", "120")
    reset_settings()
    cache = get_cache(get_settings())
    assert isinstance(cache, RedisCache)
    assert cache.default_ttl_s == 120
    # nothing listens on port 1: a miss, not an exception
    assert cache.get("anything") is None
    assert cache.healthy() is False
    cache.close()


def test_memory_cache_rejects_zero_size():
    with pytest.raises(ValueError):
        MemoryCache(max_entries=0)


def test_memory_cache_returns_copies_and_refuses_non_json_values():
    cache = MemoryCache()
    value = {"strategies": [{"stops": 1}]}
    cache.set("k", value)
    got = cache.get("k")
    got["strategies"].append({"stops": 2})
    assert cache.get("k") == {"strategies": [{"stops": 1}]}
    with pytest.raises(TypeError, match="JSON"):
        cache.set("bad", {"when": object()})
