"""The field's habit at the circuit in the narrative: the offline writer's sentence, the facts it
is checked against (and the LLM sees), and the number check that still rejects what they lack."""

from __future__ import annotations

import pytest

from f1analyzer.narration import NarrationRequest, OfflineWriter, narrate_checked
from f1analyzer.narration.base import Narration
from f1analyzer.narration.guard import reset_guards
from f1analyzer.narration.llm import SYSTEM_PROMPT, build_prompt
from f1analyzer.narration.numbers import unsupported_numbers
from f1analyzer.narration.strategy import narrator_input

#: the conftest's best plan is a one-stop (Medium → Hard) pitting on lap 22, window 19–26
FIELD_HISTORY = [
    {"season": 2022, "round": 14, "event": "Italian Grand Prix", "era": "2022+", "wet": False, "total_laps": 53,
     "stops": 2, "green_stops": 2, "compounds": ["SOFT", "HARD", "HARD"], "median_first_stop_lap": 14.0,
     "n_cars": 10},
    {"season": 2021, "round": 14, "event": "Italian Grand Prix", "era": "pre-2022", "wet": False,
     "total_laps": 53, "stops": 1, "green_stops": 0, "compounds": ["MEDIUM", "HARD"],
     "median_first_stop_lap": 26.0, "n_cars": 10},
]
TWO_STOP_FIELD = {"season": 2022, "round": 14, "event": "Italian Grand Prix", "field_stops": 2,
                  "field_compounds": ["SOFT", "HARD", "HARD"], "field_median_first_stop_lap": 14.0,
                  "plan_stops": 1, "plan_compounds": ["MEDIUM", "HARD"], "plan_first_stop_window": [19, 26],
                  "same_stop_count": False, "first_stop_vs_window": "before"}


@pytest.fixture
def answer(strategy_result) -> dict:
    """The conftest result as the generate answer carries it: with field_history and history_check."""
    return {**strategy_result, "field_history": FIELD_HISTORY, "history_check": dict(TWO_STOP_FIELD)}


def test_the_facts_carry_the_history_and_the_stop_difference(answer):
    facts = narrator_input(answer)
    assert facts["history_check"] == {**TWO_STOP_FIELD, "plan_stops_minus_field_stops": -1}
    # per earlier race only what a strategist compares a plan with
    assert facts["field_history"][0] == {"season": 2022, "event": "Italian Grand Prix", "wet": False, "stops": 2,
                                         "compounds": ["SOFT", "HARD", "HARD"], "median_first_stop_lap": 14.0}
    assert len(facts["field_history"]) == 2
    # the answer itself is not changed
    assert "plan_stops_minus_field_stops" not in answer["history_check"]
    without = narrator_input({k: v for k, v in answer.items() if k not in ("field_history", "history_check")})
    assert "field_history" not in without and "history_check" not in without


def test_offline_sentence_says_how_the_plan_differs_and_passes_the_number_check(answer, rule_hits):
    request = NarrationRequest(strategy_result=narrator_input(answer), sources=rule_hits)
    text = OfflineWriter().narrate(request).text
    assert ("At the 2022 Italian Grand Prix the top ten mostly made 2 stops (Soft → Hard → Hard), first stop "
            "around lap 14, before this plan's first window opens; this plan makes 1 fewer stop.") in text
    assert unsupported_numbers(text, request) == []
    # the guard is not weakened: without the history facts the sentence's numbers are unsupported
    bare = NarrationRequest(strategy_result=narrator_input(
        {k: v for k, v in answer.items() if k not in ("field_history", "history_check")}), sources=rule_hits)
    assert unsupported_numbers(text, bare) == ["2022", "14"]


