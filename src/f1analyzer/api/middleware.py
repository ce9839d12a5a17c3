"""Pure ASGI middleware (no ``BaseHTTPMiddleware``: it costs throughput and breaks streaming).

Order, outermost first (see ``main.install_service_layers``):

1. :class:`RequestContextMiddleware`: ``X-Request-ID`` in/out, the access log line, the HTTP
   metrics, and a JSON 500 if anything below fails before answering.
2. :class:`BodySizeLimitMiddleware`: bodies over ``settings.max_body_bytes`` get 413 (by
   ``Content-Length`` up front, or while a chunked body streams in).
3. CORS (Starlette's), so that preflights and error answers carry the CORS headers.
4. :class:`~f1analyzer.api.ratelimit.RateLimitMiddleware`: API-key identity and rate limits.
"""

from __future__ import annotations

import re
import time
import uuid
import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body
from .logging import get_access_logger
from .metrics import record_request
from .caching import ResponseCache, cache_degraded_reason
from .jobs import JobManager
from .ratelimit import RateLimitMiddleware, RateLimitService
from .routing import UNMATCHED_ROUTE, RouteInfo, resolve_route  # noqa: F401 - re-exported

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
#: probes and scrapes: logged at DEBUG only, so access logs are not flooded by them
QUIET_PATHS = frozenset({"/health", "/metrics"})


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
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
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
                    status_code=500, headers={REQUEST_ID_HEADER: rid})(scope, receive, send)
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


# --- body size ---------------------------------------------------------------------------------
class _BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """413 ``payload_too_large`` for bodies over ``max_body_bytes``."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _too_large(self) -> JSONResponse:
        return JSONResponse(
            error_body("payload_too_large",
                       f"Request body exceeds the limit of {self.max_body_bytes} bytes.",
                       {"max_body_bytes": self.max_body_bytes}),
            status_code=413, headers={"Connection": "close"})

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
        exceeded = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    exceeded = True
                    raise _BodyTooLarge()
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal response_started
            if exceeded:
                # whatever the app made of the aborted read (FastAPI: a 400) becomes our 413
                if message["type"] == "http.response.start" and not response_started:
                    response_started = True
                    await self._too_large()(scope, receive, send)
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, send_wrapper)
        except Exception as exc:
            if (exceeded or _caused_by(exc, _BodyTooLarge)) and not response_started:
                await self._too_large()(scope, receive, send)
            else:
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
    limiter, job manager, and the matching ``/health`` degraded reasons."""
    settings = state.settings
    cache = state.services.cache
    state.response_cache = ResponseCache(cache, default_ttl_s=settings.cache_ttl_s)
    limiter = RateLimitService(settings)
    state.rate_limit = limiter
    state.jobs = JobManager(cache=cache if settings.redis_url else None)
    state.degraded_reasons["cache"] = cache_degraded_reason
    state.degraded_reasons["rate_limit"] = lambda st: limiter.degraded_reason()


def shutdown_services(state) -> None:
    """Lifespan shutdown: stop job workers, close Redis connections."""
    if state.jobs is not None:
        state.jobs.shutdown()
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
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, debug=settings.debug)
