"""A slow or dead LLM must not slow the service: deadline, circuit breaker, fallback cache.

Every LLM narration goes through the :class:`NarrationGuard` of its endpoint (one per provider,
URL and model, per process):

- **Deadline.** The call runs on the guard's own bounded thread pool and the caller waits at
  most ``settings.llm_deadline_s`` (default 10 s) for it, SDK retries and backoff included, and
  never longer than the request being served has left (:mod:`f1analyzer.deadlines`). Past
  it the offline writer answers; the abandoned call runs under that deadline too, so the SDK
  sends no new request (no retry) once it has passed and the call ends with its current attempt;
  a call still waiting for a free thread is cancelled.
- **Circuit breaker.** ``settings.llm_breaker_failures`` consecutive failures or timeouts open
  the breaker: for ``settings.llm_breaker_cooldown_s`` the LLM is not called at all. Then one
  trial call is let through (half-open): success closes the breaker, failure opens it again.
- **Fallback cache.** An offline answer given because the LLM failed is reused for
  ``settings.llm_fallback_cache_s`` (default 60 s), so a repeated question is answered at once
  instead of waiting for the deadline again, and is not pinned for the normal cache TTL.

The answer says why the offline writer wrote it: ``fallback_reason`` starts with a short code,
``llm_deadline:``, ``llm_circuit_open:`` or ``llm_unavailable:``.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from f1analyzer.deadlines import deadline_after, remaining_s
from f1analyzer.errors import BackendUnavailableError
from f1analyzer.log import get_logger

log = get_logger("narration.guard")

DEADLINE = "llm_deadline"
CIRCUIT_OPEN = "llm_circuit_open"
UNAVAILABLE = "llm_unavailable"
#: fallback answers kept per guard (oldest dropped first)
MAX_FALLBACKS = 512


@dataclass(frozen=True)
class GuardSettings:
    deadline_s: float = 10.0
    breaker_failures: int = 3
    breaker_cooldown_s: float = 30.0
    fallback_ttl_s: float = 60.0
    max_concurrency: int = 4

    @classmethod
    def from_settings(cls, settings) -> GuardSettings:
        return cls(deadline_s=settings.llm_deadline_s, breaker_failures=settings.llm_breaker_failures,
                   breaker_cooldown_s=settings.llm_breaker_cooldown_s,
                   fallback_ttl_s=settings.llm_fallback_cache_s,
                   max_concurrency=settings.llm_max_concurrency)


class DaemonPool:
    """A bounded pool of daemon threads. ``ThreadPoolExecutor`` joins its threads at interpreter
    exit, so a server with LLM calls hung in the SDK would take minutes to stop; an abandoned
    call here just dies with the process."""

    def __init__(self, workers: int, name: str):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        for k in range(workers):
            threading.Thread(target=self._work, name=f"{name}-{k}", daemon=True).start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            future, fn = job
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while queued
            try:
                future.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                future.set_exception(exc)

    def submit(self, fn: Callable[[], object]) -> Future:
        future: Future = Future()
        self._jobs.put((future, fn))
        return future

    def shutdown(self, workers: int) -> None:
        for _ in range(workers):
            self._jobs.put(None)


def _within(seconds: float, fn: Callable[[], object]) -> object:
    """``fn()`` under the guard's deadline, so the narrator sends nothing once it has passed
    (:func:`f1analyzer.narration.llm.refuse_past_deadline`)."""
    with deadline_after(seconds):
        return fn()


class NarrationGuard:
    """Deadline, breaker and fallback cache of one LLM endpoint (thread-safe)."""

    def __init__(self, config: GuardSettings, *, name: str = "llm"):
        self.config = config
        self.name = name
        self._pool = DaemonPool(config.max_concurrency, f"f1a-{name}")
        self._lock = threading.Lock()
        self.consecutive_failures = 0
        self._open_until: float | None = None
        self._trial_running = False
        self._fallbacks: OrderedDict[str, tuple[float, object]] = OrderedDict()

    # --- breaker -----------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half_open`` (cool-down over, next call is the trial)."""
        with self._lock:
            if self._open_until is None:
                return "closed"
            return "open" if time.monotonic() < self._open_until else "half_open"

    def admit(self) -> str | None:
        """None when a call may go ahead; else why it may not (the breaker is open)."""
        with self._lock:
            if self._open_until is None:
                return None
            left = self._open_until - time.monotonic()
            if left <= 0 and not self._trial_running:
                self._trial_running = True  # half-open: exactly one trial call
                return None
            wait = max(left, 0.0)
            return (f"{CIRCUIT_OPEN}: the {self.name} narrator failed "
                    f"{self.config.breaker_failures} times in a row; it is skipped for "
                    f"{wait:.0f} s more and the offline writer answers")

    def _succeeded(self) -> None:
        with self._lock:
            if self._open_until is not None:
                log.info("%s narrator answered again: circuit closed", self.name)
            self.consecutive_failures = 0
            self._open_until = None
            self._trial_running = False

    def _failed(self) -> None:
        with self._lock:
            self.consecutive_failures += 1
            trial = self._trial_running
            self._trial_running = False
            if trial or self.consecutive_failures >= self.config.breaker_failures:
                if self._open_until is None or trial:
                    log.warning("%s narrator failed %d times in a row: circuit open for %.0f s",
                                self.name, self.consecutive_failures, self.config.breaker_cooldown_s)
                self._open_until = time.monotonic() + self.config.breaker_cooldown_s

    # --- the call ------------------------------------------------------------------------------
    def call(self, fn: Callable[[], object]) -> object:
        """``fn()`` on the guard's pool, waited for at most the deadline.

        Raises:
            BackendUnavailableError: ``fn`` failed, or did not finish within the deadline
                (``details["reason"]`` is ``llm_deadline`` or ``llm_unavailable``).
        """
        ctx = contextvars.copy_context()  # request id in the LLM thread's log lines
        left = remaining_s()  # the request's own deadline, when it is closer
        wait_s = self.config.deadline_s if left is None else min(self.config.deadline_s, left)
        future = self._pool.submit(lambda: ctx.run(_within, wait_s, fn))
        try:
            result = future.result(timeout=wait_s)
        except FutureTimeout:
            future.cancel()  # still queued behind hung calls: never runs
            if wait_s >= self.config.deadline_s:
                self._failed()  # cut short by the request's deadline: not the LLM's failure
            else:
                with self._lock:
                    self._trial_running = False
            raise BackendUnavailableError(
                f"{DEADLINE}: the {self.name} narrator did not answer within "
                f"{wait_s:.1f} s; the offline writer answered",
                details={"provider": self.name, "reason": DEADLINE}) from None
        except BackendUnavailableError as exc:
            self._failed()
            raise BackendUnavailableError(f"{UNAVAILABLE}: {self.name} unavailable: {exc.message}",
                                          details={**exc.details, "reason": UNAVAILABLE}) from exc
        except BaseException:
            with self._lock:
                self._trial_running = False
            raise
        self._succeeded()
        return result

    # --- fallback cache ------------------------------------------------------------------------
    def cached_fallback(self, key: str):
        with self._lock:
            hit = self._fallbacks.get(key)
            if hit is None:
                return None
            if hit[0] < time.monotonic():
                del self._fallbacks[key]
                return None
            return hit[1]

    def remember_fallback(self, key: str, narration) -> None:
        if self.config.fallback_ttl_s <= 0:
            return
        with self._lock:
            self._fallbacks[key] = (time.monotonic() + self.config.fallback_ttl_s, narration)
            self._fallbacks.move_to_end(key)
            while len(self._fallbacks) > MAX_FALLBACKS:
                self._fallbacks.popitem(last=False)

    def shutdown(self) -> None:
        self._pool.shutdown(self.config.max_concurrency)


_GUARDS: dict[tuple, NarrationGuard] = {}
_GUARDS_LOCK = threading.Lock()


def guard_for(narrator, settings) -> NarrationGuard:
    """The process-wide guard of ``narrator``'s endpoint (provider, URL, model) under these
    settings; created on first use."""
    config = GuardSettings.from_settings(settings)
    key = (narrator.name, getattr(narrator, "endpoint", None), getattr(narrator, "model", None), config)
    with _GUARDS_LOCK:
        guard = _GUARDS.get(key)
        if guard is None:
            guard = _GUARDS[key] = NarrationGuard(config, name=narrator.name)
        return guard


def breaker_states() -> dict[str, str]:
    """``{"anthropic claude-…": "open", …}`` of every guard in this process (for /health)."""
    with _GUARDS_LOCK:
        guards = list(_GUARDS.items())
    return {" ".join(str(k) for k in key[:3:2] if k): g.state for key, g in guards}


def reset_guards() -> None:
    """Forget every guard (tests that change the LLM settings in one process)."""
    with _GUARDS_LOCK:
        guards = list(_GUARDS.values())
        _GUARDS.clear()
    for g in guards:
        g.shutdown()
