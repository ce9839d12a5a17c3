"""CLI tables: 80 columns by default without cut headers, --wide for the rest, --csv (issue 15)."""

from __future__ import annotations

import csv
import io
import json

from f1analyzer.cli import main
from tests.data.frames import season_frame, write_csv


def _run(capsys, *args) -> tuple[int, str]:
    rc = main(list(args))
    return rc or 0, capsys.readouterr().out


def test_races_table_fits_80_columns_and_wide_and_csv(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    src = write_csv(season_frame({1: "Bahrain Grand Prix", 9: "Canadian Grand Prix"}), tmp_path / "in" / "2024.csv.gz")
    assert _run(capsys, "ingest", str(src))[0] == 0
    rc, text = _run(capsys, "races")
    assert rc == 0
    lines = text.splitlines()
    assert max(len(x) for x in lines) <= 80
    assert lines[0].split() == ["season", "round", "event", "circuit", "race", "laps", "compounds"]
    assert "…" not in text and "Montréal" in text and "Canadian GP" in text
    rc, wide = _run(capsys, "races", "--wide")
    assert "circuit key" in wide and "villeneuve" in wide and "drivers" in wide
    rc, out = _run(capsys, "races", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["circuit"] for r in rows] == ["Bahrain", "Montréal"]
    assert rows[1]["circuit key"] == "villeneuve" and rows[1]["race laps"].isdigit()


def test_sql_csv(capsys, tmp_path):
    src = write_csv(season_frame({1: "Bahrain Grand Prix"}), tmp_path / "in" / "2024.csv.gz")
    _run(capsys, "ingest", str(src))
    rc, out = _run(capsys, "sql", "SELECT driver, count(*) AS n FROM laps GROUP BY 1 ORDER BY 1", "--csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rc == 0 and rows[0] == ["driver", "n"] and len(rows) == 4


def test_demo_commands(capsys, monkeypatch):
    rc, out = _run(capsys, "races", "--json")
    assert rc == 0 and json.loads(out) == []  # F1A_DEMO_ON_EMPTY=false in the tests (conftest)
    rc, out = _run(capsys, "demo", "load", "--json")
    assert [r["round"] for r in json.loads(out)] == [1, 8, 16, 18]
    rc, out = _run(capsys, "races", "--json")
    assert all(r["demo"] for r in json.loads(out)) and len(json.loads(out)) == 4
    rc, out = _run(capsys, "demo", "remove", "--json")
    assert len(json.loads(out)) == 4
    rc, out = _run(capsys, "demo", "remove", "--json")
    assert json.loads(out) == []
    # with auto-loading on, a read command fills an empty store... unless the demo was removed on purpose
    monkeypatch.setenv("F1A_DEMO_ON_EMPTY", "true")
    from f1analyzer.config import reset_settings

    reset_settings()
    rc, out = _run(capsys, "races", "--json")
    assert json.loads(out) == []
