"""`f1analyzer strategy` on the synthetic store: the JSON answer carries its narrative (issue 11,
problem 7), the outcomes a strategist reads and what data the models saw (problem 5)."""

from __future__ import annotations

import json

from f1analyzer.cli import main
from tests.simulation.test_build import synthetic_env


def test_strategy_json_has_narrative_outcomes_and_data_used(tmp_path, capsys, monkeypatch):
    home = tmp_path / "home"
    synthetic_env(home)  # the store lands in <home>/store, the CLI's store
    capsys.readouterr()
    rc = main(["--home", str(home), "strategy", "--season", "2023", "--event", "Bahrain", "--json",
               "--sims", "40", "--top", "2"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert isinstance(out["narrative"], str) and "2023 Bahrain Grand Prix" in out["narrative"]
    assert out["provider"] == "offline"
    best = out["strategies"][0]
    for k in ("expected_position_if_classified", "p_win", "p_podium", "expected_points", "p_dnf",
              "position_10th_percentile", "position_median", "position_90th_percentile", "reasons"):
        assert k in best
    used = out["model"]["data_used"]
    # round 2 of 2023: the models saw 2022 and round 1 of 2023, nothing of the race or later
    assert used["cutoff"] == {"season": 2023, "round": 2} and used["models_fitted_on"] == "seasons 2022 + 2023 round 1"
    assert "saw seasons 2022 + 2023 round 1 only" in out["narrative"]
    # the table shows the same answer; --wide adds the other columns (wide enough not to wrap)
    monkeypatch.setenv("COLUMNS", "250")
    rc = main(["--home", str(home), "strategy", "--season", "2023", "--event", "Bahrain", "--sims", "40",
               "--top", "2", "--wide"])
    text = capsys.readouterr().out
    assert rc == 0 and "if classified" in text and "finish range" in text and "P10" not in text


def test_replay_json_replays_the_real_retirements_unless_asked_to_sample_them(tmp_path, capsys):
    home = tmp_path / "home"
    synthetic_env(home)
    capsys.readouterr()
    rc = main(["--home", str(home), "replay", "--season", "2023", "--event", "Monza", "--json", "--sims", "30"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["retirements"] == "real" and out["track_status"] == "real"
    rc = main(["--home", str(home), "replay", "--season", "2023", "--event", "Monza", "--json", "--sims", "30",
               "--sampled-retirements", "--sampled-sc"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["retirements"] == "sampled" and out["track_status"] == "sampled"
    rc = main(["--home", str(home), "replay", "--season", "2023", "--event", "Monza", "--sims", "30"])
    assert rc == 0 and "real SC, real retirements" in " ".join(capsys.readouterr().out.split())


def test_strategy_shows_what_the_top_ten_did_here_before(tmp_path, capsys, monkeypatch):
    """2023 Bahrain: the table of the circuit's earlier races (2022 Bahrain only: not the race
    itself) and our plan against it in one line; --json carries both fields; 2022 Bahrain, the
    store's first race there, prints no history."""
    home = tmp_path / "home"
    synthetic_env(home)
    capsys.readouterr()
    args = ["--home", str(home), "strategy", "--season", "2023", "--event", "Bahrain", "--sims", "20", "--top", "2"]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(h["season"], h["event"], h["stops"]) for h in out["field_history"]] == [(2022, "Bahrain Grand Prix", 1)]
    check = out["history_check"]
    assert check["season"] == 2022 and check["field_stops"] == 1 and check["plan_stops"] == out["strategies"][0]["stops"]

    monkeypatch.setenv("COLUMNS", "100")
    assert main(args) == 0
    captured = capsys.readouterr()
    text = captured.out
    assert "What the top ten did here before" in text
    assert text.index("What the top ten did here before") > text.index("finish range")  # after the options
    history = out["field_history"][0]
    row = next(line for line in text.splitlines() if line.strip().startswith("2022"))
    seq = " → ".join(c[0] for c in history["compounds"])
    assert row.split()[:4] == ["2022", "Bahrain", "Grand", "Prix"] and seq in row
    assert f"{history['median_first_stop_lap']:g}" in row and "wet" not in row
    window = check["plan_first_stop_window"]
    line = " ".join(captured.err.split())
    plan_stops = f"{check['plan_stops']} stop" + ("" if check["plan_stops"] == 1 else "s")
    assert (f"Our plan: {plan_stops} ({' → '.join(c[0] for c in check['plan_compounds'])}), first stop laps "
            f"{window[0]}–{window[1]} — the 2022 field (same car era): 1 stop ({seq}), first stop lap "
            f"{history['median_first_stop_lap']:g} ({check['first_stop_vs_window']} our window)") in line

    assert main(["--home", str(home), "strategy", "--season", "2022", "--event", "Bahrain", "--sims", "20",
                 "--top", "1"]) == 0
    captured = capsys.readouterr()
    assert "top ten" not in captured.out and "Our plan" not in captured.err
