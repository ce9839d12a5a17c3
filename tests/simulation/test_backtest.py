"""Backtest: JSON shape on the synthetic store, and via the CLI on two real races (realdata)."""

from __future__ import annotations

import json

import pytest

from f1analyzer.errors import DataNotLoadedError, InvalidRequestError
from f1analyzer.simulation.backtest import backtest, history_baseline, modal_match, modal_plan, winner_brier
from f1analyzer.simulation.scenario.field_plans import venue_history
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
            assert set(t) >= {"driver", "stops", "compounds", "red_flag_changes"}
            assert t["stops"] + t["red_flag_changes"] == len(t["compounds"]) - 1
        assert sorted(r["replay_order"]) == sorted(r["real_order"])
        assert r["replay_spearman"] is None or -1 <= r["replay_spearman"] <= 1
        assert r["replay_spearman_classified"] is None or -1 <= r["replay_spearman_classified"] <= 1
        adv = r["advisor"]
        assert {"decisions", "agreement", "at_real_stops", "at_neutralisations", "mid_stint", "calls"} <= set(adv)
        for c in adv["calls"]:
            assert c["real"] in ("BOX", "STAY") and c["call"] in ("BOX_NOW", "STAY_OUT", "BOX_UNDER_SC")
            assert c["decided_by"] in ("simulation", "field_history") and isinstance(c["too_close_to_call"], bool)
            assert c["decided_by"] == "simulation" or (c["too_close_to_call"] and c["field_box_rate"] is not None)
    s = out["summary"]
    for k in ("races", "mean_replay_spearman", "winner_stops_match_rate", "advisor_agreement", "models",
              "modal_stop_count_match_rate", "modal_compound_sequence_in_top3_rate",
              "modal_first_stop_in_window_rate", "mean_replay_spearman_dry", "replay_winner_brier",
              "advisor_neutralisation_agreement", "modal_green_stop_count_match_rate",
              "mean_replay_spearman_classified_dry", "advisor_neutralisation_too_close_dry",
              "advisor_neutralisation_decided_by_field_dry", "field_history_neutralisation_agreement_dry",
              "modal_planned_stop_count_match_rate", "modal_stop_count_is_planned_rate"):
        assert k in s
    assert 0 <= s["advisor_neutralisation_decided_by_field_dry"] <= s["advisor_neutralisation_too_close_dry"]
    for k in ("modal_stop_count_match_rate", "modal_compound_sequence_in_top3_rate",
              "modal_first_stop_in_window_rate", "advisor_neutralisation_agreement",
              "modal_green_stop_count_match_rate", "modal_planned_stop_count_match_rate",
              "modal_stop_count_is_planned_rate"):
        assert s[k] is None or 0 <= s[k] <= 1
    assert s["replay_winner_brier"] is None or 0 <= s["replay_winner_brier"] <= 2
    assert s["models"]["data_used"]["physical_models"].endswith(f"(all before {season})") or \
        s["models"]["source"] != "trained"
    for r in out["races"]:
        assert 1 <= len(r["recommended"]["top3"]) <= 3
        assert set(r["modal_match"]) == {"stop_count", "compound_sequence_in_top3", "first_stop_in_window",
                                         "green_stop_count", "planned_stop_count"}
        assert all(0 <= t["green_stops"] <= t["stops"] for t in r["actual_top10"])
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
    # the naive forecast: each race as the circuit's 2022 race went, scored on the same races
    for r in out["races"]:
        base = r["history_baseline"]
        assert base["race"]["season"] == 2022 and base["race"]["event"] == r["event"]
        assert set(base["match"]) == set(r["modal_match"])
    s = out["summary"]
    assert s["history_baseline_races"] == 2
    for k in ("history_baseline_stop_count_match_rate", "history_baseline_compound_sequence_rate",
              "history_baseline_first_stop_in_window_rate"):
        assert s[k] is None or 0 <= s[k] <= 1
    assert set(s["modal_rates_on_history_baseline_races"]) == {"stop_count", "compound_sequence_in_top3",
                                                              "first_stop_in_window"}
    monza = out["races"][0]
    neut = [c for c in monza["advisor"]["calls"] if c["kind"] == "neutralisation"]
    assert neut  # SC on laps 30-33
    # every call at a SC start is compared with what most of the top 10 did on that lap
    assert all(c["majority"] in ("BOX", "STAY", None) for c in neut)
    n = sum(c["agree_majority"] is not None for r in out["races"] for c in r["advisor"]["calls"]
            if c["kind"] == "neutralisation")
    assert out["summary"]["advisor_neutralisation_decisions"] == n
    # both races are dry: the dry-race rate is the rate, and every decision was priced
    assert out["summary"]["advisor_neutralisation_decisions_dry"] == n
    assert out["summary"]["advisor_neutralisation_agreement_dry"] == out["summary"]["advisor_neutralisation_agreement"]
    assert out["summary"]["advisor_decisions_not_priced"] == 0


