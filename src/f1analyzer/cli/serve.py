"""`f1analyzer serve`: run the API (uvicorn), or send one request through it with --get."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..config import get_settings


def run_server(host: str | None = None, port: int | None = None, workers: int | None = None,
               reload: bool | None = None) -> None:
    """Start uvicorn with settings (HOST, PORT, WORKERS, DEBUG) unless overridden."""
    import uvicorn

    s = get_settings()
    reload = s.debug if reload is None else reload
    uvicorn.run(
        "f1analyzer.api.main:create_app",
        factory=True,
        host=host or s.host,
        port=port or s.port,
        workers=1 if reload else (workers or s.workers),
        reload=reload,
        log_level="debug" if s.debug else "info",
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
