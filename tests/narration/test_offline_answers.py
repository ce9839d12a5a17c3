"""The offline writer answers the question asked, from the documents the question names.

Race and season passages are written by the real writers (:mod:`f1analyzer.knowledge.writers`)
from small hand-made facts, so the tests follow the wording the knowledge base really uses.
"""

from __future__ import annotations

import re

import pytest

from f1analyzer.knowledge.documents import Document, rule_documents
from f1analyzer.knowledge.index import Hit
from f1analyzer.knowledge.writers import race_document, season_documents
from f1analyzer.narration import NarrationRequest, OfflineWriter, narrate_checked
from f1analyzer.narration.base import citation_numbers
from f1analyzer.narration.numbers import extract_numbers, unsupported_numbers
from f1analyzer.narration.offline_answer import split_sentences

TEAMS = {"OCO": "Alpine", "VET": "Aston Martin", "HAM": "Mercedes", "SAI": "Ferrari",
         "VER": "Red Bull Racing", "PIA": "McLaren", "NOR": "McLaren", "RAI": "Ferrari",
         "BOT": "Mercedes"}


def _facts(season: int, rnd: int, order: list[str], plans: dict, *, sc=(), red=(),
           moves=(), lap1_leader=None) -> dict:
    """Facts of one Hungarian Grand Prix: ``plans`` = driver → [(compound, start, end, kind)]."""
    stints, stops = {}, {}
    for d, plan in plans.items():
        stints[d] = [[c, a, b] for c, a, b, _ in plan]
        stops[d] = [[b, c, plan[i + 1][0], plan[i][3]] for i, (c, a, b, _) in
                    enumerate(plan[:-1])]
    return {"season": season, "round": rnd, "event": "Hungarian Grand Prix",
            "circuit": "hungaroring", "total_laps": 70,
            "results": [[p, d, TEAMS[d], 70, True] for p, d in enumerate(order, start=1)],
            "stints": stints, "stops": stops,
            "phases": {"sc": [list(r) for r in sc], "vsc": [], "red": [list(r) for r in red]},
            "moves": list(moves), "start_compounds": {"MEDIUM": len(order)},
            "lap1_leader": lap1_leader or order[0], "wet": False}


HUNGARY_2021 = _facts(
    2021, 11, ["OCO", "VET", "HAM"],
    {"OCO": [("INTERMEDIATE", 1, 2, "red"), ("MEDIUM", 3, 37, "green"), ("HARD", 38, 70, "")],
     "VET": [("INTERMEDIATE", 1, 2, "red"), ("MEDIUM", 3, 36, "green"), ("HARD", 37, 70, "")],
     "HAM": [("INTERMEDIATE", 1, 4, "green"), ("MEDIUM", 5, 19, "green"),
             ("HARD", 20, 47, "green"), ("MEDIUM", 48, 70, "")]},
    sc=[(1, 2)], red=[(2, 2)], lap1_leader="HAM",
    moves=[{"kind": "undercut", "driver": "HAM", "rival": "VER", "driver_lap": 19,
            "rival_lap": 20, "from_position": 11, "to_position": 10}])
HUNGARY_2018 = _facts(2018, 12, ["HAM", "VET", "RAI"],
                      {"HAM": [("ULTRASOFT", 1, 25, "green"), ("SOFT", 26, 70, "")],
                       "VET": [("SOFT", 1, 39, "green"), ("ULTRASOFT", 40, 70, "")],
                       "RAI": [("ULTRASOFT", 1, 14, "green"), ("SOFT", 15, 70, "")]})
HUNGARY_2024 = _facts(2024, 13, ["PIA", "NOR", "HAM"],
                      {"PIA": [("MEDIUM", 1, 17, "green"), ("HARD", 18, 45, "green"),
                               ("HARD", 46, 70, "")],
                       "NOR": [("MEDIUM", 1, 16, "green"), ("HARD", 17, 44, "green"),
                               ("HARD", 45, 70, "")],
                       "HAM": [("MEDIUM", 1, 15, "green"), ("HARD", 16, 40, "green"),
                               ("MEDIUM", 41, 70, "")]})

