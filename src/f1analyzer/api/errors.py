"""One JSON error shape for every 4xx/5xx: ``{"error": {"code", "message", "details"}}``.

Package errors map to HTTP statuses here and only here. No stack trace ever reaches a client:
unexpected exceptions are logged with their traceback and answered with a generic 500. Neither
do server paths: a message or detail naming an absolute path is answered with the path replaced
by ``<server path>`` and an ``incident`` id, and the full message is logged under that id.
"""

from __future__ import annotations

import re
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    BackendUnavailableError,
    ConfigError,
    DataNotLoadedError,
    DataValidationError,
    DeadlineExceededError,
    F1AnalyzerError,
    InvalidRequestError,
    NotFittedError,
    NotFoundError,
    RateLimitedError,
)
from ..log import get_logger

log = get_logger("api.errors")

STATUS_BY_ERROR: list[tuple[type[F1AnalyzerError], int]] = [
    (NotFoundError, 404),
    (InvalidRequestError, 422),
    (DataValidationError, 422),
    (DataNotLoadedError, 409),
    (NotFittedError, 503),
    (BackendUnavailableError, 503),
    (ConfigError, 500),
    (RateLimitedError, 429),
    (DeadlineExceededError, 504),
]
#: codes of HTTP errors raised without a package error (Starlette's and FastAPI's own)
HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
              408: "request_timeout", 409: "conflict", 413: "payload_too_large",
              429: "rate_limited", 504: "deadline_exceeded"}
# an absolute path under a filesystem root (/home/…, /srv/…, /tmp/…) or a Windows drive; API
# routes (/strategy/generate) are not roots and stay
_ROOTS = ("home|tmp|var|srv|usr|opt|etc|data|work|mnt|root|app|Users|private|proc|dev|run|lib|"
          "media|nix|snap|workspace|code|builds|Volumes")
_PATH_RE = re.compile(r"(?<![\w:/.])/(?:" + _ROOTS + r")(?:/[^\s'\",;:()\[\]]+)+/?"
                      r"|\b[A-Za-z]:\\[^\s'\"]+")
SERVER_PATH = "<server path>"


def scrub_paths(value):
    """``value`` (a string, or a dict/list of them) with absolute paths replaced by
    ``<server path>``; returns ``(scrubbed, changed)``."""
    if isinstance(value, str):
        out = _PATH_RE.sub(SERVER_PATH, value)
        return out, out != value
    if isinstance(value, dict):
        changed = False
        out = {}
        for k, v in value.items():
            out[k], c = scrub_paths(v)
            changed |= c
        return out, changed
    if isinstance(value, (list, tuple)):
        pairs = [scrub_paths(v) for v in value]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    return value, False


def public_error(code: str, message: str, details: object = None, *, path: str = "") -> dict:
    """The error body with server paths taken out (the original logged under an incident id).
    Admin routes (``path`` under ``/admin``: a valid key, an operator) keep them."""
    if path.startswith("/admin"):
        return error_body(code, message, details)
    msg, c1 = scrub_paths(message)
    det, c2 = scrub_paths(details if details is not None else {})
    if c1 or c2:
        incident = uuid.uuid4().hex[:12]
        log.warning("error %s answered without its server paths (incident %s): %s %s",
                    code, incident, message, details or "")
        det = {**det, "incident": incident} if isinstance(det, dict) else {"incident": incident}
    return error_body(code, msg, det)


def error_body(code: str, message: str, details: object = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details if details is not None else {}}}


def status_for(exc: F1AnalyzerError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return 400


def _validation_message(errors: list[dict]) -> str:
    parts = []
    for e in errors[:5]:
        loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body",))
        parts.append(f"{loc or 'body'}: {e.get('msg', 'invalid')}")
    return "Invalid request: " + "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(F1AnalyzerError)
    async def _f1a(request: Request, exc: F1AnalyzerError) -> JSONResponse:
        status = status_for(exc)
        if status >= 500:
            log.warning("%s on %s: %s", exc.code, request.url.path, exc.message)
        headers = None
        if status == 429 and isinstance(exc.details, dict) and exc.details.get("retry_after_s"):
            headers = {"Retry-After": str(exc.details["retry_after_s"])}
        return JSONResponse(public_error(exc.code, exc.message, exc.details, path=request.url.path),
                            status_code=status,
                            headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse(error_body("validation_error", _validation_message(errs), {"errors": errs}),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # raised `from` a package error (admin's full job queue): that error's code says more
        cause = exc.__cause__
        code = (cause.code if isinstance(cause, F1AnalyzerError)
                else HTTP_CODES.get(exc.status_code, "http_error"))
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        return JSONResponse(public_error(code, detail, path=request.url.path), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse(error_body("internal_error", "Internal server error; the incident was logged."),
                            status_code=500)
