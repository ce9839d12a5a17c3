"""The ``f1analyzer`` logger family.

Library code only calls :func:`get_logger`; handlers are added by the CLI and the server
(``configure_logging``), never on import, so embedding applications keep control.
"""

from __future__ import annotations

import logging
import threading

ROOT = "f1analyzer"

#: values that must never reach a log line (settings' secrets; see ``register_secrets``)
_SECRETS: tuple[str, ...] = ()
_SECRETS_LOCK = threading.Lock()
MASK = "[REDACTED]"
#: shorter values are not masked: they would blank out ordinary words and numbers
MIN_SECRET_LEN = 6


def register_secrets(values) -> None:
    """Add values the log redactor masks (called with ``Settings.secret_values()`` by every
    logging set-up: the server's and the CLI's)."""
    global _SECRETS
    new = {str(v) for v in values if v and len(str(v)) >= MIN_SECRET_LEN}
    with _SECRETS_LOCK:
        # longest first: a key containing another is masked whole
        _SECRETS = tuple(sorted(set(_SECRETS) | new, key=len, reverse=True))


def redact(text):
    """``text`` (str or bytes) with every registered secret replaced by ``[REDACTED]``."""
    secrets = _SECRETS
    if not secrets or not text:
        return text
    if isinstance(text, bytes):
        for sec in secrets:
            b = sec.encode()
            if b in text:
                text = text.replace(b, MASK.encode())
        return text
    for sec in secrets:
        if sec in text:
            text = text.replace(sec, MASK)
    return text


class RedactingFormatter(logging.Formatter):
    """Wraps another formatter and masks secrets in what it renders (message and traceback)."""

    def __init__(self, inner: logging.Formatter | None = None):
        super().__init__()
        self.inner = inner or logging.Formatter("%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


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
        # the message and the plain traceback (never locals) pass the secret redactor
        handler.setFormatter(RedactingFormatter())
        handler._f1a = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