def plan(driver, stops, compounds, first=None):
    return {"driver": driver, "stops": stops, "compounds": compounds, "first_stop_lap": first}


def test_modal_plan_is_the_top10s_most_common_and_ties_go_to_the_better_placed():
    top = [plan("A", 2, ["M", "H", "H"], 15), plan("B", 1, ["M", "H"], 20), plan("C", 1, ["M", "H"], 24),
           plan("D", 2, ["S", "H", "H"], 11), plan("E", 1, ["H", "M"], 30)]
    m = modal_plan(top)
    # three one-stoppers; the median first stop of those three: laps 20, 24, 30 -> 24
    assert m["stops"] == 1 and m["median_first_stop_lap"] == 24.0
    # every sequence once but M-H twice: M-H
    assert m["compounds"] == ["M", "H"]
    tie = modal_plan([plan("A", 2, ["M", "H", "H"], 15), plan("B", 1, ["M", "H"], 20)])
    assert tie["stops"] == 2 and tie["compounds"] == ["M", "H", "H"]  # the winner's plan breaks the tie
    assert modal_plan([])["stops"] is None
    # the planned count: green-flag stops, at least one (a stop under SC on lap 12, then green)
    sc = [{**plan("A", 2, ["M", "H", "H"], 12), "green_stops": 1}, {**plan("B", 2, ["M", "H", "M"], 12), "green_stops": 1},
          {**plan("C", 1, ["M", "H"], 30), "green_stops": 1}, {**plan("D", 1, ["M", "H"], 12), "green_stops": 0}]
    assert modal_plan(sc)["stops"] == 2 and modal_plan(sc)["green_stops"] == 1 and modal_plan(sc)["planned_stops"] == 1


def test_modal_match_reads_best_option_top3_and_window():
    m = {"stops": 1, "compounds": ["MEDIUM", "HARD"], "median_first_stop_lap": 22.0}
    opts = [{"stops": 1, "compounds": ["HARD", "MEDIUM"], "first_stop_window": [18, 23]},
            {"stops": 2, "compounds": ["MEDIUM", "HARD", "HARD"], "first_stop_window": [12, 16]},
            {"stops": 1, "compounds": ["MEDIUM", "HARD"], "first_stop_window": [20, 25]},
            {"stops": 1, "compounds": ["SOFT", "HARD"], "first_stop_window": [10, 14]}]
    assert modal_match(m, opts) == {"stop_count": True, "compound_sequence_in_top3": True,
                                    "first_stop_in_window": True, "green_stop_count": None,
                                    "planned_stop_count": None}
    # the planned part: two stops in all, one of them under a SC
    assert modal_match({**m, "stops": 2, "green_stops": 1}, opts)["green_stop_count"] is True
    assert modal_match({**m, "stops": 2, "planned_stops": 1}, opts)["planned_stop_count"] is True
    assert modal_match(m, opts[1:2] + opts[3:])["compound_sequence_in_top3"] is False
    assert modal_match({**m, "median_first_stop_lap": 24.0}, opts)["first_stop_in_window"] is False
    assert modal_match({**m, "median_first_stop_lap": None}, opts)["first_stop_in_window"] is None


def test_winner_brier():
    rows = [{"driver": "A", "p_win": 0.7}, {"driver": "B", "p_win": 0.3}, {"driver": "C", "p_win": 0.0}]
    assert winner_brier(rows, "A") == pytest.approx(0.3 ** 2 + 0.3 ** 2)
    assert winner_brier(rows, "C") == pytest.approx(0.49 + 0.09 + 1)
    assert winner_brier(rows, None) is None


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


