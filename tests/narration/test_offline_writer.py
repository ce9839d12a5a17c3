"""The offline writer: deterministic, factual, cited prose."""

from __future__ import annotations

import pytest

from f1analyzer.errors import InvalidRequestError
from f1analyzer.knowledge.index import Hit
from f1analyzer.narration import NarrationRequest, OfflineWriter, narrate_checked
from f1analyzer.narration.numbers import unsupported_numbers


def test_strategy_text_states_plan_spread_and_alternatives(strategy_result, rule_hits):
    request = NarrationRequest(strategy_result=strategy_result, sources=rule_hits)
    narration = OfflineWriter().narrate(request)
    text = narration.text
    assert narration.provider == "offline" and narration.fallback_reason is None
    assert text.startswith("VER starting P3 at the 2023 Italian Grand Prix")
    assert "one-stop (Medium → Hard), pitting on lap 22 (window laps 19–26)" in text
    assert "When classified it finishes P1.4 on average, P1 in the median race" in text
    assert "in 10% of races P1 or better, in 90% P3 or better" in text
    assert "The median race ends 2 places ahead of the grid slot." in text
    assert "two-stop (Soft → Medium → Hard) alternative, pitting on laps 15 and 34" in text
    assert "0.7 places worse" in text
    # the third plan has a better P90 than the best: the writer says so
    assert "safer bad day (in 90% of races P2 or better, against P3)" in text
    assert "P10" not in text and "P90" not in text  # nobody reads "P10" as tenth place
    assert "as the two-compound rule requires [1]." in text
    assert narration.cited_source_ids[0] == "rule:two-compound"


def test_offline_text_passes_its_own_number_check(strategy_result, rule_hits):
    request = NarrationRequest(strategy_result=strategy_result, sources=rule_hits)
    assert unsupported_numbers(OfflineWriter().narrate(request).text, request) == []


def test_offline_writer_is_deterministic(strategy_result, rule_hits):
    request = NarrationRequest(strategy_result=strategy_result, sources=rule_hits)
    assert OfflineWriter().narrate(request) == OfflineWriter().narrate(request)


def test_single_dry_compound_plan_is_flagged(rule_hits):
    result = {"driver": "HAM", "grid": 5, "strategies": [
        {"stops": 1, "compounds": ["HARD", "HARD"], "pit_laps": [30], "expected_position": 4.2,
         "p10": 3, "p50": 4, "p90": 6, "pit_windows": [[28, 32]]}]}
    text = OfflineWriter().narrate(NarrationRequest(strategy_result=result, sources=rule_hits)).text
    assert "Warning: one-stop (Hard → Hard) uses a single dry compound" in text
    assert "two-compound rule forbids in a dry race [1]." in text


def test_wet_plans_are_exempt_from_the_two_compound_warning():
    result = {"driver": "NOR", "strategies": [
        {"stops": 1, "compounds": ["INTERMEDIATE", "INTERMEDIATE"], "pit_laps": [20],
         "expected_position": 6.0}]}
    text = OfflineWriter().narrate(NarrationRequest(strategy_result=result)).text
    assert "Warning" not in text


def test_empty_strategy_list_says_so():
    text = OfflineWriter().narrate(NarrationRequest(
        strategy_result={"driver": "VER", "strategies": []}, question="best plan?")).text
    assert "no feasible strategy" in text


def test_question_answer_quotes_the_most_relevant_sentences(rule_hits):
    request = NarrationRequest(question="Does a virtual safety car pit stop save as much time?",
                               sources=rule_hits)
    narration = OfflineWriter().narrate(request)
    assert "A pit stop under a VSC saves less than under a full Safety Car" in narration.text
    assert "rule:virtual-safety-car" in narration.cited_source_ids
    # the "Sources:" line lists the cited sources only (the two-compound note is not one)
    sources_line = narration.text.rsplit("\n\n", 1)[1]
    assert sources_line.startswith("Sources: ") and "[3] Virtual Safety Car" in sources_line
    assert "Two-compound rule" not in sources_line
    assert unsupported_numbers(narration.text, request) == []


def test_question_without_sources_points_to_the_build_command():
    narration = narrate_checked(NarrationRequest(question="Who won Monza 2019?"),
                                OfflineWriter())
    assert "f1analyzer index build" in narration.text
    assert narration.cited_source_ids == ()


