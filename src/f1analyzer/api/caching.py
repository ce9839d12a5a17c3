"""Cache API answers by normalised request (strategy results, narrations, query answers).

The app holds one :class:`~f1analyzer.backends.cache.Cache` (``state.services.cache``, Redis
when ``REDIS_URL`` is set, else in-process) wrapped in a :class:`ResponseCache`
(``state.response_cache``). Two ways to use it from a route:

Explicitly, with the dependency::

    from f1analyzer.api.caching import ResponseCacheDep

    @router.post("/generate", response_model=StrategyResponse)
    def generate(body: GenerateRequest, cache: ResponseCacheDep) -> dict:
        answer, hit = cache.get_or_compute("strategy.generate", body, lambda: run(body))
        return {**answer, "cached": hit}

Or as a decorator that keys on the route's request model and plain parameters::

    @router.post("/query", response_model=QueryResponse)
    @cached_route("query")
    def query(body: QueryRequest, kb: KnowledgeDep) -> QueryResponse: ...

The cache is an optimisation, never a dependency: when Redis is unreachable the backend answers
"miss", the computation runs, a warning is logged once per interval and ``/health`` reports
"degraded" with the reason (:func:`cache_degraded_reason`). Identical concurrent requests in one
process compute once (the others wait for the first). Values are stored as JSON: a pydantic
model is stored (and returned, on hits and misses alike) as ``model_dump(mode="json")``.
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ..backends.cache import Cache, MemoryCache, make_key
from ..log import get_logger
from .metrics import record_cache

log = get_logger("api.caching")


def to_jsonable(value: Any) -> Any:
    """What is stored: pydantic models dumped in JSON mode, everything else as given."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


