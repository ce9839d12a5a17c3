"""The plain-data service functions (what the API, CLI and Lambda call), on the synthetic store."""

from __future__ import annotations

import json

import pytest

from f1analyzer.errors import InvalidRequestError, NotFoundError
from f1analyzer.app import strategy as sv
from tests.models.test_fit_race_models import TOTAL_LAPS
from tests.factories import model_set, strategy_env

DRY = {"SOFT", "MEDIUM", "HARD"}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    store, models = strategy_env(tmp_path_factory.mktemp("svc"))
    return {"models": models, "store": store}


def _legal(s: dict, total_laps: int) -> None:
    assert len(set(s["compounds"]) & DRY) >= 2
    assert s["stops"] == len(s["pit_laps"]) == len(s["compounds"]) - 1 == len(s["pit_windows"])
    assert all(1 <= lap <= total_laps - 1 for lap in s["pit_laps"])
    assert s["pit_laps"] == sorted(s["pit_laps"])
    for lap, (a, b) in zip(s["pit_laps"], s["pit_windows"]):
        assert a <= lap <= b


def test_generate_strategy_shape_and_legality(env):
    out = sv.generate_strategy({"season": 2023, "event": "Monza", "driver": "d05", "grid": 4, "top_k": 3,
                                "n_sims": 80}, **env)
    json.dumps(out, allow_nan=False)
    assert (out["season"], out["round"], out["event"], out["circuit_key"]) == (2023, 1, "Italian Grand Prix", "monza")
    assert (out["driver"], out["grid"], out["total_laps"]) == ("D05", 4, TOTAL_LAPS)
    assert out["narrative"] is None and out["sources"] == [] and out["provider"] is None
    assert 1 <= len(out["strategies"]) <= 3
    assert [s["rank"] for s in out["strategies"]] == list(range(1, len(out["strategies"]) + 1))
    exp = [s["expected_position"] for s in out["strategies"]]
    assert exp == sorted(exp)
    for s in out["strategies"]:
        _legal(s, TOTAL_LAPS)
        edges = [0, *s["pit_laps"], TOTAL_LAPS]
        assert min(b - a for a, b in zip(edges[:-1], edges[1:])) >= sv.MIN_STINT_LAPS
        assert s["position_10th_percentile"] <= s["position_median"] <= s["position_90th_percentile"]
        assert s["race_time_10th_percentile_s"] <= s["race_time_median_s"] <= s["race_time_90th_percentile_s"]
        assert not any(k.startswith("position_p") for k in s)  # nobody reads "P10" as tenth place
        assert 0 <= s["p_win"] <= s["p_podium"] <= 1 and 0 <= s["p_dnf"] <= 1
        assert 0 <= s["expected_points"] <= 25
        # the headline leaves retirements out: never worse than the all-sims expectation
        assert s["expected_position_if_classified"] <= s["expected_position"] + 1e-9
        r = s["reasons"]
        assert r["pit_loss_s"] == pytest.approx(s["stops"] * r["pit_loss_per_stop_s"], abs=0.02)
        assert r["tyre_time_s"] is not None and all(isinstance(x, str) for x in s["rules_applied"])
        assert sum(s["position_histogram"].values()) == pytest.approx(1.0, abs=1e-3)
        assert 0 <= s["p_gain_positions"] <= 1
        assert set(s["robustness"]["expected_position_by_sc_start"]) == {"early", "middle", "late"}


def test_generate_defaults_to_pole_sitter_and_is_reproducible(env):
    a = sv.generate_strategy({"season": 2023, "event": 2, "n_sims": 50}, **env)
    b = sv.generate_strategy({"season": 2023, "event": "bahrain", "n_sims": 50}, **env)
    assert a["grid"] == 1 and a["driver"] == b["driver"]
    assert a["strategies"] == b["strategies"]


@pytest.mark.parametrize("req, err, words", [
    ({"season": 2023, "event": "Atlantis"}, NotFoundError, ["Races of 2023", "Italian Grand Prix"]),
    ({"season": 2023, "event": "Monza", "driver": "XYZ"}, NotFoundError, ["D00", "D19"]),
    ({"season": 2023, "event": "Monza", "driver": "D01", "grid": 0}, InvalidRequestError, ["grid", "1"]),
    ({"season": 2023, "event": "Monza", "driver": "D01", "grid": 21}, InvalidRequestError, ["valid slots are 1..20"]),
    ({"season": 2023}, InvalidRequestError, ["event is required"]),
    ({"season": 2023, "event": "Monza", "n_sims": 2001}, InvalidRequestError, ["n_sims", "2000"]),
])
def test_generate_bad_requests_name_valid_options(env, req, err, words):
    with pytest.raises(err) as e:
        sv.generate_strategy(req, **env)
    for w in words:
        assert w in e.value.message


