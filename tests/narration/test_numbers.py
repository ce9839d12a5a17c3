"""Every number in a narration must be supported by the facts it was given."""

from __future__ import annotations

import pytest

from f1analyzer.knowledge.index import Hit
from f1analyzer.narration import NarrationRequest
from f1analyzer.narration.numbers import check_citations, extract_numbers, unsupported_numbers


def test_extract_numbers_reads_free_and_prefixed_numbers_and_skips_citations():
    text = "Pit on lap 22 [1], finish P3 on C4 tyres, gap 1,234.5 s, 35% chance [2]; F1 rules."
    assert sorted(extract_numbers(text), key=float) == ["3", "4", "22", "35", "1234.5"]


@pytest.mark.parametrize("text", [
    "Pitting on lap 22 gives P1.4 on average.",      # exact
    "It averages P1 and the two-stop about P2.",       # rounded 1.43 → 1, 2.12 → 2
    "The two-stop is 0.7 places worse.",               # difference of positions 2.12 - 1.43
    "The P10 to P90 range covers 80% of races.",       # percentile names
    "Option 2 is the two-stop, laps 15 and 34.",       # option ordinal ignored
    "A Safety Car cuts the loss to 10–13 s [2].",      # from a source
    "In 2023 at Monza.",                               # season
])
def test_supported_numbers_pass(text, strategy_result, rule_hits):
    request = NarrationRequest(strategy_result=strategy_result, sources=rule_hits)
    assert unsupported_numbers(text, request) == []


@pytest.mark.parametrize("text,bad", [
    ("Pitting on lap 29 is best.", ["29"]),
    ("It averages P1.8.", ["1.8"]),          # no position or difference rounds to 1.8
    ("It wins 64% of races.", ["64"]),
    ("Gains 8.5 s per stop and 12.25 s in total.", ["8.5", "12.25"]),
])
def test_invented_numbers_are_reported(text, bad, strategy_result, rule_hits):
    request = NarrationRequest(strategy_result=strategy_result, sources=rule_hits)
    assert unsupported_numbers(text, request) == bad


def test_fractions_may_be_written_as_percentages():
    request = NarrationRequest(question="chance?", strategy_result={
        "strategies": [{"p_podium": 0.347}]})
    assert unsupported_numbers("A podium in 35% of races.", request) == []
    assert unsupported_numbers("A podium in 45% of races.", request) == ["45"]


def test_question_numbers_are_facts():
    hit = Hit(id="a", score=1.0, title="t", text="no numbers here")
    request = NarrationRequest(question="What about lap 17 in 2021?", sources=[hit])
    assert unsupported_numbers("On lap 17 in 2021 nothing happened [1].", request) == []


def test_citation_numbers_must_point_to_sources(rule_hits):
    assert check_citations("a [1] b [3] c [4] d [12]", rule_hits) == [4, 12]
