"""FastAPI application factory.

Everything heavy (store, models, indexes) is loaded once in the lifespan, not per request.
Run it with ``f1analyzer serve`` or ``python fastapi_backend.py``.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from .. import __version__
from ..config import Settings, get_settings
from ..data.store import RaceStore
from ..log import get_logger
from .errors import install_error_handlers
from .routes import health, races
from .state import AppState, data_collector_ok

log = get_logger("api")


def build_state(settings: Settings) -> AppState:
    state = AppState(settings=settings, store=RaceStore(settings.store_dir))
    state.health_checks["data_collector"] = data_collector_ok
    return state


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    state = build_state(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        log.info("f1analyzer %s starting (home %s)", __version__, settings.home)
        yield
        log.info("f1analyzer shutting down")

    app = FastAPI(
        title="F1 Race Strategy Analyzer",
        version=__version__,
        description="Race data, fitted race models, Monte Carlo strategy simulation and explained answers.",
        lifespan=lifespan,
    )
    app.state.f1a = state
    app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"],
                       allow_headers=["*"])
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(races.router)
    return app
