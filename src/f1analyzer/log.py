"""The ``f1analyzer`` logger family.

Library code only calls :func:`get_logger`; handlers are added by the CLI and the server
(``configure_logging``), never on import, so embedding applications keep control.
"""

from __future__ import annotations

import logging

ROOT = "f1analyzer"


def get_logger(name: str | None = None) -> logging.Logger:
    """Return ``f1analyzer`` or one of its children (``get_logger("data.ingest")``)."""
    if not name:
        return logging.getLogger(ROOT)
    if name.startswith(ROOT + ".") or name == ROOT:
        return logging.getLogger(name)
    return logging.getLogger(f"{ROOT}.{name}")


def set_log_level(level: int | str) -> None:
    """Set the level of every f1analyzer logger at once."""
    logging.getLogger(ROOT).setLevel(level)


def configure_logging(level: int | str = "INFO") -> None:
    """Plain console logging for the CLI (the server uses structlog, see ``api/logging``)."""
    root = logging.getLogger(ROOT)
    if not any(getattr(h, "_f1a", False) for h in root.handlers):
        from rich.console import Console
        from rich.logging import RichHandler

        # stderr, so that logs never mix into --json output on stdout
        handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=False,
                              markup=False)
        handler._f1a = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
