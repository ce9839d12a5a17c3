"""Backtest: JSON shape on the synthetic store, and via the CLI on two real races (realdata)."""

from __future__ import annotations

import json

import pytest

from f1analyzer.errors import DataNotLoadedError, InvalidRequestError
from f1analyzer.simulation.backtest import backtest
from tests.simulation.test_build import synthetic_env

RACE_KEYS = {"round", "event", "recommended", "actual_top10", "replay_order", "replay_spearman", "advisor"}


def check_shape(out: dict, season: int, rounds: list[int]) -> None:
    json.dumps(out, allow_nan=False)
    assert out["season"] == season and set(out) == {"season", "races", "summary"}
    assert [r["round"] for r in out["races"]] == rounds
    for r in out["races"]:
        assert RACE_KEYS <= set(r)
        assert set(r["recommended"]) >= {"stops", "compounds", "first_stop_window"}
        rec = r["recommended"]
        assert rec["stops"] == len(rec["compounds"]) - 1 >= 1
        a, b = rec["first_stop_window"]
        assert 1 <= a <= b
        assert 1 <= len(r["actual_top10"]) <= 10
        for t in r["actual_top10"]:
            assert set(t) >= {"driver", "stops", "compounds"} and t["stops"] == len(t["compounds"]) - 1
        assert sorted(r["replay_order"]) == sorted(r["real_order"])
        assert r["replay_spearman"] is None or -1 <= r["replay_spearman"] <= 1
        adv = r["advisor"]
        assert {"decisions", "agreement", "at_real_stops", "at_neutralisations", "mid_stint", "calls"} <= set(adv)
        for c in adv["calls"]:
            assert c["real"] in ("BOX", "STAY") and c["call"] in ("BOX_NOW", "STAY_OUT", "BOX_UNDER_SC")
    s = out["summary"]
    for k in ("races", "mean_replay_spearman", "winner_stops_match_rate", "advisor_agreement", "models"):
        assert k in s
    assert s["races"] == len(rounds)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return synthetic_env(tmp_path_factory.mktemp("bt"))[0]


def test_backtest_synthetic_season(store):
    out = backtest(store, 2023, rounds=[1, 3], opt_sims=40, replay_sims=80, advisor_sims=30)
    check_shape(out, 2023, [1, 3])
    m = out["summary"]["models"]
    assert m["source"] == "trained" and m["training_seasons"] == [2022] and m["honest"]
    # synthetic driver pace is drawn afresh for every race, so pre-race pace predicts nothing
    # here (real data: see the realdata test); the races are dry
    assert out["summary"]["dry_races"] == 2 and out["summary"]["wet_races"] == []
    monza = out["races"][0]
    assert any(c["kind"] == "neutralisation" for c in monza["advisor"]["calls"])  # SC on laps 30-33


def test_backtest_refuses_what_it_cannot_do_honestly(store):
    with pytest.raises(DataNotLoadedError, match="earlier seasons"):
        backtest(store, 2022, rounds=[1])
    with pytest.raises(InvalidRequestError, match="Stored rounds: 1, 2, 3"):
        backtest(store, 2023, rounds=[7])
    with pytest.raises(DataNotLoadedError, match="Stored seasons: 2022, 2023"):
        backtest(store, 2019)


@pytest.mark.realdata
def test_backtest_cli_two_real_races(tmp_path, data_dir, capsys):
    from f1analyzer.cli import main

    home = tmp_path / "home"
    for season in (2018, 2019):
        assert main(["--home", str(home), "ingest", str(data_dir / "laps" / f"{season}.csv.gz")]) == 0
    capsys.readouterr()
    rc = main(["--home", str(home), "backtest", "--season", "2019", "--rounds", "1,2", "--json",
               "--sims", "100", "--replay-sims", "200", "--advisor-sims", "40"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    check_shape(out, 2019, [1, 2])
    assert out["summary"]["models"]["training_seasons"] == [2018]
    assert [r["event"] for r in out["races"]] == ["Australian Grand Prix", "Bahrain Grand Prix"]
    assert out["races"][0]["actual_top10"][0]["driver"] == "BOT"
    assert out["summary"]["mean_replay_spearman"] > 0.3
