"""The deadline of the request being served, visible to every layer below the API.

The API's slow-work pool (``api/slowwork.py``) runs each simulating or narrating request under
:func:`deadline_after`; long operations check it at natural break points — a batch between its
requests (:func:`check_deadline`), narration by waiting no longer than :func:`remaining_s` — so
work whose answer nobody waits for any more stops instead of holding a thread. Outside a
request (CLI, tests, benchmarks) there is no deadline and both functions do nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from f1analyzer.errors import DeadlineExceededError

_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("f1a_deadline", default=None)


@contextmanager
def deadline_after(seconds: float) -> Iterator[None]:
    """Everything in this block (this thread and its context) has ``seconds`` to finish."""
    token = _DEADLINE.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def remaining_s() -> float | None:
    """Seconds left before the current deadline (never negative), or None without one."""
    current = _DEADLINE.get()
    return None if current is None else max(0.0, current[0] - time.monotonic())


def check_deadline(what: str = "request") -> None:
    """Raise :class:`DeadlineExceededError` when the current deadline has passed."""
    current = _DEADLINE.get()
    if current is not None and time.monotonic() >= current[0]:
        raise DeadlineExceededError(
            f"The server's deadline of {current[1]:g} s for this {what} passed before the "
            "answer was ready; retry later or ask for less work (fewer n_sims or requests).",
            details={"deadline_s": current[1]})
