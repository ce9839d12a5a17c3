"""Per-client rate limits (slowapi's ``Limiter`` and its ``limits`` storage), as ASGI middleware.

Who is the client: a valid API key (by digest) when one is presented, else the address
:func:`~f1analyzer.api.proxies.client_address` settles on (``X-Forwarded-For`` is believed only
from ``settings.trusted_proxies``, default none).

Which limit applies (first match wins):

1. a route decorated with :func:`rate_limit` (``None`` exempts it);
2. :data:`ROUTE_RULES`: ``POST /strategy/generate`` and ``POST /strategy/batch`` share the
   ``settings.rate_limit_strategy`` bucket; a batch costs one hit per request it carries (a
   batch over its size limit costs one hit and is refused by validation with 422, not 429);
3. :data:`EXEMPT_PATHS` (``/health``, ``/metrics``, the docs) and non-API routes: no limit;
4. everything else: ``settings.rate_limit_default`` per route.

Every limited request also counts against ``settings.rate_limit_global``, one bucket per client
over all routes (so spreading requests over routes does not multiply the allowance), and the
routes that simulate charge their cost in simulated races to ``settings.rate_limit_cost``
(:meth:`RateLimitService.hit_cost`, called by :mod:`~f1analyzer.api.slowwork`).

Counters live in Redis when ``REDIS_URL`` is set, so all instances share them. When Redis does
not answer, the limiter fails open to per-instance in-memory counting (no 500, no blanket 429),
logs once per interval, shows in ``/health`` as a degraded reason and goes back to Redis as
soon as it answers. A refused request gets 429, a ``Retry-After`` header (seconds) and the
project's JSON error body.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from slowapi import Limiter
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..app.requests import BatchRequest
from ..config import Settings
from ..log import get_logger
from .errors import error_body
from .metrics import record_rate_limited
from .routing import resolve_route
from .security import key_from_headers, key_id, key_is_valid

log = get_logger("api.ratelimit")

STRATEGY = "moving-window"
#: paths never rate limited (probes, scrapes, documentation)
EXEMPT_PATHS = frozenset({"/health", "/metrics", "/openapi.json", "/docs", "/redoc",
                          "/docs/oauth2-redirect"})
#: paths that never need a key even with ``require_api_key`` (load-balancer probes)
OPEN_PATHS = frozenset({"/health", "/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"})
_ATTR = "__f1a_rate_limit__"


@dataclass(frozen=True)
class RouteLimit:
    """How one route is limited.

    Args:
        limit: a ``limits`` string (``"10/minute"``, ``"5/second;100/hour"``), the name of a
            :class:`Settings` field holding one (``"rate_limit_strategy"``), or None (exempt).
        scope: bucket name; routes with the same scope share counters (default: the route).
        cost_from_body: a top-level JSON list field; the request costs one hit per element
            (``"requests"`` for batches). Default cost: 1.
        max_items: the most elements that field may hold; a longer list costs one hit (the
            request validation answers 422 for it).
    """

    limit: str | None
    scope: str | None = None
    cost_from_body: str | None = None
    max_items: int | None = None


def _max_batch() -> int:
    return max(getattr(m, "max_length", 0) or 0
               for m in BatchRequest.model_fields["requests"].metadata) or 10


#: (method, route template) → rule, applied without touching the route's code
ROUTE_RULES: dict[tuple[str, str], RouteLimit] = {
    ("POST", "/strategy/generate"): RouteLimit("rate_limit_strategy", scope="strategy"),
    ("POST", "/strategy/batch"): RouteLimit("rate_limit_strategy", scope="strategy",
                                            cost_from_body="requests", max_items=_max_batch()),
}
#: the bucket every limited request of a client also counts in (``settings.rate_limit_global``)
GLOBAL_BUCKET = "global"
COST_BUCKET = "simulated-races"


def rate_limit(limit: str | None, *, scope: str | None = None,
               cost_from_body: str | None = None) -> Callable:
    """Decorator for a route function: set its limit (it does not change the signature).

    ``@rate_limit("rate_limit_strategy", scope="strategy")``, ``@rate_limit("3/minute")``,
    ``@rate_limit(None)`` (never limited). Put it under ``@router.post(...)``.
    """
    rule = RouteLimit(limit, scope, cost_from_body)

    def deco(fn):
        setattr(fn, _ATTR, rule)
        return fn

    return deco


@lru_cache(maxsize=64)
def _parse(limit: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limit))


def build_limiter(settings: Settings) -> Limiter:
    """The slowapi limiter holding the storage (Redis when ``REDIS_URL``, else memory)."""
    uri = settings.secret("redis_url") or "memory://"
    options: dict = {}
    if settings.redis_url:
        options = {"socket_timeout": 0.25, "socket_connect_timeout": 0.25}
    return Limiter(
        key_func=lambda: "unused",  # identities come from RateLimitMiddleware
        default_limits=[settings.rate_limit_default],
        storage_uri=uri,
        storage_options=options,
        strategy=STRATEGY,
        key_prefix="f1a-rl",
        enabled=settings.rate_limit_enabled,
        swallow_errors=True,
    )


class RateLimitService:
    """Counts hits in the shared storage, falling back to memory while it is unreachable."""

    def __init__(self, settings: Settings, *, retry_interval_s: float = 1.0,
                 log_interval_s: float = 30.0):
        self.settings = settings
        self.limiter = build_limiter(settings)
        self.shared = bool(settings.redis_url)
        self._primary = self.limiter.limiter
        self._fallback = MovingWindowRateLimiter(MemoryStorage())
        # costs run to tens of thousands per request: a fixed window adds them in one INCR,
        # where a moving window would store one entry per unit
        self._cost_primary = FixedWindowRateLimiter(self._primary.storage)
        self._cost_fallback = FixedWindowRateLimiter(self._fallback.storage)
        self.retry_interval_s = retry_interval_s
        self.log_interval_s = log_interval_s
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = float("-inf")
        self._last_log = float("-inf")
        self.last_error: str | None = None

    @property
    def enabled(self) -> bool:
        return self.limiter.enabled

    def limit_for(self, rule: RouteLimit) -> tuple[RateLimitItem, ...]:
        text = rule.limit
        if text is None:
            return ()
        if "/" not in text and hasattr(self.settings, text):
            text = getattr(self.settings, text)
        return _parse(text) if text else ()

    def _strategy(self, cost: bool = False):
        if self._down_since is not None and time.monotonic() < self._retry_at:
            return (self._cost_fallback if cost else self._fallback), False
        return (self._cost_primary if cost else self._primary), True

    def _failed(self, exc: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            self.last_error = f"{type(exc).__name__}: {exc}"
            if self._down_since is None:
                self._down_since = now
            self._retry_at = now + self.retry_interval_s
            should_log = now - self._last_log >= self.log_interval_s
            if should_log:
                self._last_log = now
        if should_log:
            log.warning("rate-limit storage unreachable (%s); counting per instance until it "
                        "is back", self.last_error)

    def _recovered(self) -> None:
        if self._down_since is not None:
            with self._lock:
                self._down_since = None
                self.last_error = None
            log.info("rate-limit storage is back; counters are shared again")

    def hit(self, items: tuple[RateLimitItem, ...], identity: str, bucket: str,
            cost: int = 1, *, by_cost: bool = False) -> RateLimitItem | None:
        """Count one request; returns the limit it broke, or None when it may go ahead."""
        for item in items:
            strategy, primary = self._strategy(by_cost)
            try:
                ok = strategy.hit(item, identity, bucket, cost=cost)
                if primary:
                    self._recovered()
            except Exception as exc:  # noqa: BLE001 - storage down: fail open to memory
                self._failed(exc)
                fallback = self._cost_fallback if by_cost else self._fallback
                ok = fallback.hit(item, identity, bucket, cost=cost)
            if not ok:
                return item
        return None

    def hit_cost(self, identity: str, cost: int) -> RateLimitItem | None:
        """Charge ``cost`` simulated races to the client's ``rate_limit_cost`` allowance."""
        items = self.limit_for(RouteLimit("rate_limit_cost"))
        return self.hit(items, identity, COST_BUCKET, cost=cost, by_cost=True) if items else None

    def retry_after_cost_s(self, item: RateLimitItem, identity: str) -> int:
        return self.retry_after_s(item, identity, COST_BUCKET, by_cost=True)

    def retry_after_s(self, item: RateLimitItem, identity: str, bucket: str, *,
                      by_cost: bool = False) -> int:
        strategy, _ = self._strategy(by_cost)
        try:
            reset = strategy.get_window_stats(item, identity, bucket).reset_time
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)
            reset = time.time() + item.get_expiry()
        return max(1, math.ceil(reset - time.time()))

    def degraded_reason(self) -> str | None:
        if self.shared and self._down_since is not None:
            return ("rate limiting: Redis unreachable; counting per instance "
                    f"({self.last_error})")
        return None

    def close(self) -> None:
        for obj in (getattr(self._primary, "storage", None),):
            try:
                client = getattr(obj, "storage", None)
                if client is not None and hasattr(client, "close"):
                    client.close()
            except Exception:  # noqa: BLE001  # pragma: no cover
                pass