def test_batch_builds_each_race_once(env):
    out = sv.generate_batch([
        {"season": 2023, "event": "Monza", "driver": "D01", "n_sims": 40},
        {"season": 2023, "event": "monza", "driver": "D02", "grid": 10, "n_sims": 40},
        {"season": 2023, "event": "Bahrain", "n_sims": 40},
    ], **env)
    assert out["count"] == 3 and out["races_built"] == 2
    assert [r["driver"] for r in out["results"][:2]] == ["D01", "D02"] and out["results"][1]["grid"] == 10
    single = sv.generate_strategy({"season": 2023, "event": "Monza", "driver": "D01", "n_sims": 40}, **env)
    assert single["strategies"] == out["results"][0]["strategies"]
    with pytest.raises(NotFoundError, match=r"requests\[1\]"):
        sv.generate_batch([{"season": 2023, "event": "Monza"}, {"season": 2023, "event": "Monza",
                                                                 "driver": "ZZZ"}], **env)


def test_simulate_strategies(env):
    req = {"season": 2023, "event": "Monza", "n_sims": 200, "seed": 2, "strategies": [
        {"driver": "D00", "start_compound": "MEDIUM", "stops": [{"lap": 20, "compound": "HARD"}]},
        {"driver": "D01", "start_compound": "SOFT", "stops": [{"lap": 12, "compound": "HARD"},
                                                             {"lap": 32, "compound": "SOFT"}]}]}
    out = sv.simulate_strategies(req, **env)
    rows = {r["driver"]: r for r in out["drivers"]}
    assert len(rows) == 20 and rows["D00"]["given"] and rows["D00"]["strategy"] == "M-20-H"
    assert rows["D01"]["strategy"] == "S-12-H-32-S" and not rows["D05"]["given"]
    for r in rows.values():
        assert sum(r["position_histogram"].values()) == pytest.approx(1.0, abs=1e-3)
        q = r["race_time_quantiles_s"]
        assert q["p10"] <= q["p50"] <= q["p90"]
    one = {**req, "strategies": [{"driver": "D00", "start_compound": "MEDIUM",
                                  "stops": [{"lap": 20, "compound": "MEDIUM"}]}]}
    with pytest.raises(InvalidRequestError, match="two different dry compounds.*SOFT, HARD"):
        sv.simulate_strategies(one, **env)
    late = {**req, "strategies": [{"driver": "D00", "start_compound": "MEDIUM",
                                   "stops": [{"lap": 60, "compound": "HARD"}]}]}
    with pytest.raises(InvalidRequestError, match=r"within 1\.\.49"):
        sv.simulate_strategies(late, **env)


def test_live_advice_from_stored_state_and_overrides(env):
    out = sv.live_advice({"season": 2023, "event": "Monza", "lap": 25, "driver": "D04", "compound": "MEDIUM",
                          "tyre_age_laps": 24, "stops": 0, "track_status": "sc", "n_sims": 60}, **env)
    assert out["call"] in ("BOX_NOW", "STAY_OUT", "BOX_UNDER_SC")
    assert out["state_source"] == "stored+request" and out["track_status"] == "sc"
    assert out["state"]["compound"] == "MEDIUM" and out["state"]["tyre_age_laps"] == 24
    if out["call"] != "STAY_OUT":
        assert out["call"] == "BOX_UNDER_SC" and out["best_compound"] in DRY
    labels = {o["label"] for o in out["options"]}
    assert "STAY_OUT" in labels and labels & {"BOX_SOFT", "BOX_HARD"}
    # a future race: synthetic field; the driver's position and gap are honoured
    fut = sv.live_advice({"season": 2024, "event": "Monza", "lap": 10, "driver": "D04", "compound": "SOFT",
                          "tyre_age_laps": 10, "position": 3, "gap_to_leader_s": 2.5, "n_sims": 40}, **env)
    assert fut["state_source"] == "request" and fut["current_position"] == 3
    assert fut["state"]["gap_to_leader_s"] == pytest.approx(2.5)
    with pytest.raises(InvalidRequestError, match=r"valid laps are 1\.\.49"):
        sv.live_advice({"season": 2023, "event": "Monza", "lap": 70, "driver": "D04"}, **env)
    with pytest.raises(InvalidRequestError, match="track_status: Input should be 'green', 'sc', 'vsc' or 'red'"):
        sv.live_advice({"season": 2023, "event": "Monza", "lap": 5, "driver": "D04", "track_status": "yellow"}, **env)


