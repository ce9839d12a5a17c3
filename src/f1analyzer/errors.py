"""Exceptions raised by f1analyzer.

Policy (after FastF1's ``exceptions.py``): calls a user makes raise one of these with a message
that says what to fix. Optional parts (a missing compound file, an unreachable cache) log a warning
and carry on. The API maps each class to one HTTP status in ``api/errors.py``; the CLI prints the
message on one line and exits non-zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches


class F1AnalyzerError(Exception):
    """Base class of every error this package raises on purpose."""

    #: machine-readable code used in the API's error body
    code = "error"

    def __init__(self, message: str, *, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ConfigError(F1AnalyzerError):
    code = "config_error"


class DataValidationError(F1AnalyzerError):
    """Input data was refused as a whole (missing columns, unreadable file, no season)."""

    code = "invalid_data"


class InvalidRequestError(F1AnalyzerError):
    """A request is well-formed but asks for something impossible (grid 0, one compound, ...)."""

    code = "invalid_request"


class NotFoundError(F1AnalyzerError):
    """An unknown race, circuit, driver or job. ``details['suggestions']`` lists close matches."""

    code = "not_found"

    @classmethod
    def with_suggestions(
        cls, what: str, value: object, options: Iterable[object], *, limit: int = 5
    ) -> "NotFoundError":
        opts = [str(o) for o in options]
        close = get_close_matches(str(value), opts, n=limit, cutoff=0.5)
        if not close:
            close = [o for o in opts if str(value).lower() in o.lower()][:limit]
        msg = f"Unknown {what} {value!r}."
        if close:
            msg += " Did you mean: " + ", ".join(close) + "?"
        elif opts:
            shown = opts[:20]
            msg += " Valid options: " + ", ".join(shown) + (" …" if len(opts) > 20 else "")
        return cls(msg, details={"suggestions": close, "options": opts[:50]})


class DataNotLoadedError(F1AnalyzerError):
    """Data was asked for before it was loaded (or nothing is stored yet)."""

    code = "data_not_loaded"


class NotFittedError(F1AnalyzerError):
    """A model was used before ``fit`` (or no model set is available)."""

    code = "not_fitted"


class BackendUnavailableError(F1AnalyzerError):
    """A backend (vector index, Redis, LLM, S3...) cannot answer right now."""

    code = "backend_unavailable"


class DataCorruptError(BackendUnavailableError):
    """A stored file cannot be read (truncated, overwritten...); the message says which and how to fix it."""

    code = "data_corrupt"


class UntrustedArtifactError(F1AnalyzerError):
    """A model artifact failed its manifest check (missing, altered, unsigned): it is never loaded."""

    code = "untrusted_artifact"


class NetworkUnavailableError(BackendUnavailableError):
    """A live source (FastF1, Jolpica) could not be reached."""

    code = "network_unavailable"


class JobStopped(F1AnalyzerError):
    """Raised inside a stoppable background job by its ``check()``: cancelled or past its deadline.

    ``details["partial"]``, when the operation adds it, is what was committed before the stop."""

    code = "job_stopped"

    def __init__(self, message: str, *, timed_out: bool = False, details: dict | None = None):
        super().__init__(message, details=details)
        self.timed_out = timed_out


class BatchFailedError(F1AnalyzerError):
    """Every task of a batch (backtest, season preview, sweep) failed; the message lists why."""

    code = "batch_failed"


class WorkTooLargeError(InvalidRequestError):
    """One request asks for more work (simulated races) than the server's cap allows (HTTP 422)."""

    code = "work_too_large"


class RateLimitedError(F1AnalyzerError):
    """A client spent its allowance (HTTP 429; ``details["retry_after_s"]``)."""

    code = "rate_limited"


class DeadlineExceededError(F1AnalyzerError):
    """The server's deadline for one request passed before the answer was ready (HTTP 504)."""

    code = "deadline_exceeded"
