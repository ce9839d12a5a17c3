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
    assert "P1.4 on average" in text and "between P1 and P3 in 80% of simulated races" in text
    assert "average gain of 1.6 places" in text
    assert "two-stop (Soft → Medium → Hard) alternative, pitting on laps 15 and 34" in text
    assert "0.7 places worse" in text
    # the third plan has a better P90 than the best: the writer says so
    assert "safer bad day (P90 P2 against P3)" in text
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