def test_history_baseline_is_the_circuits_last_dry_race_at_the_same_window_width(store):
    prev = venue_history(store, "monza", 2023, 1)[0]
    assert prev["season"] == 2022 and prev["median_first_stop_lap"] is not None
    med = prev["median_first_stop_lap"]
    modal = {"stops": prev["stops"], "compounds": prev["compounds"], "median_first_stop_lap": med + 3,
             "green_stops": prev["green_stops"]}
    out = history_baseline(store, "monza", 2023, 1, modal, [20, 26])
    lo, hi = out["plan"]["first_stop_window"]
    assert hi - lo == 6 and lo <= med <= hi and abs((lo + hi) / 2 - med) <= 0.5
    assert out["plan"]["stops"] == prev["stops"] and out["plan"]["compounds"] == prev["compounds"]
    assert out["match"]["stop_count"] and out["match"]["compound_sequence_in_top3"]
    assert out["match"]["first_stop_in_window"]  # 3 laps later: inside a 6-lap window around it
    far = history_baseline(store, "monza", 2023, 1, {**modal, "median_first_stop_lap": med + 9}, [20, 26])
    assert far["match"]["first_stop_in_window"] is False
    # nothing earlier stored: no baseline
    assert history_baseline(store, "monza", 2022, 1, modal, [20, 26]) is None


def test_backtest_asof_runs_each_race_on_the_models_of_its_pre_race_answer(store, tmp_path, monkeypatch):
    monkeypatch.setenv("F1A_HOME", str(tmp_path / "home"))
    from f1analyzer.config import get_settings

    get_settings.cache_clear()
    try:
        out = backtest(store, 2023, rounds=[3], models_from="asof", opt_sims=40, replay_sims=80, advisor=False)
        s = out["summary"]
        assert s["models"]["source"] == "as_of" and s["models"]["honest"]
        used = out["races"][0]["data_used"]
        # round 3 of 2023: everything of 2022 and rounds 1-2 of 2023, never round 3 itself
        assert "2023" in used["physical_models"] and used["honest"] and used["cutoff"] == {"season": 2023, "round": 3}
        assert list((tmp_path / "home").rglob("2023-03-*.json"))  # the as-of set a pre-race answer reuses
    finally:
        get_settings.cache_clear()


def test_a_tyre_change_under_a_red_flag_is_no_pit_stop_in_the_field_plans():
    import numpy as np
    import pandas as pd
    from types import SimpleNamespace

    from f1analyzer.simulation.scenario.field_plans import pit_stops_only, plans_in_order

    # 2023 Interlagos in small: a red flag on lap 2 (every car changes tyres), then real stops
    stints = pd.DataFrame([("A", 1, "SOFT"), ("A", 2, "SOFT"), ("A", 3, "MEDIUM"),
                           ("B", 1, "SOFT"), ("B", 2, "MEDIUM")], columns=["driver", "stint", "compound"])
    race = SimpleNamespace(
        stints=stints, results=pd.DataFrame({"driver": ["A", "B"], "finished": [True, True]}),
        pit_stops=pd.DataFrame({"season": 2023, "round": 20, "driver": ["A", "A", "B"], "lap": [2, 26, 27],
                                "under_red_flag": [True, False, False]}))
    stops = {"A": [(2, "SOFT"), (26, "MEDIUM")], "B": [(27, "MEDIUM")]}
    assert pit_stops_only(race, stops) == {"A": [(26, "MEDIUM")], "B": [(27, "MEDIUM")]}
    plans = plans_in_order(race, stops, np.zeros(40, dtype=np.int8))
    assert plans[0] == {"driver": "A", "stops": 1, "green_stops": 1, "compounds": ["SOFT", "SOFT", "MEDIUM"],
                        "first_stop_lap": 26, "red_flag_changes": 1}
    assert modal_plan(plans)["stops"] == 1 and modal_plan(plans)["median_first_stop_lap"] == 26.5
    no_red = SimpleNamespace(**{**vars(race), "pit_stops": race.pit_stops.assign(under_red_flag=False)})
    assert plans_in_order(no_red, stops, np.zeros(40, dtype=np.int8))[0]["stops"] == 2


@pytest.mark.realdata
def test_real_red_flag_races_count_pit_stops_only(data_dir, tmp_path):
    from f1analyzer.data.session import Race
    from f1analyzer.data.store import RaceStore
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.simulation.scenario.field_plans import race_modal_plan
    from f1analyzer.simulation.scenario.replay import red_flag_laps

    store = RaceStore(tmp_path / "store")
    ingest_files([data_dir / "laps" / "2023.csv.gz"], store)
    # Interlagos: the lap-2 suspension's changes are no stops; the top ten two-stopped from lap ~26
    m = race_modal_plan(Race(2023, 20, store=store))
    assert m["stops"] == 2 and m["median_first_stop_lap"] >= 20
    # Albert Park: every change of the top ten came in one of its red flags, and a replay charges
    # those changes nothing
    assert race_modal_plan(Race(2023, 3, store=store))["stops"] == 0
    assert red_flag_laps(Race(2023, 3, store=store)) == [8, 54, 55, 57]
    assert red_flag_laps(Race(2023, 20, store=store)) == [2]
