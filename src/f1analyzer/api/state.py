"""The API's own state: the application's :class:`~f1analyzer.app.services.Services` plus what
only the HTTP surface needs (response cache, rate limiter, job manager, /health checks)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..app.services import Services
from ..config import Settings
from ..data.store import RaceStore
from ..log import get_logger

log = get_logger("api.state")

#: seed's /health component names, in order
COMPONENTS = ("data_collector", "vector_database", "strategy_generator", "ml_models")


@dataclass
class AppState:
    #: the application's services (settings, store, cache, model set, index status)
    services: Services
    #: component name → check returning True only when that part really works
    health_checks: dict[str, Callable[["AppState"], bool]] = field(default_factory=dict)
    #: set by ``middleware.attach_services``: api.caching.ResponseCache, RateLimitService, JobManager
    response_cache: object = None
    rate_limit: object = None
    jobs: object = None
    #: api.slowwork.SlowWorkPool: simulations and narration run there, never on the shared pool
    slow_work: object = None
    #: app.raceday_sessions.LiveSessions: the race-day sessions this worker runs and serves
    live: object = None
    #: why the service is degraded although its components work (e.g. cache unreachable)
    degraded_reasons: dict[str, Callable[["AppState"], str | None]] = field(default_factory=dict)
    #: health results are reused this long: probes stay cheap (checks may query the index or
    #: ping Redis) and /health keeps its throughput under load
    health_ttl_s: float = 1.0
    #: a memo older than this is never answered: the probe waits for fresh checks
    health_stale_max_s: float = 30.0
    _health_memo: dict = field(default_factory=dict, repr=False)
    _refreshing: set = field(default_factory=set, repr=False)
    _refresh_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _health_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: /health's checks run here: neither the shared pool of ``def`` routes nor the slow-work
    #: pool can make a probe wait
    _health_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="f1a-health"),
        repr=False)

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def store(self) -> RaceStore:
        return self.services.store

    def _memo(self, name: str, compute: Callable[[], object]):
        now = time.monotonic()
        hit = self._health_memo.get(name)
        if hit is not None and now - hit[0] < self.health_ttl_s:
            return hit[1]
        with self._health_lock:  # one thread recomputes, the others reuse its answer
            hit = self._health_memo.get(name)
            if hit is not None and time.monotonic() - hit[0] < self.health_ttl_s:
                return hit[1]
            value = compute()
            self._health_memo[name] = (time.monotonic(), value)
            return value

    def component_status(self) -> dict[str, bool]:
        return dict(self._memo("components", self._component_status))

    def degraded(self) -> list[str]:
        return list(self._memo("degraded", self._degraded))

    async def _acurrent(self, name: str, compute: Callable[[], object]):
        """The memo of ``name`` for an ``async def`` route, stale-while-revalidate: a stale memo
        (up to ``health_stale_max_s`` old) is answered at once while ``/health``'s own threads
        recompute it, so a probe never waits for the checks on a loaded server; without a
        usable memo the probe waits for them (on those threads, never the shared pool)."""
        hit = self._health_memo.get(name)
        age = time.monotonic() - hit[0] if hit is not None else None
        if age is not None and age < self.health_ttl_s:
            return hit[1]
        if age is not None and age < self.health_stale_max_s:
            with self._refresh_lock:  # never the checks' lock: the event loop must not wait
                start = name not in self._refreshing
                self._refreshing.add(name)
            if start:
                def refresh() -> None:
                    try:
                        compute()
                    finally:
                        with self._refresh_lock:
                            self._refreshing.discard(name)

                self._health_pool.submit(refresh)
            return hit[1]
        return await asyncio.get_running_loop().run_in_executor(self._health_pool, compute)

    async def acomponent_status(self) -> dict[str, bool]:
        """For ``async def`` routes (see :meth:`_acurrent`)."""
        return dict(await self._acurrent("components", self.component_status))

    async def adegraded(self) -> list[str]:
        return list(await self._acurrent("degraded", self.degraded))

    def _component_status(self) -> dict[str, bool]:
        out = {}
        for name in COMPONENTS:
            check = self.health_checks.get(name)
            try:
                out[name] = bool(check(self)) if check else False
            except Exception as exc:  # a failing check means the part does not work
                log.warning("health check %s failed: %s", name, exc)
                out[name] = False
        return out

    def _degraded(self) -> list[str]:
        reasons = []
        for name, fn in self.degraded_reasons.items():
            try:
                r = fn(self)
            except Exception as exc:
                r = f"{name}: {exc}"
            if r:
                reasons.append(r)
        return reasons
