"""Result cache: an in-process LRU by default, Redis when ``REDIS_URL`` is set.

Strategy simulations and narrations are expensive and deterministic for a given request, so the
API caches them under :func:`make_key` of the normalised request. The cache is an optimisation,
never a dependency: :class:`RedisCache` turns every Redis failure into a miss (``get``) or a
no-op (``set``), logs it at most once per ``log_interval_s``, reports ``healthy() == False`` so
``/health`` can say "degraded", and reconnects by itself once Redis answers again.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol, runtime_checkable

from f1analyzer.log import get_logger
from f1analyzer.config import get_settings

log = get_logger("backends.cache")

KEY_PREFIX = "f1a"
KEY_VERSION = 1


@runtime_checkable
class Cache(Protocol):
    """Key → JSON-serialisable value with a time to live in seconds."""

    def get(self, key: str) -> Any | None: ...

    def set(self, key: str, value: Any, ttl_s: float | None = None) -> None: ...

    def healthy(self) -> bool: ...


def _normalise(value: Any) -> Any:
    """Strings stripped and lower-cased, dict keys sorted (by json.dumps), tuples as lists."""
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, dict):
        return {str(k).strip().lower(): _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def make_key(namespace: str, payload: dict) -> str:
    """Stable cache key: ``f1a:<namespace>:v1:<sha256 of the normalised payload>``.

    ``{"Event": " Monza ", "season": 2023}`` and ``{"season": 2023.0, "event": "monza"}`` give
    the same key. Lists keep their order (a stint order matters).
    """
    body = json.dumps(_normalise(payload), sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return f"{KEY_PREFIX}:{namespace.strip().lower()}:v{KEY_VERSION}:{digest}"


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cache values must be JSON-serialisable: {exc}") from exc


class MemoryCache:
    """Thread-safe bounded LRU with per-entry TTL (the embedded default).

    Values are stored as JSON text, like :class:`RedisCache` stores them: the same values work
    with both backends, and a caller mutating what ``get`` returned cannot change the cache.

    Args:
        max_entries: least recently used entries are evicted beyond this.
        default_ttl_s: TTL when ``set`` gets none; ``0``/None means no expiry.
        clock: seconds source (``time.monotonic``); injectable for tests of expiry.
    """

    def __init__(self, max_entries: int = 1024, default_ttl_s: float | None = 3600.0,
                 clock=time.monotonic):
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.default_ttl_s = default_ttl_s
        self._clock = clock
        self._data: OrderedDict[str, tuple[float | None, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.last_error: str | None = None

    def get(self, key: str) -> Any | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires_at, body = item
            if expires_at is not None and self._clock() >= expires_at:
                del self._data[key]
                return None
            self._data.move_to_end(key)
        return json.loads(body)

    def set(self, key: str, value: Any, ttl_s: float | None = None) -> None:
        ttl = self.default_ttl_s if ttl_s is None else ttl_s
        expires_at = self._clock() + ttl if ttl else None
        body = _dumps(value)
        with self._lock:
            self._data[key] = (expires_at, body)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def healthy(self) -> bool:
        return True


class RedisCache:
    """Redis-backed cache (redis-py), JSON values, short socket timeouts, never raises.

    Args:
        url: ``redis://host:port/db``.
        default_ttl_s: TTL when ``set`` gets none (``settings.cache_ttl_s``); 0 = no expiry.
        socket_timeout_s: connect and read timeout; keep it short, a slow cache is worse than
            none.
        log_interval_s: an outage is logged once per interval, not once per request.
        retry_interval_s: after a failure, calls answer "miss" without touching the network
            for this long; then the next call tries Redis again (automatic recovery).
    """

    def __init__(self, url: str, default_ttl_s: float | None = 3600.0,
                 socket_timeout_s: float = 0.25, log_interval_s: float = 30.0,
                 retry_interval_s: float = 1.0):
        import redis

        self.url = url
        self.default_ttl_s = default_ttl_s
        self.log_interval_s = log_interval_s
        self.retry_interval_s = retry_interval_s
        self._client = redis.Redis.from_url(
            url, socket_timeout=socket_timeout_s, socket_connect_timeout=socket_timeout_s,
            health_check_interval=0, retry_on_timeout=False,
        )
        self._lock = threading.Lock()
        self._last_log = float("-inf")
        self._down_since: float | None = None
        self._retry_after = float("-inf")
        self.last_error: str | None = None

    # --- failure bookkeeping ------------------------------------------------------------------
    def _failed(self, op: str, exc: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            self.last_error = f"{op}: {type(exc).__name__}: {exc}"
            if self._down_since is None:
                self._down_since = now
            self._retry_after = now + self.retry_interval_s
            should_log = now - self._last_log >= self.log_interval_s
            if should_log:
                self._last_log = now
        if should_log:
            log.warning("Redis cache at %s unavailable (%s); serving without cache",
                        self._safe_url(), self.last_error)

    def _ok(self) -> None:
        if self._down_since is not None:
            with self._lock:
                was_down = self._down_since is not None
                self._down_since = None
                self.last_error = None
            if was_down:
                log.info("Redis cache at %s is back", self._safe_url())

    def _skip(self) -> bool:
        """True while a recent failure says not to try the network yet."""
        return self._down_since is not None and time.monotonic() < self._retry_after

    def _safe_url(self) -> str:
        return self.url.split("@")[-1]

    # --- Cache --------------------------------------------------------------------------------
    def get(self, key: str) -> Any | None:
        if self._skip():
            return None
        try:
            raw = self._client.get(key)
        except Exception as exc:  # noqa: BLE001 - any Redis failure is a miss
            self._failed("get", exc)
            return None
        self._ok()
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            log.warning("dropping unreadable cache entry %s", key)
            return None

    def set(self, key: str, value: Any, ttl_s: float | None = None) -> None:
        if self._skip():
            return
        ttl = self.default_ttl_s if ttl_s is None else ttl_s
        body = _dumps(value)
        try:
            if ttl:
                self._client.set(key, body, px=max(1, int(ttl * 1000)))
            else:
                self._client.set(key, body)
        except Exception as exc:  # noqa: BLE001
            self._failed("set", exc)
            return
        self._ok()

    def healthy(self) -> bool:
        """Ping Redis (unless a failure is fresh); False while it is unreachable."""
        if self._skip():
            return False
        try:
            self._client.ping()
        except Exception as exc:  # noqa: BLE001
            self._failed("ping", exc)
            return False
        self._ok()
        return True

    def close(self) -> None:
        try:
            self._client.close()
        except Exception:  # noqa: BLE001  # pragma: no cover
            pass


def get_cache(settings=None) -> Cache:
    """Redis when ``settings.redis_url`` is set, else an in-process :class:`MemoryCache`."""
    if settings is None:
        settings = get_settings()
    if settings.redis_url:
        return RedisCache(settings.secret("redis_url"), default_ttl_s=settings.cache_ttl_s)
    return MemoryCache(default_ttl_s=settings.cache_ttl_s)


def cached(cache: Cache, key: str, compute, ttl_s: float | None = None) -> Any:
    """``cache.get(key)`` or ``compute()`` stored under ``key`` (the value must be JSON-able)."""
    hit = cache.get(key)
    if hit is not None:
        return hit
    value = compute()
    cache.set(key, value, ttl_s)
    return value
