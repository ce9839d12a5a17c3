"""Metric names the API exports, and the f1a_* names a PromQL expression uses."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

_F1A = re.compile(r"\bf1a_[a-zA-Z0-9_]+")


def exported_names(exposition: str) -> set[str]:
    """Every series name a scrape of this exposition text can contain (families and samples)."""
    names: set[str] = set()
    for fam in text_string_to_metric_families(exposition):
        names.add(fam.name)
        if fam.type == "counter":
            names |= {fam.name + "_total", fam.name + "_created"}
        elif fam.type in ("histogram", "summary"):
            names |= {fam.name + s for s in ("_bucket", "_sum", "_count", "_created")}
        names |= {s.name for s in fam.samples}
    return names


def names_in_expr(expr: str) -> set[str]:
    return set(_F1A.findall(expr))


def live_exposition() -> str:
    """The API's own /metrics text (in-process; the same app uvicorn serves)."""
    from fastapi.testclient import TestClient

    from f1analyzer.api.main import create_app

    with TestClient(create_app()) as c:
        r = c.get("/metrics")
    assert r.status_code == 200, r.text
    return r.text
