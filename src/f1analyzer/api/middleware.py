"""Pure ASGI middleware (no ``BaseHTTPMiddleware``: it costs throughput and breaks streaming).

Order, outermost first (see ``main.install_service_layers``):

1. :class:`RequestContextMiddleware`: ``X-Request-ID`` in/out, the security headers, the access
   log line, the HTTP metrics, and a JSON 500 if anything below fails before answering.
2. :class:`~f1analyzer.api.proxies.ClientAddressMiddleware`: the client's address
   (``X-Forwarded-For`` only from ``settings.trusted_proxies``).
3. :class:`BodySizeLimitMiddleware`: bodies over ``settings.max_body_bytes`` get 413 (by
   ``Content-Length`` up front, or while a chunked body streams in); a body that has not fully
   arrived within ``settings.body_read_timeout_s`` gets 408 (a slow-body client cannot hold a
   connection and a worker forever).
4. CORS (Starlette's), so that preflights and error answers carry the CORS headers.
5. :class:`~f1analyzer.api.ratelimit.RateLimitMiddleware`: API-key identity and rate limits.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..app.raceday_sessions import LiveSessions
from ..narration.guard import breaker_states
from .caching import ResponseCache, cache_degraded_reason
from .errors import error_body
from .jobs import JobManager
from .logging import get_access_logger
from .metrics import record_request
from .proxies import ClientAddressMiddleware
from .ratelimit import RateLimitMiddleware, RateLimitService
from .routing import UNMATCHED_ROUTE, RouteInfo, resolve_route  # noqa: F401 - re-exported
from .slowwork import SlowWorkPool

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
#: probes and scrapes: logged at DEBUG only, so access logs are not flooded by them
QUIET_PATHS = frozenset({"/health", "/metrics"})
#: sent with every answer unless the route set its own (the dashboard and /docs set a CSP that
#: allows their files); an API answer is data: it may not load anything or be framed
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}


def _client_host(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


# --- request id, access log, metrics -----------------------------------------------------------
class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, debug: bool = False) -> None:
        self.app = app
        self.debug = debug
        self.log = get_access_logger()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        headers = Headers(scope=scope)
        rid = headers.get(REQUEST_ID_HEADER, "")
        if not _REQUEST_ID_RE.match(rid):
            rid = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=rid)
        status = 500
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                out = MutableHeaders(scope=message)
                out[REQUEST_ID_HEADER] = rid
                for name, value in SECURITY_HEADERS.items():
                    if name not in out:
                        out[name] = value
                if csp_allows_framing(out):
                    out["x-frame-options"] = "SAMEORIGIN"
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            # answered here (not by Starlette's ServerErrorMiddleware outside) so that the 500
            # carries the request id and the traceback is logged with it; never sent to clients
            status = 500
            self.log.exception("unhandled error", path=scope.get("path", ""))
            if not started:
                await JSONResponse(
                    error_body("internal_error", "Internal server error; the incident was logged.",
                               {"request_id": rid}),
                    status_code=500, headers={REQUEST_ID_HEADER: rid, **SECURITY_HEADERS},
                )(scope, receive, send)
        finally:
            elapsed = time.perf_counter() - start
            route, _ = resolve_route(scope)
            method = scope.get("method", "")
            record_request(route, method, status, elapsed)
            path = scope.get("path", "")
            fields = dict(method=method, route=route, path=path, status=status,
                          latency_ms=round(elapsed * 1000, 2), client=_client_host(scope))
            if path in QUIET_PATHS and status < 400:
                if self.debug:
                    self.log.debug("request", **fields)
            elif status >= 500:
                self.log.error("request", **fields)
            else:
                self.log.info("request", **fields)
            structlog.contextvars.clear_contextvars()


def csp_allows_framing(headers: MutableHeaders) -> bool:
    """A page whose own CSP lets this origin frame it (the dashboard) gets a matching
    X-Frame-Options instead of DENY."""
    return "frame-ancestors 'self'" in headers.get("content-security-policy", "")


# --- body size and read time ----------------------------------------------------------------------
class _BodyTooLarge(Exception):
    pass


class _BodyTooSlow(Exception):
    pass


class BodySizeLimitMiddleware:
    """413 ``payload_too_large`` for bodies over ``max_body_bytes``; 408 ``request_timeout``
    for a body not received within ``body_read_timeout_s`` of the request's start."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, body_read_timeout_s: float = 10.0) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_read_timeout_s = body_read_timeout_s

    def _too_large(self) -> JSONResponse:
        return JSONResponse(
            error_body("payload_too_large",
                       f"Request body exceeds the limit of {self.max_body_bytes} bytes.",
                       {"max_body_bytes": self.max_body_bytes}),
            status_code=413, headers={"Connection": "close"})

    def _too_slow(self) -> JSONResponse:
        return JSONResponse(
            error_body("request_timeout",
                       f"The request body did not arrive within {self.body_read_timeout_s:g} s; "
                       "send it in one go.", {"body_read_timeout_s": self.body_read_timeout_s}),
            status_code=408, headers={"Connection": "close"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_body_bytes
            except ValueError:
                too_big = False
            if too_big:
                await self._too_large()(scope, receive, send)
                return
        received = 0
        cut: JSONResponse | None = None  # the answer that replaces the app's after a cut-off
        body_done = False
        response_started = False
        read_until = time.monotonic() + self.body_read_timeout_s

        async def limited_receive() -> Message:
            nonlocal received, cut, body_done
            if body_done:  # after the body only a disconnect can come: no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, read_until - time.monotonic()))
            except TimeoutError:
                cut = self._too_slow()
                raise _BodyTooSlow() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    cut = self._too_large()
                    raise _BodyTooLarge()
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal response_started
            if cut is not None:
                # whatever the app made of the aborted read (FastAPI: a 400) becomes our 413/408
                if message["type"] == "http.response.start" and not response_started:
                    response_started = True
                    await cut(scope, receive, send)
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, send_wrapper)
        except Exception as exc:
            if cut is None and _caused_by(exc, _BodyTooLarge):
                cut = self._too_large()
            elif cut is None and _caused_by(exc, _BodyTooSlow):
                cut = self._too_slow()
            if cut is not None and not response_started:
                await cut(scope, receive, send)
            elif cut is None:
                raise


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen = 0
    cur: BaseException | None = exc
    while cur is not None and seen < 10:
        if isinstance(cur, kind):
            return True
        if isinstance(cur, BaseExceptionGroup):
            if any(_caused_by(e, kind) for e in cur.exceptions):
                return True
        cur = cur.__cause__ or cur.__context__
        seen += 1
    return False


# --- wiring (called from main.create_app) --------------------------------------------------------
def attach_services(state) -> None:
    """Services only the HTTP surface needs, created once per app: response cache, rate
    limiter, job manager, slow-work pool, live sessions, and the matching ``/health`` degraded
    reasons."""
    settings = state.settings
    cache = state.services.cache
    state.response_cache = ResponseCache(cache, default_ttl_s=settings.cache_ttl_s)
    limiter = RateLimitService(settings)
    state.rate_limit = limiter
    state.slow_work = SlowWorkPool(settings.slow_work_threads, settings.request_deadline_s)
    state.jobs = JobManager(cache=cache if settings.redis_url else None)
    # no thread starts until a session is followed: constructing it is only bookkeeping
    state.live = LiveSessions(settings, state.services.store, state.services.model_set)
    state.degraded_reasons["cache"] = cache_degraded_reason
    state.degraded_reasons["rate_limit"] = lambda st: limiter.degraded_reason()
    state.degraded_reasons["narration"] = _breaker_reason


def _breaker_reason(state) -> str | None:
    open_ = [name for name, st in breaker_states().items() if st != "closed"]
    if not open_:
        return None
    return ("narration: the LLM (" + ", ".join(open_) + ") failed repeatedly; its circuit "
            "breaker is open and the offline writer answers")


def shutdown_services(state) -> None:
    """Lifespan shutdown: stop job workers and slow work, close Redis connections."""
    if state.jobs is not None:
        state.jobs.shutdown()
    if state.slow_work is not None:
        state.slow_work.shutdown()
    if state.live is not None:
        state.live.close()  # feed threads of running sessions stop, nothing is left reading
    for svc in (state.rate_limit, state.services):
        close = getattr(svc, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # noqa: BLE001  # pragma: no cover
                pass


def install_service_layers(app, state) -> None:
    """Add the middleware stack (see the module docstring for the order) and CORS."""
    from starlette.middleware.cors import CORSMiddleware

    settings = state.settings
    # add_middleware puts each new layer outside the previous ones: innermost first
    app.add_middleware(RateLimitMiddleware, service=state.rate_limit, settings=settings)
    origins = settings.cors_origins
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["*"],
                       allow_headers=["*"], expose_headers=["X-Request-ID", "Retry-After"],
                       allow_credentials="*" not in origins)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes,
                       body_read_timeout_s=settings.body_read_timeout_s)
    app.add_middleware(ClientAddressMiddleware, trusted_proxies=settings.trusted_proxies)
    app.add_middleware(RequestContextMiddleware, debug=settings.debug)