def test_undercut_calc(env):
    out = sv.undercut_calc({"season": 2023, "event": "Bahrain", "lap": 15, "driver": "D03", "rival": "D07",
                            "gap_s": 1.2, "tyre_age_laps": 15, "rival_tyre_age_laps": 15,
                            "current_compound": "MEDIUM", "rival_current_compound": "MEDIUM", "n_sims": 40}, **env)
    assert out["gap_s"] == pytest.approx(1.2, abs=0.3) and out["pit_lap"] == 16
    assert len(out["gain_per_lap_s"]) == len(out["margin_s"]) == 8
    assert out["works"] == (out["works_after_laps"] is not None)
    if out["works"]:
        assert out["undercut_lap"] == out["pit_lap"] + out["works_after_laps"]
    assert 0 <= out["mc_prob_ahead_box"] <= 1
    with pytest.raises(InvalidRequestError, match="cannot undercut itself"):
        sv.undercut_calc({"season": 2023, "event": "Bahrain", "lap": 15, "driver": "D03", "rival": "d03"}, **env)


def test_attach_narrative_seam_and_custom_narrator(env):
    def narrate(result):
        best = result["strategies"][0]
        return {**result, "narrative": f"{result['driver']}: {best['strategy']}", "provider": "test"}

    out = sv.generate_strategy({"season": 2023, "event": "Monza", "n_sims": 30}, narrate=narrate, **env)
    assert out["provider"] == "test" and out["narrative"].startswith(out["driver"])
    assert sv.attach_narrative({"x": 1}) == {"x": 1, "narrative": None, "sources": [], "provider": None}


def test_strategy_engine_ok(env):
    from f1analyzer.models.loading import ModelSet
    from f1analyzer.models.race_models import RaceModels

    assert sv.strategy_engine_ok(ModelSet(race_models=env["models"], source="test", version="t")) is True
    # a model set whose race models were never fitted
    assert sv.strategy_engine_ok(ModelSet(race_models=RaceModels(), source="test")) is False


def test_answers_carry_the_model_set_version(env):
    ms = model_set(env["models"], version="v-42")
    out = sv.generate_strategy({"season": 2023, "event": "Monza", "n_sims": 20}, models=ms, store=env["store"])
    assert out["model"]["version"] == "v-42"

@pytest.mark.realdata
def test_monza_2024_front_row_headline_and_narrative(data_dir, tmp_path):
    """Issue 11, problems 5-7 on the real race: the pre-race answer uses models fitted before the
    race; the headline is E[pos] if classified with the retirement risk apart (not a P5.8 for a
    front-row starter whose median is P4); the narrative never speaks of an average loss of places
    for a likely winner and quotes only numbers the simulation used."""
    from f1analyzer.data.files import read_lap_file
    from f1analyzer.data.ingest import store_laps
    from f1analyzer.data.store import RaceStore
    from f1analyzer.models.bundled import load_bundled_models
    from f1analyzer.narration import NarrationRequest
    from f1analyzer.narration.numbers import unsupported_numbers
    from f1analyzer.narration.strategy import narrate_strategy, narrator_input

    store = RaceStore(tmp_path / "store")
    for season in (2023, 2024):
        laps, _ = read_lap_file(data_dir / "laps" / f"{season}.csv.gz", season=season)
        store_laps(store, laps[laps["round"] <= (16 if season == 2024 else 99)].reset_index(drop=True),
                   season=season, source="test")
    out = sv.generate_strategy({"season": 2024, "event": "Monza", "n_sims": 150},  # the lap-1 leader
                               models=load_bundled_models(), store=store)
    assert out["grid"] == 1 and out["round"] == 16
    assert out["model"]["data_used"]["models_fitted_on"] == "seasons 2023 + 2024 rounds 1-15"
    best = out["strategies"][0]
    assert best["expected_position_if_classified"] <= best["position_median"] + 1
    assert best["expected_position_if_classified"] <= best["expected_position"]
    assert 0 < best["p_dnf"] < 0.5
    story = narrate_strategy(out)
    text = story["narrative"]
    assert "loss of" not in text and "P10" not in text and "P90" not in text
    assert f"a green-flag stop costs {out['simulation_inputs']['pit_loss_s']:g} s" in text
    assert unsupported_numbers(text, NarrationRequest(strategy_result=narrator_input(out))) == []