def test_citation_goes_before_the_full_stop():
    hit = Hit(id="x", score=1.0, title="Note", text="Undercuts work when tyres warm fast.")
    text = OfflineWriter().narrate(NarrationRequest(question="when do undercuts work",
                                                    sources=[hit])).text
    assert text.startswith("Undercuts work when tyres warm fast [1].")


def test_request_needs_a_question_or_a_result():
    with pytest.raises(InvalidRequestError):
        NarrationRequest(question="  ")


WINNER = {
    "event": "Italian Grand Prix", "season": 2024, "driver": "LEC", "grid": 1,
    "confidence": "medium",
    "confidence_reasons": ["The soft and medium fits were reordered to be physical at Monza."],
    "models_fitted_on": "seasons 2018-2023 + 2024 rounds 1-15",
    "simulation_inputs": {"pit_loss_s": 23.4, "pit_loss_sc_s": 11.2, "pit_loss_vsc_s": 16.8,
                          "tyres": {"SOFT": {"pace_offset_s": -0.42, "wear_after_10_laps_s": 0.9},
                                    "MEDIUM": {"pace_offset_s": 0.0, "wear_after_10_laps_s": 0.5},
                                    "HARD": {"pace_offset_s": 0.31, "wear_after_10_laps_s": 0.3}}},
    "strategies": [
        {"stops": 1, "compounds": ["MEDIUM", "HARD"], "pit_laps": [20], "pit_windows": [[17, 24]],
         "expected_position_if_classified": 1.12, "expected_position": 2.8, "p_win": 0.9,
         "p_podium": 0.97, "expected_points": 22.6, "p_dnf": 0.08, "position_10th_percentile": 1,
         "position_median": 1, "position_90th_percentile": 2,
         "reasons": {"pit_loss_s": 23.4, "pit_loss_per_stop_s": 23.4, "tyre_time_s": 31.5,
                     "race_time_gap_to_best_s": 0.0, "gap_to_car_ahead_s": None, "gap_to_car_behind_s": 4.1},
         "rules_applied": ["Two dry compounds are mandatory in a dry race"]},
        {"stops": 2, "compounds": ["MEDIUM", "HARD", "SOFT"], "pit_laps": [18, 40],
         "pit_windows": [[15, 21], [37, 43]], "expected_position_if_classified": 1.3,
         "p_win": 0.78, "position_10th_percentile": 1, "position_median": 1, "position_90th_percentile": 3,
         "reasons": {"pit_loss_s": 46.8, "pit_loss_per_stop_s": 23.4, "tyre_time_s": 20.2,
                     "race_time_gap_to_best_s": 3.4}},
    ],
}


def test_a_likely_winner_is_told_by_its_odds_not_by_places_lost():
    """Problem 6 of issue 11: never "an average loss of 1.8 places" for a 90 % winner."""
    request = NarrationRequest(strategy_result=WINNER)
    text = OfflineWriter().narrate(request).text
    assert "It wins 90% of simulated races" in text
    assert "loss of" not in text and "behind the grid slot" not in text
    assert "2.8" not in text  # the all-sims E[pos], dragged by retirements, is no headline
    assert "retires in 8% of races" in text
    assert unsupported_numbers(text, request) == []


def test_narrative_quotes_the_simulation_numbers_rules_and_confidence():
    """Problem 7 of issue 11: the numbers the simulation used, the rules that shaped the plan and
    why confidence is lowered; every number is supported by the result."""
    request = NarrationRequest(strategy_result=WINNER)
    text = OfflineWriter().narrate(request).text
    assert "a green-flag stop costs 23.4 s (under the Safety Car 11.2 s, under the VSC 16.8 s)" in text
    assert "Soft −0.42 s fresh, 0.90 s lost to wear after 10 laps" in text
    assert "spends 46.8 s in the pits (2 × 23.4 s) and loses 20.2 s to its tyres" in text
    assert "finishing a median 3.4 s behind the recommended plan" in text
    assert "Rules that shaped the plan: Two dry compounds are mandatory in a dry race." in text
    assert "Confidence is medium: The soft and medium fits were reordered" in text
    assert "saw seasons 2018-2023 + 2024 rounds 1-15 only" in text
    assert unsupported_numbers(text, request) == []
