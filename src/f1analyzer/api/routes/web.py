"""The web dashboard: ``static/index.html`` at ``/`` and its assets under ``/static``.

No build step and no CDN: the page, its script and its styles are plain files in
``f1analyzer/static`` (any third-party code is vendored in ``static/vendor``), so the dashboard
works offline. The index answers with a Content-Security-Policy that only allows this origin,
which keeps it that way.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"

#: only this origin: no CDN, no inline script; SVG presentation attributes are not affected
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'")

router = APIRouter(tags=["web"])


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html",
                        headers={"Cache-Control": "no-cache", "Content-Security-Policy": CSP,
                                 "X-Content-Type-Options": "nosniff"})


def install(app: FastAPI) -> None:
    """Serve the dashboard at ``/`` and its files at ``/static``."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
