"""The API docs at /docs render offline: Swagger UI comes from the package, not a CDN."""

from __future__ import annotations

from tests.helpers import api_server

from .conftest import PageWatch


def test_api_docs_render_offline_with_every_route(f1a_home, browser_context_factory, tmp_path):
    with api_server({"F1A_HOME": str(f1a_home), "F1A_INDEX_ON_START": "false"},
                    log_path=tmp_path / "api.log") as base:
        watch = PageWatch(base)
        page = browser_context_factory().new_page()
        watch.attach(page)
        page.goto(base + "/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=60_000)
        paths = set(page.eval_on_selector_all(".opblock-summary-path", "els => els.map(e => e.dataset.path || e.textContent.trim())"))
        page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
        assert {"/health", "/races", "/strategy/generate", "/query"} <= paths, paths
        assert watch.problems() == [], watch.problems()
        assert not watch.foreign_requests  # nothing from a CDN