HUNGARORING = Document(
    id="circuit:hungaroring", kind="circuit", circuit="hungaroring",
    event="Hungarian Grand Prix", drivers=("HAM", "OCO", "PIA"),
    title="Hungaroring circuit profile — pit loss, tyre degradation, Safety Car, overtaking",
    text="Hungaroring (Budapest, Hungary) is the circuit of the Hungarian Grand Prix. Strategy "
         "profile fitted on 7 races (2018, 2019, 2020, 2021, 2022, 2023 and 2024); a race is about "
         "70 laps. Pit stop cost: a green-flag stop loses about 21.8 s against staying out (spread "
         "2.3 s, from 216 stops); under the Safety Car it costs about 18.7 s and under a Virtual "
         "Safety Car about 17 s; the pit-lane transit takes 21.9 s. Overtaking is hard here: a car "
         "needs about 1.9 s per lap of pace advantage for an even chance to pass. Winning "
         "strategies here: 2018 Hamilton (one-stop, Ultrasoft → Soft); 2021 Ocon (three-stop, "
         "Intermediate → Intermediate → Medium → Hard); 2024 Piastri (two-stop, Medium → Hard → "
         "Hard).")


def _hit(doc: Document, rank: int) -> Hit:
    return Hit(id=doc.id, score=1.0 - rank / 10, title=doc.title, text=doc.text,
               metadata=doc.metadata)


def _hits(*docs: Document) -> list[Hit]:
    return [_hit(d, i) for i, d in enumerate(docs)]


@pytest.fixture
def hungary_hits() -> list[Hit]:
    # the retriever's order for "Who won the 2021 Hungarian Grand Prix and why?": the right race
    # first, then the same event in other seasons and the circuit profile
    return _hits(race_document(HUNGARY_2021), race_document(HUNGARY_2018),
                 race_document(HUNGARY_2024), HUNGARORING)


def _answer(question: str, hits: list[Hit]) -> tuple[str, NarrationRequest]:
    request = NarrationRequest(question=question, sources=hits)
    narration = narrate_checked(request, OfflineWriter())
    assert narration.fallback_reason is None
    assert unsupported_numbers(narration.text, request) == []
    return narration.text, request


def _body(text: str) -> str:
    return text.split("\n\nSources:")[0]


def test_who_won_and_why_answers_from_that_season_only(hungary_hits):
    text, _ = _answer("Who won the 2021 Hungarian Grand Prix and why?", hungary_hits)
    body = _body(text)
    assert body.startswith("Ocon (OCO) won the 2021 Hungarian Grand Prix")
    assert citation_numbers(text) == [1]  # only the 2021 race summary is cited
    assert "2018" not in body and "2024" not in body and "Piastri" not in body
    # the "why": the neutralisations and the winner's strategy
    assert "Neutralisations: the Safety Car on laps 1–2; a red flag on lap 2 [1]." in body
    assert "Winner's strategy: Ocon ran Intermediate (laps 1–2)" in body
    assert 2 <= len(split_sentences(body)) <= 5
    assert text.endswith("Sources: [1] 2021 Hungarian Grand Prix — race summary (round 11).")


def test_pit_loss_question_quotes_the_pit_loss_sentence(hungary_hits):
    hits = [hungary_hits[3], *hungary_hits[:3]]
    text, _ = _answer("What is the pit loss at the Hungaroring?", hits)
    body = _body(text)
    assert body.startswith("Pit stop cost: a green-flag stop loses about 21.8 s against staying "
                           "out")
    assert body.rstrip().endswith("the pit-lane transit takes 21.9 s [1].")
    assert "won the" not in body  # no race leads
    assert citation_numbers(text) == [1]


def test_pit_loss_question_naming_a_season_still_reads_the_circuit_profile(hungary_hits):
    text, _ = _answer("How much time does a pit stop lose in Hungary in 2021?", hungary_hits)
    assert "Pit stop cost: a green-flag stop loses about 21.8 s" in text
    assert "[4]" in text and "2018 Hungarian" not in text


def test_a_named_driver_gets_his_own_sentences(hungary_hits):
    text, _ = _answer("What was Hamilton's strategy at the 2021 Hungarian Grand Prix?",
                      hungary_hits)
    body = _body(text)
    assert citation_numbers(text) == [1]
    assert "Hamilton (HAM, Mercedes, P3): Intermediate (laps 1–4) → Medium (laps 5–19)" in body
    assert "Hamilton undercut Verstappen: pitted on lap 19 from P11" in body
    # not the other drivers' strategy lines
    assert "Vettel (VET, Aston Martin, P2):" not in body


