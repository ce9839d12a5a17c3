"""List endpoints answer ``text/csv`` when the ``Accept`` header asks for it (issue 15).

Spreadsheets and pandas read lists more easily as CSV. The rows are the same as the JSON ``data``
(seconds stay in ``*_s`` columns); a list value is written space-separated and a mapping as
``key=value`` pairs separated by ``;``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from fastapi import Request, Response

CSV_TYPE = "text/csv"
#: said in a list route's description. The CSV form is not declared as a second response content
#: type: schemathesis' coverage phase crashed on it (an internal SystemError, not a server error)
CSV_NOTE = ("The `data` list as CSV (one row per item, the same fields) when the `Accept` header asks "
            "for `text/csv`; JSON otherwise.")


def wants_csv(request: Request) -> bool:
    """The client prefers CSV: ``text/csv`` is in ``Accept`` ahead of JSON (or JSON is absent)."""
    accept = request.headers.get("accept", "").lower()
    if CSV_TYPE not in accept:
        return False
    json_at = accept.find("application/json")
    return json_at < 0 or accept.find(CSV_TYPE) < json_at


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v != v:
        return ""
    if isinstance(v, dict):
        return ";".join(f"{k}={_cell(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return " ".join(_cell(x) for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def csv_text(rows: Iterable[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in columns])
    return buf.getvalue()


def csv_response(rows: Iterable[dict], columns: list[str], filename: str) -> Response:
    return Response(csv_text(rows, columns), media_type=f"{CSV_TYPE}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Vary": "Accept"})
