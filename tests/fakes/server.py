"""A tiny real HTTP server on 127.0.0.1 (free port) running in a background thread.

Subclasses implement :meth:`FakeServer.handle`; every request is recorded in ``requests`` so tests
can check what the official SDKs actually sent. Use as a context manager::

    with FakeAnthropic() as fake:
        client = anthropic.Anthropic(api_key="test", base_url=fake.url)
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body: object
    at: float = field(default_factory=time.monotonic)


@dataclass
class Response:
    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    delay_s: float = 0.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


class FakeServer:
    """Base class: start/stop a threaded HTTP/1.1 server, record requests, dispatch to handle()."""

    def __init__(self, port: int = 0):
        self._port = port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[Recorded] = []
        self.errors: list[str] = []
        self.lock = threading.RLock()

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> "FakeServer":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _dispatch(self):
                try:
                    split = urlsplit(self.path)
                    length = int(self.headers.get("Content-Length") or 0)
                    raw = self.rfile.read(length) if length else b""
                    try:
                        body = json.loads(raw) if raw else None
                    except ValueError:
                        body = raw.decode("utf-8", "replace")
                    rec = Recorded(self.command, split.path, parse_qs(split.query),
                                   {k.lower(): v for k, v in self.headers.items()}, body)
                    with fake.lock:
                        fake.requests.append(rec)
                    resp = fake.handle(rec)
                except Exception as exc:  # noqa: BLE001 - report as 500, keep the thread alive
                    fake.errors.append(f"{type(exc).__name__}: {exc}")
                    resp = Response(500, {"error": {"message": f"fake server bug: {exc}"}})
                if resp.delay_s:
                    time.sleep(resp.delay_s)
                payload = b"" if resp.body is None else json.dumps(resp.body).encode()
                try:
                    self.send_response(resp.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for k, v in resp.headers.items():
                        self.send_header(k, str(v))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout)
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

        self._httpd = _Server(("127.0.0.1", self._port), Handler)
        self._port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    # --- helpers ------------------------------------------------------------------------------
    def calls(self, path_suffix: str = "") -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.path.endswith(path_suffix)]

    def handle(self, req: Recorded) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError
