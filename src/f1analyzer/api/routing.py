"""Which route a request will hit, resolved before routing runs (a small neutral module: the
request-context middleware labels metrics and logs with it, the rate limiter picks its rule)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.routing import APIRoute
from starlette.routing import Mount, compile_path
from starlette.types import Scope

UNMATCHED_ROUTE = "<unmatched>"


# --- route resolution (shared with the rate limiter) -------------------------------------------
@dataclass(frozen=True)
class RouteInfo:
    """One route as the service layers see it."""

    template: str  #: ``/races/{season}/{event}`` (metrics and log label)
    regex: re.Pattern
    methods: frozenset[str] | None
    endpoint: object | None  #: the route function (carries ``@rate_limit`` settings)
    is_api: bool  #: a FastAPI route in the OpenAPI schema (not docs, static files, dashboard)


def _route_table(app) -> list[RouteInfo]:
    """Every route flattened once per app (rebuilt if routes are added later)."""
    routes = list(getattr(getattr(app, "router", None), "routes", ()) or ())
    cached = getattr(app.state, "_f1a_route_table", None) if hasattr(app, "state") else None
    if cached is not None and cached[0] == len(routes):
        return cached[1]
    try:
        from fastapi.routing import iter_route_contexts

        pairs = [(c.original_route, c.path_format or c.path) for c in iter_route_contexts(routes)]
    except ImportError:  # older FastAPI: routes are flat already
        pairs = [(r, getattr(r, "path_format", None) or getattr(r, "path", None)) for r in routes]
    table = []
    for route, template in pairs:
        if not template:
            continue
        mount = isinstance(route, Mount)
        if mount:
            template = route.path or "/"
        regex = compile_path(template.rstrip("/") + "/{path:path}" if mount else template)[0]
        methods = getattr(route, "methods", None)
        if methods and "GET" in methods:
            methods = {*methods, "HEAD"}
        table.append(RouteInfo(
            template=template, regex=regex, methods=frozenset(methods) if methods else None,
            endpoint=getattr(route, "endpoint", None),
            is_api=isinstance(route, APIRoute) and bool(route.include_in_schema)))
    if hasattr(app, "state"):
        app.state._f1a_route_table = (len(routes), table)
    return table


def resolve_route(scope: Scope) -> tuple[str, RouteInfo | None]:
    """``(route template, route info)`` of a request before routing ran; cached in the scope.

    The template is the metrics and log label, so unknown paths all count as ``<unmatched>``
    instead of exploding label cardinality. A path that exists with another method (405)
    resolves to its template.
    """
    cached = scope.get("f1a.route")
    if cached is not None:
        return cached
    found: tuple[str, RouteInfo | None] = (UNMATCHED_ROUTE, None)
    app = scope.get("app")
    if app is not None:
        path, method = scope.get("path", ""), scope.get("method", "")
        partial = None
        for info in _route_table(app):
            if info.regex.match(path):
                if info.methods is None or method in info.methods:
                    found = (info.template, info)
                    break
                if partial is None:
                    partial = info
        else:
            if partial is not None:
                found = (partial.template, partial)
    scope["f1a.route"] = found
    return found
