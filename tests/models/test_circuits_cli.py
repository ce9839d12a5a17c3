"""`f1analyzer circuit NAME` on the bundled model set (no data directory needed)."""

from __future__ import annotations

import json

from f1analyzer.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_circuit_table(capsys):
    code, out, err = run(capsys, "circuit", "Monza")
    assert code == 0, err
    text = out + err
    for word in ("Autodromo Nazionale di Monza", "SOFT", "MEDIUM", "HARD", "pit loss", "Safety Car", "overtaking",
                 "held up behind a car"):
        assert word in text


def test_circuit_json_and_plot(capsys, tmp_path):
    png = tmp_path / "plots" / "silverstone.png"
    code, out, err = run(capsys, "circuit", "british grand prix", "--json", "--plot", str(png), "--season", "2019")
    assert code == 0, err
    data = json.loads(out)
    assert data["key"] == "silverstone"
    assert data["era_shown"] == "pre-2022"
    assert set(data["compounds"]) == {"SOFT", "MEDIUM", "HARD"}
    assert all(len(v) == 40 for v in data["degradation_curves"].values())
    assert 10 < data["pit_loss_s"] < 40
    assert 0 <= data["sc"]["p_at_least_one"] <= 1
    # the bundled set's held-up gap of the pre-2022 cars (they followed further back than 2022's)
    held = data["held_gap_s"]
    assert len(held) == 10 and held == sorted(held) and 0.5 < (held[4] + held[5]) / 2 < 1.0
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_circuit_suggests(capsys):
    code, out, err = run(capsys, "circuit", "monzza")
    assert code == 1
    assert "monza" in err
