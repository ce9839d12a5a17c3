"""`f1analyzer ingest` and `f1analyzer races` through the console script's entry point."""

from __future__ import annotations

import json

import pytest

from f1analyzer.cli import main

from .frames import N_LAPS, race_frame, season_frame, write_csv


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def season_file(tmp_path):
    return write_csv(season_frame(), tmp_path / "in" / "2024.csv.gz")


def test_ingest_and_races_json(capsys, season_file, f1a_home):
    code, out, err = run(capsys, "ingest", str(season_file))
    assert code == 0, err
    assert "season 2024, 3 race(s), 90 laps, 0 rejected" in " ".join(err.split())
    code, out, _ = run(capsys, "races", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 3
    assert {"season", "round", "event", "laps", "drivers", "rejected"} <= set(rows[0])
    assert rows[0] | {"compounds": None} == {
        "season": 2024, "round": 1, "event": "Bahrain Grand Prix", "laps": 3 * N_LAPS, "drivers": 3,
        "rejected": 0, "rejected_reasons": {}, "circuit_key": "bahrain", "total_laps": N_LAPS, "compounds": None,
        "session": "race", "circuit": "Bahrain", "demo": False}
    assert (f1a_home / "store" / "seasons" / "2024.parquet").is_file()


def test_ingest_json_report(capsys, tmp_path):
    df = race_frame()
    df.loc[7, "LapTime"] = "n/a?"
    path = write_csv(df, tmp_path / "2023.csv")
    code, out, _ = run(capsys, "ingest", "--json", str(path))
    assert code == 0
    [rep] = json.loads(out)
    assert rep["ok"] and rep["rounds"] == [1]
    assert rep["report"]["rejected"] == 1
    assert rep["report"]["examples"] == [{"row": 9, "reason": "unparseable LapTime", "value": "n/a?"}]


def test_refused_file_exits_nonzero_with_one_readable_line(capsys, tmp_path, season_file):
    broken = write_csv(race_frame().drop(columns=["Compound"]), tmp_path / "2022.csv")
    code, _, err = run(capsys, "ingest", str(broken))
    assert code == 1
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "missing required column(s): Compound" in lines[0]
    # good and bad together: the good file is stored, the exit code still says something failed
    code, _, err = run(capsys, "ingest", str(season_file), str(broken))
    assert code == 1
    code, out, _ = run(capsys, "races", "--json")
    assert [r["season"] for r in json.loads(out)] == [2024] * 3


def test_missing_path_and_no_season(capsys, tmp_path):
    code, _, err = run(capsys, "ingest", str(tmp_path / "nope.csv"))
    assert code == 1 and err.strip() == f"error: {tmp_path / 'nope.csv'}: no such file or folder"
    nameless = write_csv(race_frame(), tmp_path / "laps.csv")
    code, _, err = run(capsys, "ingest", str(nameless))
    assert code == 1 and "cannot tell the season; pass --season YEAR" in " ".join(err.split())
    code, _, err = run(capsys, "ingest", "--season", "2019", str(nameless))
    assert code == 0, err


def test_usage_errors(capsys, season_file):
    code, _, err = run(capsys, "ingest")
    assert code == 1 and err.startswith("error: give at least one lap file or folder")
    code, _, err = run(capsys, "ingest", "--round", "3", str(season_file))
    assert code == 1 and err.strip() == "error: --round needs --live (files are ingested whole)"
    code, _, err = run(capsys, "ingest", "--live", "--season", "2024", str(season_file))
    assert code == 1 and "not both" in err


def test_races_empty_store(capsys):
    code, out, err = run(capsys, "races", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, err = run(capsys, "races")
    assert code == 0 and "No races stored" in err


def test_races_table_and_season_filter(capsys, season_file, tmp_path):
    run(capsys, "ingest", str(season_file))
    run(capsys, "ingest", str(write_csv(race_frame(), tmp_path / "2019.csv")))
    code, out, _ = run(capsys, "races", "--season", "2019", "--json")
    assert [r["season"] for r in json.loads(out)] == [2019]
    code, out, err = run(capsys, "races")
    assert code == 0 and "2019" in out and "2024" in out


def test_ingest_refuses_a_shrinking_file_unless_replace_and_races_show_rejections(capsys, tmp_path, f1a_home):
    """Issue 13, item 6: rejected rows are counted where the user looks; a file that would drop
    more than 10 % of a stored race's laps needs --replace."""
    import pandas as pd

    assert run(capsys, "ingest", str(write_csv(season_frame(), tmp_path / "a" / "2024.csv")))[0] == 0
    broken = pd.concat([season_frame(), race_frame(41, "Nowhere Grand Prix")], ignore_index=True)
    broken.loc[broken["LapNumber"].astype(float) > 6, "LapTime"] = "1e308"
    path = write_csv(broken, tmp_path / "b" / "2024.csv")
    code, _, err = run(capsys, "ingest", str(path))
    flat = " ".join(err.split())
    assert code == 1 and "would drop more than 10% of the stored laps of season 2024" in flat
    assert "--replace" in flat
    code, _, err = run(capsys, "ingest", str(path), "--replace")
    flat = " ".join(err.split())
    assert code == 0 and "54 laps, 66 rejected" in flat and "36 LapTime out of range" in flat
    code, out, err = run(capsys, "races", "--json")
    rows = json.loads(out)
    assert rows[0]["rejected"] == 12 and rows[0]["rejected_reasons"] == {"LapTime out of range (30–3600 s)": 12}
    assert "30 row(s) of 2024.csv were rejected and belong to no stored race (30 bad RoundNumber)" in " ".join(err.split())