def _json_error(status: int, code: str, message: str, details: dict | None = None,
                headers: dict | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


class RateLimitMiddleware:
    """Client identity (API key or address), ``require_api_key``, then the rate limit."""

    def __init__(self, app: ASGIApp, *, service: RateLimitService, settings: Settings) -> None:
        self.app = app
        self.service = service
        self.settings = settings

    def _rule(self, method: str, template: str, info) -> RouteLimit | None:
        if info is None:
            return None
        if hasattr(info.endpoint, _ATTR):
            return getattr(info.endpoint, _ATTR)
        rule = ROUTE_RULES.get((method, template))
        if rule is not None:
            return rule
        if template in EXEMPT_PATHS or not info.is_api:
            return None
        return RouteLimit("rate_limit_default")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") == "OPTIONS":
            await self.app(scope, receive, send)
            return
        template, info = resolve_route(scope)
        method = scope["method"]
        is_api = info is not None and info.is_api

        # --- who is asking ---------------------------------------------------------------
        key = key_from_headers(Headers(scope=scope))
        keys = self.settings.api_key_values
        if key is not None and keys and is_api and template not in OPEN_PATHS:
            if not key_is_valid(key, keys):
                await _json_error(403, "forbidden", "The API key is not valid.")(scope, receive, send)
                return
        if (self.settings.require_api_key and key is None and is_api
                and template not in OPEN_PATHS):
            await _json_error(401, "unauthorized", "This server requires an API key (X-API-Key "
                              "header or 'Authorization: Bearer <key>').",
                              headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        if key is not None and key_is_valid(key, keys):
            identity = "key:" + key_id(key)
        else:
            client = scope.get("client")
            identity = "ip:" + (client[0] if client else "unknown")
        scope.setdefault("state", {})["client_id"] = identity
        if template == "/metrics":  # its own token check (security.require_metrics_token)
            await self.app(scope, receive, send)
            return

        # --- how much it may ask ---------------------------------------------------------
        if not self.service.enabled:
            await self.app(scope, receive, send)
            return
        rule = self._rule(method, template, info)
        items = self.service.limit_for(rule) if rule is not None else ()
        if not items:
            await self.app(scope, receive, send)
            return
        cost = 1
        if rule.cost_from_body:
            body = await _read_body(receive)
            cost = _count_items(body, rule.cost_from_body)
            if rule.max_items is not None and cost > rule.max_items:
                cost = 1  # validation refuses it (422); a 429 would hide what to fix
            receive = _replay(body, receive)
        bucket = rule.scope or f"{method}:{template}"
        everywhere = self.service.limit_for(RouteLimit("rate_limit_global"))
        broken = self.service.hit(everywhere, identity, GLOBAL_BUCKET) if everywhere else None
        if broken is not None:
            bucket, cost = GLOBAL_BUCKET, 1
        else:
            broken = self.service.hit(items, identity, bucket, cost=cost)
        if broken is None:
            await self.app(scope, receive, send)
            return
        record_rate_limited(template)
        retry = self.service.retry_after_s(broken, identity, bucket)
        per = str(broken)  # "10 per 1 minute"
        msg = f"Rate limit exceeded: {per} for {method} {template}. Retry in {retry} s."
        if bucket == GLOBAL_BUCKET:
            msg = (f"Rate limit exceeded: {per} per client over all routes "
                   f"(rate_limit_global). Retry in {retry} s.")
        elif cost > broken.amount:
            msg = (f"This request costs {cost} hits but the limit is {per} for {method} "
                   f"{template}; send smaller batches.")
        await _json_error(429, "rate_limited", msg,
                          {"limit": per, "retry_after_s": retry, "cost": cost},
                          headers={"Retry-After": str(retry),
                                   "X-RateLimit-Limit": str(broken.amount)})(scope, receive, send)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _count_items(body: bytes, field: str) -> int:
    try:
        data = json.loads(body)
        value = data.get(field) if isinstance(data, dict) else None
        return max(1, len(value)) if isinstance(value, list) else 1
    except (ValueError, UnicodeDecodeError):
        return 1
