"""The web dashboard: ``static/index.html`` at ``/`` and its assets under ``/static``.

No build step and no CDN: the page, its script and its styles are plain files in
``f1analyzer/static`` (any third-party code is vendored in ``static/vendor``), so the dashboard
works offline. The index answers with a Content-Security-Policy that only allows this origin,
which keeps it that way.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"

#: only this origin: no CDN, no inline script; SVG presentation attributes are not affected
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'")

#: Swagger UI starts itself with an inline script and inline styles
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
            "frame-ancestors 'self'")

router = APIRouter(tags=["web"])


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html",
                        headers={"Cache-Control": "no-cache", "Content-Security-Policy": CSP,
                                 "X-Content-Type-Options": "nosniff"})


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """Swagger UI from the vendored files: FastAPI's default page needs a CDN, so it is blank
    offline (the app is built with ``docs_url=None``)."""
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="F1 Race Strategy Analyzer — API docs",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


def install(app: FastAPI) -> None:
    """Serve the dashboard at ``/``, the API docs at ``/docs`` and the files at ``/static``."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
