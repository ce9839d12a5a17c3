"""List endpoints' CSV form (issue 15): content negotiation and cell flattening, without a server."""

from __future__ import annotations

import csv
import io

from starlette.requests import Request

from f1analyzer.api.csv_response import csv_text, wants_csv


def _req(accept: str | None) -> Request:
    headers = [] if accept is None else [(b"accept", accept.encode())]
    return Request({"type": "http", "method": "GET", "path": "/races", "headers": headers, "query_string": b""})


def test_wants_csv_only_when_asked_before_json():
    assert wants_csv(_req("text/csv"))
    assert wants_csv(_req("text/csv, application/json;q=0.5"))
    assert not wants_csv(_req("application/json, text/csv"))
    assert not wants_csv(_req("*/*")) and not wants_csv(_req(None))


def test_csv_text_flattens_lists_and_mappings():
    text = csv_text([{"round": 1, "compounds": ["C1", "C2"], "reasons": {"bounds": 2}, "demo": True, "x": None},
                     {"round": 2, "compounds": [], "reasons": {}, "demo": False, "x": float("nan")}],
                    ["round", "compounds", "reasons", "demo", "x"])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0] == {"round": "1", "compounds": "C1 C2", "reasons": "bounds=2", "demo": "true", "x": ""}
    assert rows[1] == {"round": "2", "compounds": "", "reasons": "", "demo": "false", "x": ""}
