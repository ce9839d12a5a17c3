"""Slow work (simulations, narration) on its own bounded pool, with a cost and a deadline.

FastAPI runs ``def`` routes on one shared thread pool (40 threads). If simulations and LLM
calls ran there, 45 slow questions would leave nothing for ``/health`` and the cheap routes.
So the routes that simulate or narrate are ``async`` and hand their work to
:class:`SlowWorkPool` (``settings.slow_work_threads`` threads, default 4): the shared pool stays
free for everything else, and the slow work queues behind its own few threads.

Before the work is queued, :meth:`SlowWork.run`:

1. refuses a request that implies more than ``settings.max_simulated_races`` simulated races
   (HTTP 422 ``work_too_large``, naming the cap);
2. charges its cost to the client's ``settings.rate_limit_cost`` allowance (simulated races over
   all routes; HTTP 429 ``rate_limited`` with ``Retry-After`` when it is spent);
3. waits for the answer at most ``settings.request_deadline_s`` (HTTP 504 ``deadline_exceeded``).
   Work still queued at the deadline never starts. Work already running sees the deadline
   through :mod:`f1analyzer.deadlines`: a batch stops between its requests, narration waits
   no longer than the time left; one simulation runs to its end (it cannot be interrupted
   safely), still holding its thread, so the pool bounds it.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import Depends, Request

from ..deadlines import deadline_after
from ..errors import DeadlineExceededError, RateLimitedError, WorkTooLargeError
from ..log import get_logger
from .metrics import record_rate_limited

log = get_logger("api.slowwork")


#: scheduling niceness of the slow-work threads (Linux: per thread): when the CPU is short, the
#: event loop (probes, cached answers) runs before another slice of simulation
SLOW_WORK_NICENESS = 10


def _lower_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), SLOW_WORK_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: run at normal priority
        pass


class SlowWorkPool:
    """The bounded thread pool of slow work, shared by every route of one app."""

    def __init__(self, threads: int, deadline_s: float):
        self.threads = threads
        self.deadline_s = deadline_s
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="f1a-slow",
                                        initializer=_lower_priority)
        self._lock = threading.Lock()
        #: requests waiting for or running slow work (for /metrics-free checks in tests and logs)
        self.in_flight = 0

    async def run(self, fn: Callable[[], Any], *, deadline_s: float | None = None,
                  what: str = "request") -> Any:
        """``fn()`` on the pool; raises :class:`DeadlineExceededError` past the deadline."""
        deadline = self.deadline_s if deadline_s is None else deadline_s
        ctx = contextvars.copy_context()  # request id and log context in the worker thread

        def job():
            # the clock starts at submission: time spent queued counts
            with deadline_after(max(0.0, started_at + deadline - time.monotonic())):
                return fn()

        started_at = time.monotonic()
        future = self._pool.submit(ctx.run, job)
        with self._lock:
            self.in_flight += 1
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), deadline)
        except TimeoutError:
            started = not future.cancel()
            log.warning("%s passed its %.1f s deadline (%s)", what, deadline,
                        "still running on its thread" if started else "never started")
            raise DeadlineExceededError(
                f"The server's deadline of {deadline:g} s for this {what} passed before the "
                "answer was ready; retry later or ask for less work (fewer n_sims or requests).",
                details={"deadline_s": deadline}) from None
        except asyncio.CancelledError:  # the client went away: queued work never starts
            future.cancel()
            raise
        finally:
            with self._lock:
                self.in_flight -= 1

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class SlowWork:
    """The slow-work handle of one request: its client, the limiter and the pool."""

    def __init__(self, state, client_id: str):
        self.state = state
        self.client_id = client_id

    def check_cost(self, cost: int) -> None:
        """Refuse (422) a request over the cap, then charge ``cost`` simulated races (429)."""
        settings = self.state.settings
        cap = settings.max_simulated_races
        if cost > cap:
            raise WorkTooLargeError(
                f"This request implies {cost:,} simulated races; the limit per request is "
                f"{cap:,} (max_simulated_races). Lower n_sims, top_k or the number of plans or "
                "requests.", details={"simulated_races": cost, "max_simulated_races": cap})
        limiter = getattr(self.state, "rate_limit", None)
        if cost <= 0 or limiter is None or not limiter.enabled:
            return
        broken = limiter.hit_cost(self.client_id, cost)
        if broken is None:
            return
        record_rate_limited("simulated_races")
        retry = limiter.retry_after_cost_s(broken, self.client_id)
        raise RateLimitedError(
            f"Simulation allowance spent: {broken} simulated races per client (rate_limit_cost); "
            f"this request needs {cost:,}. Retry in {retry} s.",
            details={"limit": str(broken), "cost": cost, "retry_after_s": retry})

    async def run(self, fn: Callable[[], Any], *, cost: int = 0, what: str = "request") -> Any:
        """Check and charge ``cost``, then ``fn()`` on the slow pool within the deadline."""
        self.check_cost(cost)
        return await self.state.slow_work.run(fn, what=what)


async def get_slow_work(request: Request) -> SlowWork:
    state = request.app.state.f1a
    client_id = request.scope.get("state", {}).get("client_id") or (
        "ip:" + (request.client.host if request.client else "unknown"))
    return SlowWork(state, client_id)


SlowWorkDep = Annotated[SlowWork, Depends(get_slow_work)]