def test_offline_sentence_when_the_plan_agrees_and_after_the_window(answer):
    answer["history_check"].update(field_stops=1, field_compounds=["MEDIUM", "HARD"],
                                   field_median_first_stop_lap=27.5, same_stop_count=True,
                                   first_stop_vs_window="after")
    request = NarrationRequest(strategy_result=narrator_input(answer))
    text = OfflineWriter().narrate(request).text
    assert ("the top ten mostly made 1 stop (Medium → Hard), first stop around lap 27.5, after this plan's "
            "first window closes; this plan agrees on the stop count.") in text
    assert unsupported_numbers(text, request) == []


def test_offline_sentence_for_more_stops_and_an_unknown_first_stop(answer):
    answer["history_check"].update(field_stops=0, field_compounds=["MEDIUM"], field_median_first_stop_lap=None,
                                   first_stop_vs_window=None)
    text = OfflineWriter().narrate(NarrationRequest(strategy_result=narrator_input(answer))).text
    assert "the top ten mostly made no stop (Medium); this plan makes 1 more stop." in text
    assert "around lap" not in text
    # 2023 Albert Park: every change of the top ten came in a red flag
    answer["history_check"].update(field_compounds=["MEDIUM", "HARD", "SOFT", "SOFT"])
    text = OfflineWriter().narrate(NarrationRequest(strategy_result=narrator_input(answer))).text
    assert ("mostly made no stop (Medium → Hard → Soft → Soft) (tyres changed during a red flag are free and "
            "not counted as stops)") in text


def test_offline_sentence_says_how_many_of_the_fields_stops_were_under_green(answer):
    answer["history_check"].update(field_stops=3, field_green_stops=1, field_median_first_stop_lap=14.0,
                                   field_compounds=["MEDIUM", "HARD", "HARD", "SOFT"])
    request = NarrationRequest(strategy_result=narrator_input(answer))
    text = OfflineWriter().narrate(request).text
    assert "mostly made 3 stops (1 under green flag, the rest under SC or VSC)" in text
    assert "red flag" not in text
    assert unsupported_numbers(text, request) == []
    answer["history_check"].update(field_green_stops=3)
    assert "under green flag" not in OfflineWriter().narrate(NarrationRequest(strategy_result=narrator_input(answer))).text


def test_no_history_no_sentence(strategy_result):
    text = OfflineWriter().narrate(NarrationRequest(strategy_result=narrator_input(
        {**strategy_result, "field_history": [], "history_check": None}))).text
    assert "top ten" not in text


def test_the_llm_prompt_lists_the_history(answer):
    prompt = build_prompt(NarrationRequest(strategy_result=narrator_input(answer)))
    assert '"history_check"' in prompt and '"plan_stops_minus_field_stops": -1' in prompt
    assert '"field_history"' in prompt and '"median_first_stop_lap": 14.0' in prompt
    assert "field_history" in SYSTEM_PROMPT and "history_check" in SYSTEM_PROMPT


class _Scripted:
    """An LLM narrator that writes a given text (the number check is what is tested)."""

    name = "scripted"

    def __init__(self, text: str):
        self.text = text

    def narrate(self, request: NarrationRequest) -> Narration:
        return Narration(text=self.text, provider=self.name, cited_source_ids=[])


@pytest.fixture
def guards():
    reset_guards()
    yield
    reset_guards()


def test_an_llm_may_quote_the_history_but_not_invent_it(answer, guards):
    request = NarrationRequest(strategy_result=narrator_input(answer))
    quoted = ("The plan one-stops, pitting on lap 22; at the 2022 Italian Grand Prix the top ten made 2 stops "
              "and first stopped around lap 14, so this plan makes 1 fewer stop.")
    assert narrate_checked(request, _Scripted(quoted)).provider == "scripted"
    invented = quoted.replace("around lap 14", "around lap 11")
    fell_back = narrate_checked(request, _Scripted(invented))
    assert fell_back.provider == "offline" and fell_back.fallback_reason == "unsupported numbers: 11"
    assert "At the 2022 Italian Grand Prix the top ten mostly made 2 stops" in fell_back.text
