"""Server logging: structlog, one JSON object per line on stderr (console lines when ``DEBUG``).

Every line carries ``time`` (ISO 8601, UTC), ``level``, ``logger`` and ``event``; lines written
while a request is served also carry ``request_id`` (and the access line ``method``, ``route``,
``path``, ``status``, ``latency_ms``, ``client``). Library code keeps using stdlib logging via
:func:`f1analyzer.log.get_logger`; those records, uvicorn's and third-party ones go through the
same renderer via :class:`structlog.stdlib.ProcessorFormatter` on the root handler.

Never log secrets: the access line has the path (no query string), never headers or bodies;
tracebacks are plain (no locals, in DEBUG too) and every rendered line passes a redactor that
masks the settings' secret values (``log.register_secrets``).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from ..config import Settings
from ..log import ROOT, redact, register_secrets

_HANDLER_FLAG = "_f1a_structlog"


def _foreign_chain() -> list:
    """What stdlib records (library code, uvicorn) get before rendering."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        structlog.processors.StackInfoRenderer(),
    ]


def _redact_rendered(_logger: Any, _name: str, rendered: Any) -> Any:
    """Last processor: mask every registered secret in the rendered line (str or bytes)."""
    return redact(rendered)


class _RedactingProcessorFormatter(structlog.stdlib.ProcessorFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _console_renderer() -> Any:
    # plain tracebacks: structlog's default (rich) prints every frame's locals, settings included
    return structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty(),
                                         exception_formatter=structlog.dev.plain_traceback)


def make_formatter(json: bool = True) -> logging.Formatter:
    """The ProcessorFormatter of the stdlib handler (also referenced from uvicorn's dictConfig);
    what it renders passes the secret redactor."""
    if json:
        final: list = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        final = [_console_renderer()]
    return _RedactingProcessorFormatter(
        foreign_pre_chain=_foreign_chain(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )


def configure_logging(settings: Settings, *, json: bool | None = None) -> None:
    """Install the logging pipeline for the server process (idempotent).

    Two paths render the same line format: structlog events (the access line: the hot path,
    rendered with orjson straight to stderr, ~10 µs) and stdlib records (``f1analyzer.*``
    library loggers, uvicorn, third parties) through the root handler's ProcessorFormatter.

    Args:
        settings: ``debug`` switches to DEBUG level and the console renderer.
        json: force the renderer (default: JSON unless ``settings.debug``).
    """
    json = (not settings.debug) if json is None else json
    register_secrets(settings.secret_values())
    level = logging.DEBUG if settings.debug else logging.INFO
    processors: list = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        structlog.processors.StackInfoRenderer(),
    ]
    if json:
        try:
            import orjson

            renderer = structlog.processors.JSONRenderer(serializer=orjson.dumps)
            factory: Any = structlog.BytesLoggerFactory(sys.stderr.buffer)
        except ImportError:  # plain json: same lines, a little slower
            renderer = structlog.processors.JSONRenderer()
            factory = structlog.PrintLoggerFactory(sys.stderr)
        processors += [structlog.processors.format_exc_info, renderer, _redact_rendered]
    else:
        processors += [_console_renderer(), _redact_rendered]
        factory = structlog.PrintLoggerFactory(sys.stderr)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=factory,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(make_formatter(json))
    setattr(handler, _HANDLER_FLAG, True)

    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, _HANDLER_FLAG, False):
            root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)

    pkg = logging.getLogger(ROOT)
    for h in list(pkg.handlers):  # the CLI's console handler: the server renders through root
        if getattr(h, "_f1a", False):
            pkg.removeHandler(h)
    pkg.setLevel(level)
    pkg.propagate = True

    for name in ("uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
        lg.setLevel(logging.INFO)
    access = logging.getLogger("uvicorn.access")  # the middleware writes the access line
    access.handlers.clear()
    access.propagate = False
    access.disabled = True


def uvicorn_log_config(settings: Settings) -> dict:
    """``log_config`` for ``uvicorn.run`` so its start-up lines use the same format."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"f1a": {"()": "f1analyzer.api.logging.make_formatter",
                               "json": not settings.debug}},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "f1a",
                                 "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def get_struct_logger(name: str) -> Any:
    """A structlog logger whose lines carry ``logger=<name>``."""
    return structlog.get_logger().bind(logger=name)


def get_access_logger() -> Any:
    return get_struct_logger("f1analyzer.access")
