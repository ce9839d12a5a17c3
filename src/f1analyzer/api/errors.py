"""One JSON error shape for every 4xx/5xx: ``{"error": {"code", "message", "details"}}``.

Package errors map to HTTP statuses here and only here. No stack trace ever reaches a client:
unexpected exceptions are logged with their traceback and answered with a generic 500.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    BackendUnavailableError,
    ConfigError,
    DataNotLoadedError,
    DataValidationError,
    F1AnalyzerError,
    InvalidRequestError,
    NotFittedError,
    NotFoundError,
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
]


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
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=status)

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
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                413: "payload_too_large", 429: "rate_limited"}.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        return JSONResponse(error_body(code, detail), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse(error_body("internal_error", "Internal server error; the incident was logged."),
                            status_code=500)
