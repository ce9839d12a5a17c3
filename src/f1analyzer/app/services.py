"""The application's wiring, built once at start-up and handed to every surface.

:class:`Services` owns what the operations share: the settings, the race store, the shared
cache, the current model set (with its version), the knowledge index's start-up status and the
cached health of the strategy engine. The API builds one in ``create_app`` and hands it to routes
through ``api/deps.py``; the CLI builds one per command (:meth:`Services.build`); the Lambda
handlers run the API app, so they use the API's.

The domain packages (``models``, ``simulation``, ``knowledge``, ``narration``) know nothing of
this module: they receive plain objects (a store, race models, settings) from it.

Model set and several workers
-----------------------------
Every worker process holds its own :class:`Services`. After a training job registers a new model
set, the worker that ran the job reloads at once (:meth:`Services.reload_models`); every worker
also compares the registry's latest version id with the one it serves at most every
``model_check_interval_s`` seconds (a single-row SQLite or DynamoDB read) and reloads when it
changed, so all workers serve the new set within that interval whether or not they share Redis.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from f1analyzer.app import strategy as strategy_ops
from f1analyzer.app.knowledge import IndexStatus, narration_ok, vector_database_ok
from f1analyzer.backends.cache import Cache, get_cache
from f1analyzer.config import Settings, get_settings
from f1analyzer.data.demo import load_demo_if_empty
from f1analyzer.data.store import RaceStore
from f1analyzer.errors import BackendUnavailableError
from f1analyzer.log import get_logger
from f1analyzer.models.loading import ModelSet, load_model_set, registry_token
from f1analyzer.models.registry import get_registry

log = get_logger("app.services")

#: how long the strategy engine's health answer is reused (it runs a tiny Monte Carlo)
ENGINE_HEALTH_TTL_S = 30.0


def open_store(settings: Settings) -> RaceStore:
    """The race store of these settings: the one place a store is found."""
    return RaceStore(settings.store_dir)


def registry_version(settings: Settings) -> str | None:
    """What the registry holds, as a token that changes with every registration: the newest
    version id and the number of versions (None: nothing registered). The count matters when the
    newest id is refused (a planted far-future id): a new registration still changes the token.

    Raises:
        BackendUnavailableError: the registry cannot be read right now.
    """
    return registry_token([v.version for v in get_registry(settings).list()])


@dataclass
class Services:
    """What the operations share in one process (see the module docstring)."""

    settings: Settings
    store: RaceStore
    cache: Cache
    #: seconds between checks of the registry's latest version (0: on every request)
    model_check_interval_s: float = 1.0
    #: the knowledge index's start-up build (set by ``app.knowledge.ensure_index_async``)
    index: IndexStatus | None = None
    _models: ModelSet | None = field(default=None, repr=False)
    _models_registry_version: str | None = field(default=None, repr=False)
    _models_checked_at: float = field(default=0.0, repr=False)
    _models_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _models_pinned: bool = field(default=False, repr=False)
    _engine_health: tuple[float, bool] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, settings: Settings | None = None, *, cache: Cache | None = None,
              models: ModelSet | None = None, model_check_interval_s: float = 1.0) -> "Services":
        """Services for these settings (default ``get_settings()``); ``cache`` default
        ``get_cache(settings)`` (Redis when ``REDIS_URL`` is set, else in memory); ``models``
        pins a model set (tests) instead of loading the registry's latest on first use."""
        settings = settings or get_settings()
        svc = cls(settings=settings, store=open_store(settings), cache=cache or get_cache(settings),
                  model_check_interval_s=model_check_interval_s)
        if settings.demo_on_empty:
            # a first start shows real races offline (issue 15); ingestion is atomic and
            # idempotent, so two workers starting at once at worst both write the same files
            load_demo_if_empty(svc.store)
        if models is not None:
            svc.use_models(models)
        return svc

    # ---------------------------------------------------------------- model set
    def fresh_model_set(self) -> ModelSet | None:
        """The model set when it needs no registry check right now (no I/O, no lock: safe on
        the API's event loop); None when :meth:`model_set` has to look."""
        ms = self._models
        if ms is not None and time.monotonic() - self._models_checked_at < self.model_check_interval_s:
            return ms
        return None

    def model_set(self) -> ModelSet:
        """The model set to answer with: loaded on first use, reloaded when the registry's
        latest version changed (checked at most every ``model_check_interval_s``)."""
        ms = self._models
        now = time.monotonic()
        if ms is not None and now - self._models_checked_at < self.model_check_interval_s:
            return ms
        with self._models_lock:
            if self._models is not None and time.monotonic() - self._models_checked_at < self.model_check_interval_s:
                return self._models
            if self._models is None:
                return self._load()
            if self._models_pinned:
                self._models_checked_at = time.monotonic()
                return self._models
            lost = self._lost_version()
            if lost is not None:
                log.error("%s", lost)
                ms = self._load()
                ms.refused = [lost, *ms.refused,
                              *([] if ms.refused else [f"serving the {ms.source} models instead"])]
                return ms
            try:
                latest = registry_version(self.settings)
            except Exception as exc:  # noqa: BLE001 - an unreadable registry keeps the set we have
                why = exc.message if isinstance(exc, BackendUnavailableError) else repr(exc)
                log.warning("model registry unreadable, serving %s: %s", self._models.version, why)
                self._models_checked_at = time.monotonic()
                return self._models
            if latest != self._models_registry_version:
                log.info("model registry moved to %s: reloading", latest)
                return self._load()
            self._models_checked_at = time.monotonic()
            return self._models

    def _lost_version(self) -> str | None:
        """Why the served registry version is gone (its folder was deleted under the running
        server), or None. Its models are in memory, but a restart could not load them again and
        the registry no longer vouches for them: the caller falls back (issue 13, item 10)."""
        ms = self._models
        if ms is None or ms.source != "registry" or self.settings.model_store != "local":
            return None
        folder = self.settings.models_dir / "versions" / str(ms.version)
        if folder.is_dir():
            return None
        return (f"model version {ms.version} was lost: its files under the models folder were "
                "deleted while the server ran")

    def _load(self) -> ModelSet:
        ms = load_model_set(self.settings)
        self._models = ms
        # what the registry held (refused versions included), so a refused version does not
        # cause a reload on every check; a new registration changes it
        self._models_registry_version = ms.registry_state
        self._models_checked_at = time.monotonic()
        self._engine_health = None
        log.info("model set loaded: %s", ms.summary())
        for why in ms.refused:
            log.warning("%s", why)
        return ms

    def reload_models(self) -> ModelSet:
        """Load the registry's latest set now (after a training job in this process)."""
        with self._models_lock:
            self._models_pinned = False
            return self._load()

    def use_models(self, models) -> ModelSet:
        """Serve ``models`` (a :class:`ModelSet` or bare race models) and stop following the
        registry: tests and benchmarks pin a set this way."""
        ms = models if isinstance(models, ModelSet) else ModelSet(
            race_models=models, version=getattr(models, "data_hash_", None) or "pinned", source="pinned")
        with self._models_lock:
            self._models, self._models_registry_version, self._models_pinned = ms, None, True
            self._models_checked_at = time.monotonic()
            self._engine_health = None
        return ms

    # ---------------------------------------------------------------- health checks
    def models_ok(self) -> bool:
        """``ml_models``: a model set is loaded."""
        return self.model_set().is_loaded

    def strategy_engine_ok(self) -> bool:
        """``strategy_generator``: the engine runs on the loaded race models (answer reused
        for ``ENGINE_HEALTH_TTL_S``) and a narrator can be built."""
        now = time.monotonic()
        memo = self._engine_health
        if memo is None or now - memo[0] >= ENGINE_HEALTH_TTL_S:
            memo = (now, strategy_ops.strategy_engine_ok(self.model_set()))
            self._engine_health = memo
        return memo[1] and narration_ok(self)

    def vector_database_ok(self) -> bool:
        """``vector_database``: the knowledge index answers a query."""
        return vector_database_ok(self)

    def data_collector_ok(self) -> bool:
        """``data_collector``: the store opens and answers a query (an empty store works too)."""
        self.store.races()
        return True

    def close(self) -> None:
        close = getattr(self.cache, "close", None)
        if callable(close):
            close()
