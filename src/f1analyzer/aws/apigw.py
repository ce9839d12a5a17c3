"""Run the FastAPI app in-process for API Gateway proxy events (REST API v1, and HTTP API v2).

The Lambda handlers translate each event into one ASGI HTTP request against ``create_app()`` and
the ASGI response back into a proxy response, so Lambda serves exactly the routes, validation,
error shape and middleware of the container API. The app is built once per container; its
lifespan starts on the first event and runs on a private event loop thread until
:meth:`ApiGatewayAdapter.close` (Lambda simply freezes the process between invocations).

A body that is not valid JSON is answered here with 400 and the project's error shape
(``{"error": {"code": "invalid_json", ...}}``) before it reaches a route.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from ..log import get_logger
from ..api.errors import error_body

log = get_logger("aws.apigw")

_TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/xml",
               "application/javascript", "image/svg+xml")
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def error_response(status: int, code: str, message: str, request_id: str | None = None) -> dict:
    headers = {"content-type": "application/json"}
    if request_id:
        headers["x-request-id"] = request_id
    return {"statusCode": status, "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "body": json.dumps(error_body(code, message)), "isBase64Encoded": False}


class ProxyRequest:
    """The parts of an API Gateway proxy event the app needs (v1 REST or v2 HTTP API shape)."""

    def __init__(self, event: Mapping[str, Any]):
        ctx = event.get("requestContext") or {}
        if event.get("version") == "2.0":
            http = ctx.get("http") or {}
            self.method = str(http.get("method", "GET")).upper()
            self.path = event.get("rawPath") or "/"
            self.query_string = (event.get("rawQueryString") or "").encode()
            self.source_ip = http.get("sourceIp") or "0.0.0.0"
            headers = [(k, v) for k, v in (event.get("headers") or {}).items() if v is not None]
            headers += [("cookie", c) for c in event.get("cookies") or []]
        else:
            self.method = str(event.get("httpMethod") or "GET").upper()
            self.path = event.get("path") or "/"
            mvq = event.get("multiValueQueryStringParameters")
            sq = event.get("queryStringParameters")
            if mvq:
                self.query_string = urlencode([(k, v) for k, vs in mvq.items() for v in (vs or [])]).encode()
            elif sq:
                self.query_string = urlencode(sq).encode()
            else:
                self.query_string = b""
            self.source_ip = (ctx.get("identity") or {}).get("sourceIp") or "0.0.0.0"
            mvh = event.get("multiValueHeaders")
            if mvh:
                headers = [(k, v) for k, vs in mvh.items() for v in (vs or [])]
            else:
                headers = [(k, v) for k, v in (event.get("headers") or {}).items() if v is not None]
        self.request_id = ctx.get("requestId")
        raw = event.get("body") or ""
        self.body = base64.b64decode(raw) if event.get("isBase64Encoded") else str(raw).encode("utf-8")
        self.headers = [(str(k).lower(), str(v)) for k, v in headers]
        if self.request_id and not self.header("x-request-id"):
            self.headers.append(("x-request-id", self.request_id))
        if not self.header("host"):
            self.headers.append(("host", ctx.get("domainName") or "lambda"))

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def bad_json(self) -> str | None:
        """Why the body is not JSON (None when it is, or when no JSON body is expected)."""
        if self.method not in _BODY_METHODS or not self.body.strip():
            return None
        ctype = (self.header("content-type") or "application/json").lower()
        if "json" not in ctype:
            return None
        try:
            json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return str(exc)
        return None

    def scope(self, lifespan_state: dict) -> dict:
        proto = (self.header("x-forwarded-proto") or "https").split(",")[0].strip()
        host = (self.header("host") or "lambda").split(":")[0]
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": self.method,
            "scheme": proto if proto in ("http", "https") else "https",
            "path": self.path,
            "raw_path": quote(self.path).encode(),
            "root_path": "",
            "query_string": self.query_string,
            # API Gateway's sourceIp is the client; its X-Forwarded-For says no more (and the
            # app would not believe it from an unconfigured proxy anyway)
            "headers": [(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in self.headers
                        if k.lower() != "x-forwarded-for"],
            "client": (self.source_ip, 0),
            "server": (host, 443 if proto == "https" else 80),
            "state": dict(lifespan_state),
        }


class ApiGatewayAdapter:
    """Serve API Gateway proxy events with an ASGI app built by ``app_factory`` (once, lazily)."""

    def __init__(self, app_factory: Callable[[], Any]):
        self._factory = app_factory
        self._app: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lifespan_queue: asyncio.Queue | None = None
        self._lifespan_task: asyncio.Task | None = None
        self._lifespan_state: dict = {}
        self._shutdown_done: asyncio.Future | None = None
        self._lock = threading.Lock()

    @property
    def app(self) -> Any:
        """The ASGI app (built and started on first use)."""
        self.start()
        return self._app

    # ------------------------------------------------------------------ lifecycle
    def _run(self, coro: Any) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def start(self) -> None:
        """Build the app and run its lifespan startup (done by the first event otherwise)."""
        with self._lock:
            if self._app is not None:
                return
            app = self._factory()
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="asgi-loop", daemon=True)
            self._thread.start()
            self._run(self._startup(app))
            self._app = app

    async def _startup(self, app: Any) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        started: asyncio.Future = loop.create_future()
        self._shutdown_done = loop.create_future()

        async def receive() -> dict:
            return await queue.get()

        async def send(message: dict) -> None:
            kind = message["type"]
            if kind == "lifespan.startup.complete" and not started.done():
                started.set_result(True)
            elif kind == "lifespan.startup.failed" and not started.done():
                started.set_exception(RuntimeError(f"app startup failed: {message.get('message', '')}"))
            elif kind.startswith("lifespan.shutdown") and not self._shutdown_done.done():
                self._shutdown_done.set_result(kind)

        async def run() -> None:
            scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"},
                     "state": self._lifespan_state}
            try:
                await app(scope, receive, send)
            except Exception as exc:  # an app without lifespan support
                if not started.done():
                    log.info("app has no lifespan (%s); serving without it", exc)
                    started.set_result(False)
            finally:
                if not self._shutdown_done.done():
                    self._shutdown_done.set_result("ended")

        self._lifespan_queue = queue
        self._lifespan_task = loop.create_task(run())
        await queue.put({"type": "lifespan.startup"})
        await started

    async def _shutdown(self) -> None:
        if self._lifespan_queue is not None and self._shutdown_done is not None:
            await self._lifespan_queue.put({"type": "lifespan.shutdown"})
            await asyncio.wait_for(asyncio.shield(self._shutdown_done), timeout=30)
        if self._lifespan_task is not None:
            await asyncio.wait_for(self._lifespan_task, timeout=5)

    def close(self) -> None:
        """Run the lifespan shutdown and stop the loop thread."""
        with self._lock:
            if self._app is None or self._loop is None:
                return
            try:
                self._run(self._shutdown())
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                if self._thread is not None:
                    self._thread.join(timeout=10)
                self._loop.close()
                self._app = self._loop = self._thread = None

    # ------------------------------------------------------------------ requests
    def handle(self, event: Mapping[str, Any], *, path: str | None = None) -> dict:
        """Answer one proxy event; ``path`` forces the route (the function's fixed endpoint)."""
        req = ProxyRequest(event)
        if path is not None:
            req.path = path
        why = req.bad_json()
        if why is not None:
            return error_response(400, "invalid_json", f"Request body is not valid JSON: {why}",
                                   req.request_id)
        self.start()
        status, headers, body = self._run(self._call(req))
        return _proxy_response(status, headers, body)

    async def _call(self, req: ProxyRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        body_sent = False
        done = asyncio.Event()
        status = 500
        headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []

        async def receive() -> dict:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": req.body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        started = False

        async def send_tracked(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(req.scope(self._lifespan_state), receive, send_tracked)
        except Exception:
            # the app's own 500 handler has answered already when a response was started
            log.exception("unhandled error serving %s %s", req.method, req.path)
            if not started:
                resp = error_response(500, "internal_error",
                                       "Internal server error; the incident was logged.", req.request_id)
                return 500, list(resp["headers"].items()), resp["body"].encode()
        finally:
            done.set()
        return status, headers, b"".join(chunks)


def _proxy_response(status: int, headers: list[tuple[str, str]], body: bytes) -> dict:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for k, v in headers:
        single[k] = v
        multi.setdefault(k, []).append(v)
    ctype = single.get("content-type", "").lower()
    if not body or ctype.startswith(_TEXT_TYPES):
        try:
            return {"statusCode": status, "headers": single, "multiValueHeaders": multi,
                    "body": body.decode("utf-8"), "isBase64Encoded": False}
        except UnicodeDecodeError:
            pass
    return {"statusCode": status, "headers": single, "multiValueHeaders": multi,
            "body": base64.b64encode(body).decode("ascii"), "isBase64Encoded": True}