def payload_of(value: Any) -> Any:
    """The key material of a request: a model's JSON dump (``None`` fields dropped)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    return value


class ResponseCache:
    """A :class:`Cache` plus key building, metrics, single-flight and a default TTL.

    Args:
        cache: the backend (``get_cache(settings)``).
        default_ttl_s: TTL when a call gives none (``settings.cache_ttl_s``).
    """

    def __init__(self, cache: Cache, *, default_ttl_s: float | None = None):
        self.cache = cache
        self.default_ttl_s = default_ttl_s
        #: an in-process backend: lookups are cheap enough for the event loop
        self._local = isinstance(cache, MemoryCache)
        self._locks: dict[str, tuple[threading.Lock, int]] = {}
        self._locks_guard = threading.Lock()

    @staticmethod
    def key(namespace: str, payload: Any) -> str:
        """``make_key(namespace, payload)`` for a dict or a pydantic model."""
        p = payload_of(payload)
        return make_key(namespace, p if isinstance(p, dict) else {"value": p})

    def get(self, namespace: str, payload: Any) -> Any | None:
        value = self._safe_get(self.key(namespace, payload))
        record_cache(value is not None, namespace)
        return value

    def set(self, namespace: str, payload: Any, value: Any, *, ttl_s: float | None = None) -> None:
        self._safe_set(self.key(namespace, payload), to_jsonable(value), ttl_s)

    def get_or_compute(self, namespace: str, payload: Any, compute: Callable[[], Any], *,
                       ttl_s: float | Callable[[Any], float | None] | None = None) -> tuple[Any, bool]:
        """``(answer, was_cached)``: the cached answer or ``compute()`` stored for next time.

        Args:
            namespace: what is cached (``"strategy.generate"``, ``"narration"``, ``"query"``);
                it prefixes the key, so different answers never collide.
            payload: the normalised request: a dict or a pydantic model (``None`` fields are
                dropped, strings stripped and lower-cased, keys sorted; see ``make_key``).
                Leave out what does not change the answer.
            compute: called on a miss, in the caller's thread; its exceptions propagate and
                nothing is stored.
            ttl_s: seconds to keep it (default ``settings.cache_ttl_s``), or a function of the
                computed answer returning that (None: the default), e.g. shorter for an
                answer written while a backend was down.
        """
        return self._get_or_compute(self.key(namespace, payload), namespace, compute, ttl_s)

    async def aget(self, namespace: str, payload: Any) -> Any | None:
        """:meth:`get` for ``async def`` routes: an in-process lookup on the event loop, Redis
        I/O on the thread pool."""
        if self._local:
            return self.get(namespace, payload)
        return await run_in_threadpool(self.get, namespace, payload)

    async def aget_or_compute(self, namespace: str, payload: Any,
                              compute: Callable[[], Awaitable[Any] | Any], *,
                              ttl_s: float | None = None) -> tuple[Any, bool]:
        """Async flavour for ``async def`` routes: a hit in the in-process cache is answered
        on the event loop (no thread-pool hop); Redis I/O and a sync ``compute`` run in the
        thread pool (with the same single-flight); an async ``compute`` is awaited."""
        key = self.key(namespace, payload)
        if self._local:
            hit = self._safe_get(key)
        else:
            hit = await run_in_threadpool(self._safe_get, key)
        if hit is not None:
            record_cache(True, namespace)
            return hit, True
        if not inspect.iscoroutinefunction(compute):
            return await run_in_threadpool(self._get_or_compute, key, namespace, compute, ttl_s)
        record_cache(False, namespace)
        value = to_jsonable(await compute())
        if self._local:
            self._safe_set(key, value, ttl_s)
        else:
            await run_in_threadpool(self._safe_set, key, value, ttl_s)
        return value, False

    def _get_or_compute(self, key: str, namespace: str, compute: Callable[[], Any],
                        ttl_s: float | None) -> tuple[Any, bool]:
        hit = self._safe_get(key)
        if hit is not None:
            record_cache(True, namespace)
            return hit, True
        with self._key_lock(key):
            hit = self._safe_get(key)  # another thread may have filled it while we waited
            if hit is not None:
                record_cache(True, namespace)
                return hit, True
            record_cache(False, namespace)
            value = compute()
            if inspect.iscoroutine(value):
                value.close()
                raise TypeError("get_or_compute needs a sync compute; use aget_or_compute")
            value = to_jsonable(value)
            self._safe_set(key, value, ttl_s(value) if callable(ttl_s) else ttl_s)
            return value, False

    def healthy(self) -> bool:
        return self.cache.healthy()

    # --- internals ----------------------------------------------------------------------------
    def _safe_get(self, key: str) -> Any | None:
        try:
            return self.cache.get(key)
        except Exception as exc:  # noqa: BLE001 - a cache never fails a request
            log.warning("cache get failed: %s", exc)
            return None

    def _safe_set(self, key: str, value: Any, ttl_s: float | None) -> None:
        try:
            self.cache.set(key, value, self.default_ttl_s if ttl_s is None else ttl_s)
        except TypeError as exc:
            log.warning("answer not cached, not JSON-serialisable: %s", exc)
        except Exception as exc:  # noqa: BLE001
            log.warning("cache set failed: %s", exc)

    def _key_lock(self, key: str):
        guard = self._locks_guard
        locks = self._locks

        class _Held:
            def __enter__(self_inner):
                with guard:
                    lock, n = locks.get(key, (None, 0))
                    if lock is None:
                        lock = threading.Lock()
                    locks[key] = (lock, n + 1)
                self_inner.lock = lock
                lock.acquire()
                return self_inner

            def __exit__(self_inner, *exc):
                self_inner.lock.release()
                with guard:
                    lock, n = locks[key]
                    if n <= 1:
                        del locks[key]
                    else:
                        locks[key] = (lock, n - 1)
                return False

        return _Held()


# --- wiring ------------------------------------------------------------------------------------
async def get_response_cache(request: Request) -> ResponseCache:
    """Dependency (``async``: FastAPI runs sync dependencies in the thread pool, a hop that
    costs more than the lookup)."""
    return request.app.state.f1a.response_cache


def _response_cache_of(request: Request) -> ResponseCache:
    return request.app.state.f1a.response_cache


ResponseCacheDep = Annotated[ResponseCache, Depends(get_response_cache)]


def cache_degraded_reason(state) -> str | None:
    """``AppState.degraded_reasons`` entry: why answers are currently not cached."""
    cache = state.services.cache
    if cache is None or cache.healthy():
        return None
    detail = getattr(cache, "last_error", None)
    where = getattr(cache, "url", "")
    where = where.split("@")[-1] if where else ""
    return (f"cache: {type(cache).__name__} {where} unreachable; answering without the cache"
            + (f" ({detail})" if detail else ""))


_KEYABLE = (str, int, float, bool, type(None))


def _keyable(value: Any) -> bool:
    if isinstance(value, (BaseModel, *_KEYABLE)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_keyable(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _keyable(v) for k, v in value.items())
    return False


def cached_route(namespace: str, *, ttl_s: float | None = None,
                 flags: bool = True) -> Callable:
    """Decorator for a route: answer from the cache keyed by its request parameters.

    The key is built from the parameters that are pydantic models or plain values (body,
    path and query parameters); injected services (stores, models, settings) are ignored. With
    ``flags``, a dict answer's ``cached`` and ``latency_ms`` fields (when present) are set.
    Place it under the ``@router.post(...)`` line.
    """

    def deco(fn):
        sig = inspect.signature(fn, eval_str=True)  # the wrapper's globals are not the route's
        req_name = "_f1a_cache_request"
        params = list(sig.parameters.values())
        extra = inspect.Parameter(req_name, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
        new_sig = sig.replace(parameters=[*params, extra])

        def _key_payload(kwargs: dict) -> dict:
            return {k: payload_of(v) for k, v in kwargs.items() if _keyable(v)}

        def _finish(value: Any, hit: bool, start: float) -> Any:
            if flags and isinstance(value, dict):
                value = dict(value)
                if "cached" in value:
                    value["cached"] = hit
                if "latency_ms" in value:
                    value["latency_ms"] = round((time.perf_counter() - start) * 1000, 2)
            return value

        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def awrapper(*args, **kwargs):
                request: Request = kwargs.pop(req_name)
                start = time.perf_counter()
                rc = _response_cache_of(request)

                async def compute():
                    return await fn(*args, **kwargs)

                value, hit = await rc.aget_or_compute(namespace, _key_payload(kwargs), compute,
                                                      ttl_s=ttl_s)
                return _finish(value, hit, start)

            awrapper.__signature__ = new_sig  # type: ignore[attr-defined]
            return awrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            request: Request = kwargs.pop(req_name)
            start = time.perf_counter()
            rc = _response_cache_of(request)
            value, hit = rc.get_or_compute(namespace, _key_payload(kwargs),
                                           lambda: fn(*args, **kwargs), ttl_s=ttl_s)
            return _finish(value, hit, start)

        wrapper.__signature__ = new_sig  # type: ignore[attr-defined]
        return wrapper

    return deco