def test_a_driver_and_circuit_without_a_season_pick_the_race_he_won(hungary_hits):
    text, _ = _answer("How did Piastri win in Hungary?", hungary_hits)
    body = _body(text)
    assert body.startswith("Piastri (PIA) won the 2024 Hungarian Grand Prix")
    assert citation_numbers(text) == [3]
    assert "Winner's strategy: Piastri ran Medium (laps 1–17)" in body
    assert "Ocon" not in body


def test_winner_line_and_winner_strategy_are_not_both_quoted(hungary_hits):
    text, _ = _answer("Who won the 2021 Hungarian Grand Prix?", hungary_hits)
    assert "Winner's strategy: Ocon ran" in text
    assert "Ocon (OCO, Alpine, P1):" not in text


def test_season_question_answers_from_the_season_summary():
    facts = [HUNGARY_2018, HUNGARY_2021, HUNGARY_2024]
    seasons = {d.season: d for d in season_documents(facts)}
    hits = _hits(race_document(HUNGARY_2021), seasons[2018], seasons[2021])
    text, _ = _answer("Who won the most races in 2018?", hits)
    assert citation_numbers(text) == [2]
    assert "Hamilton (HAM) won the most races, 1 [2]." in text


def test_numbers_in_the_answer_all_come_from_the_sources(hungary_hits):
    for question in ("Who won the 2021 Hungarian Grand Prix and why?",
                     "What is the pit loss at the Hungaroring?",
                     "What was Hamilton's strategy at the 2021 Hungarian Grand Prix?"):
        text, request = _answer(question, hungary_hits)
        source_text = " ".join(f"{h.title} {h.text}" for h in request.sources)
        source_numbers = set(extract_numbers(source_text))
        assert set(extract_numbers(text)) <= source_numbers, question


def test_a_season_the_sources_do_not_cover_is_said_plainly(hungary_hits):
    text, _ = _answer("Who won the 2022 Hungarian Grand Prix?", hungary_hits)
    assert text.startswith("None of the retrieved passages is about the 2022 season, Hungaroring;")
    assert "the closest one, 2021 Hungarian Grand Prix — race summary (round 11) [1], begins: " \
           "Ocon (OCO) won" in text


def test_nothing_matching_says_so_and_quotes_the_best_lead():
    hit = Hit(id="x", score=1.0, title="Note", text="Undercuts work when tyres warm fast. "
              "Overcuts work on high-degradation tracks.")
    text = OfflineWriter().question_text("Which team has the best pit crew?", [hit])
    assert text.startswith("None of the retrieved passages answers this directly; the closest "
                           "one, Note [1], begins: Undercuts work when tyres warm fast [1].")


def test_general_question_reads_the_rule_notes_first():
    by_id = {d.id: d for d in rule_documents()}
    hits = _hits(by_id["rule:safety-car-pit-loss"], race_document(HUNGARY_2021),
                 by_id["rule:virtual-safety-car"])
    text, _ = _answer("Why is a stop cheaper under the Safety Car?", hits)
    assert text.startswith("When the Safety Car is deployed")
    assert "[2]" not in text  # the race summary's lists do not answer a general question


def test_list_numbers_do_not_split_sentences():
    text = race_document(HUNGARY_2021).text
    sentences = split_sentences(text)
    assert "Podium: 1. Ocon (Alpine), 2. Vettel (Aston Martin) and 3. Hamilton (Mercedes)." in \
        sentences
    assert "Classification: 1. Ocon, 2. Vettel, 3. Hamilton." in sentences
    assert any(s.startswith("Vettel (VET, Aston Martin, P2):") for s in sentences)


def test_answers_are_deterministic(hungary_hits):
    question = "Who won the 2021 Hungarian Grand Prix and why?"
    first = OfflineWriter().question_text(question, hungary_hits)
    assert all(OfflineWriter().question_text(question, hungary_hits) == first for _ in range(3))
    assert re.search(r"\[\d\]", OfflineWriter().question_text(question, hungary_hits,
                                                             lead=False))
    assert "Sources:" not in OfflineWriter().question_text(question, hungary_hits, lead=False)
