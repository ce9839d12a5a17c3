"""`f1analyzer serve`: run the API (uvicorn), or send one request through it with --get."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..config import get_settings


def _prometheus_multiproc_dir(settings) -> str:
    """An emptied directory for the workers' metric files (``PROMETHEUS_MULTIPROC_DIR``)."""
    d = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    path = Path(d) if d else settings.home / "prometheus"
    path.mkdir(parents=True, exist_ok=True)
    for f in path.glob("*.db"):  # samples of a previous run would be summed in
        f.unlink(missing_ok=True)
    return str(path)


def run_server(host: str | None = None, port: int | None = None, workers: int | None = None,
               reload: bool | None = None) -> None:
    """Start uvicorn with settings (HOST, PORT, WORKERS, DEBUG) unless overridden.

    Each worker builds the app once (``create_app``: store, models, indexes, cache, limiter) and
    shuts down gracefully on SIGTERM: it stops accepting connections, lets requests in flight
    finish for up to 10 s, then runs the lifespan shutdown (admin jobs, Redis connections).
    With several workers, Prometheus samples go through ``PROMETHEUS_MULTIPROC_DIR``.
    ``X-Forwarded-For`` is believed only from ``settings.trusted_proxies`` (``F1A_TRUSTED_PROXIES``
    or ``FORWARDED_ALLOW_IPS``, default none): the app decides (``api/proxies.py``), so uvicorn's
    own proxy-header handling, which trusts 127.0.0.1 by default, is turned off.
    """
    import uvicorn

    # loaded by this command only: keeps `f1analyzer --help` and other commands fast
    from ..api.logging import uvicorn_log_config

    s = get_settings()
    reload = s.debug if reload is None else reload
    n_workers = 1 if reload else (workers or s.workers)
    if n_workers > 1:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = _prometheus_multiproc_dir(s)
    uvicorn.run(
        "f1analyzer.api.main:create_app",
        factory=True,
        host=host or s.host,
        port=port or s.port,
        workers=n_workers,
        reload=reload,
        log_level="debug" if s.debug else "info",
        log_config=uvicorn_log_config(s),
        access_log=False,  # the app writes one structured line per request
        proxy_headers=False,  # the app reads X-Forwarded-For itself, from trusted proxies only
        timeout_graceful_shutdown=10,
    )


def serve(
    host: Annotated[Optional[str], typer.Option(help="Bind address (default: HOST or 0.0.0.0).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default: PORT or 8000).")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Worker processes (default: WORKERS or 1).")] = None,
    reload: Annotated[Optional[bool], typer.Option("--reload/--no-reload", help="Auto-reload (default: DEBUG).")] = None,
    get: Annotated[Optional[str], typer.Option("--get", help="Send one GET through the app, print the response and exit.")] = None,
) -> None:
    """Serve the API on http://HOST:PORT (docs at /docs)."""
    if get:
        from fastapi.testclient import TestClient

        # loaded by this command only: keeps `f1analyzer --help` and other commands fast
        from ..api.main import create_app

        with TestClient(create_app()) as client:
            r = client.get(get)
        typer.echo(r.text)
        if r.status_code >= 400:
            raise typer.Exit(code=1)
        return
    run_server(host, port, workers, reload)


def register(app: typer.Typer) -> None:
    app.command()(serve)
