"""`f1analyzer follow` on the synthetic store: the tower through a Safety Car, then the calls made."""

from __future__ import annotations

import json

from f1analyzer.cli import main
from tests.simulation.test_build import synthetic_env


def test_follow_replay_table_and_summary(tmp_path, capsys, monkeypatch):
    home = tmp_path / "home"
    synthetic_env(home)
    capsys.readouterr()
    monkeypatch.setenv("COLUMNS", "200")
    rc = main(["--home", str(home), "follow", "--season", "2023", "--event", "Monza", "--speed", "0",
               "--from-lap", "44", "--driver", "d03", "--sims", "20", "--max-advised", "2"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "Italian Grand Prix 2023" in text and "lap 50/50" in text  # the last frame
    assert "Calls to box for D03 (7 laps followed)" in text

    rc = main(["--home", str(home), "follow", "--season", "2023", "--event", "Monza", "--speed", "0",
               "--from-lap", "27", "--sims", "20", "--max-advised", "2", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["laps"] == 24
    # the Safety Car of laps 30-33 (status SC from the end of lap 29): calls to box under it
    under_sc = [c for c in out["calls"] if c["call"] == "BOX_UNDER_SC"]
    assert under_sc and all(c["track_status"] == "SC" and 29 <= c["lap"] <= 32 for c in under_sc)


def test_follow_unknown_driver_and_feed_are_one_line_errors(tmp_path, capsys):
    home = tmp_path / "home"
    synthetic_env(home)
    capsys.readouterr()
    assert main(["--home", str(home), "follow", "--season", "2023", "--event", "Monza", "--driver", "XYZ"]) == 1
    assert "XYZ is not in the field" in capsys.readouterr().err
    assert main(["--home", str(home), "follow", "--season", "2023", "--event", "Monza", "--feed", "tv"]) == 1
    assert "Unknown feed 'tv'" in capsys.readouterr().err


def test_render_shows_the_followed_driver_rejoin_and_threats(tmp_path):
    from rich.console import Console

    from f1analyzer.app.raceday import FieldAdvisor
    from f1analyzer.cli.follow import render
    from f1analyzer.data.feeds.replay import ReplayFeed
    from f1analyzer.simulation.scenario.build import build_race
    from tests.factories import strategy_env

    store, models = strategy_env(tmp_path)
    built = build_race(2023, "Monza", models=models, store=store, pre_race=False)
    snap = next(s for s in ReplayFeed(store, 2023, "Monza", speed=0, from_lap=30).snapshots())
    upd = FieldAdvisor(built, n_sims=20, max_advised=1).update(snap)
    driver = snap.cars[5].driver
    console = Console(width=200, record=True)
    console.print(render(snap, upd, driver))
    text = console.export_text()
    assert "lap 30/50" in text and " SC " in text
    assert f"{driver}: boxing now rejoins P" in text and "stop loss" in text
    assert "undercut behind:" in text and "undercut ahead:" in text


def test_a_call_decided_by_the_fields_habit_says_so_in_the_tower():
    from f1analyzer.cli.follow import _call_text

    c = {"call": "STAY_OUT", "box_in_laps": None, "margin_places": -0.04, "margin_se": 0.05,
         "decided_by": "field_history", "field_box_rate": 0.27}
    assert _call_text(c).plain == "STAY OUT (-0.04±0.05) field 27% box"
    assert _call_text({**c, "decided_by": "simulation"}).plain == "STAY OUT (-0.04±0.05)"
