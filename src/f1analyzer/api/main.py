"""FastAPI application factory.

The application's :class:`~f1analyzer.app.services.Services` (settings, store, cache, model set,
index status) is built once here and handed to routes by ``deps.py``; the model set is loaded
in the lifespan, the knowledge index is checked (and built when missing) in a thread.
Run it with ``f1analyzer serve`` or ``python fastapi_backend.py``.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from .. import __version__
from ..config import Settings, get_settings
from ..log import get_logger
from . import metrics
from .errors import install_error_handlers
from .logging import configure_logging
from .middleware import attach_services, install_service_layers, shutdown_services
from ..app.housekeeping import clean_stale_temp_files
from ..app.knowledge import ensure_index_async
from ..app.services import Services
from .routes import admin, circuits, health, live, predict, query, races, seasons, strategy, web
from .state import AppState

log = get_logger("api")


def build_state(settings: Settings, services: Services | None = None) -> AppState:
    """The API state around the application's services (built here unless given)."""
    state = AppState(services=services or Services.build(settings))
    state.health_checks["data_collector"] = lambda st: st.services.data_collector_ok()
    state.health_checks["vector_database"] = lambda st: st.services.vector_database_ok()
    # the strategy engine runs with the loaded race models, and a narrator (offline counts) writes
    state.health_checks["strategy_generator"] = lambda st: st.services.strategy_engine_ok()
    state.health_checks["ml_models"] = lambda st: st.services.models_ok()
    state.degraded_reasons["store"] = _store_reason
    state.degraded_reasons["models"] = lambda st: "; ".join(st.services.model_set().refused) or None
    attach_services(state)  # response cache, rate limiter, admin jobs (+ their /health reasons)
    return state


def _store_reason(state: AppState) -> str | None:
    """Season files the store could not read (their routes answer 503, the rest keep working)."""
    state.store.races(session=None)  # reads every season file once (cached by mtime)
    bad = state.store.unreadable()
    if not bad:
        return None
    names = ", ".join(f"{s}" + ("" if sess == "race" else f" {sess}") for s, sess in bad)
    return (f"stored data of season(s) {names} cannot be read; re-ingest them "
            "(`f1analyzer ingest`) or remove their files; other seasons are served")


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """The API app. ``services`` (the application's wiring) is built from ``settings`` unless
    given; given services bring their own settings."""
    if services is not None:
        settings = services.settings
    if settings is None:
        # boto3 only when the app is built from the environment
        from ..aws.secrets import load_secrets

        load_secrets()  # provider keys from Secrets Manager when SECRETS_MANAGER_SECRET_ID is set
        settings = get_settings()
    configure_logging(settings)  # structlog JSON lines (console when DEBUG)
    state = build_state(settings, services)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        log.info("f1analyzer %s starting (home %s)", __version__, settings.home)
        clean_stale_temp_files(settings)  # what a crashed writer left (issue 13, item 10)
        # models first, in this thread: loading them while the index thread imports torch can
        # leave torch half-initialised for the model loader
        state.services.model_set()
        index_thread = ensure_index_async(state.services) if settings.index_on_start else None
        yield
        log.info("f1analyzer shutting down")
        if index_thread is not None:
            index_thread.join(timeout=30)  # never leave a thread writing the index at exit
        shutdown_services(state)

    app = FastAPI(
        title="F1 Race Strategy Analyzer",
        version=__version__,
        description="Race data, fitted race models, Monte Carlo strategy simulation and explained answers.",
        lifespan=lifespan,
        docs_url=None,  # served by routes/web.py from vendored Swagger UI (works offline)
        redoc_url=None,
    )
    app.state.f1a = state
    install_service_layers(app, state)  # request id/logs/metrics, body limit, CORS, keys + rate limit
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(races.router)
    app.include_router(circuits.router)
    app.include_router(seasons.router)
    app.include_router(predict.router)
    app.include_router(strategy.router)
    app.include_router(query.router)
    app.include_router(admin.router)
    app.include_router(live.router)
    app.include_router(metrics.router)
    web.install(app)  # the dashboard: GET / and /static
    return app
