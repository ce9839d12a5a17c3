"""The offline writer: deterministic prose from the structured result and the sources.

It is the default narrator (no key, no network) and the fallback whenever an LLM fails or writes a
number the facts do not support. It never invents: every number it prints comes from the strategy
dict (or a difference of two of its numbers), every background sentence is quoted from a source
and cited as [n].

For a strategy it states the recommended plan (stops, compound sequence, pit laps and windows),
its expected finish and spread (P10–P90 is the range of 80% of simulated races), how each
alternative compares (average places lost, safer worst case or more upside), a two-compound
check, and the source sentences that bear on pit stops. For a question it picks the sources about
what the question names (season, event, circuit, driver) and quotes their sentences that best
match the question's words and their synonyms (:mod:`f1analyzer.narration.offline_answer`).
"""

from __future__ import annotations

from collections.abc import Sequence

from f1analyzer.knowledge.index import Hit
from f1analyzer.narration.base import Narration, NarrationRequest, cited_ids
from f1analyzer.narration.offline_answer import answer_question, cite, split_sentences, word_set

_STOP_NAMES = {0: "no-stop", 1: "one-stop", 2: "two-stop", 3: "three-stop", 4: "four-stop"}
_WET = {"INTERMEDIATE", "WET"}
_STRATEGY_TERMS = {"pit", "stop", "stops", "tyre", "tyres", "compound", "compounds", "safety",
                   "undercut", "overcut", "window", "hard", "medium", "soft", "loss", "stint"}


def _num(value: float | int | None, decimals: int = 1) -> str:
    if value is None:
        return "?"
    value = float(value)
    if value.is_integer():
        return str(int(value))
    return f"{value:.{decimals}f}"


def _compound_name(name: str) -> str:
    return str(name).strip().capitalize()


def _laps_phrase(laps: Sequence[int]) -> str:
    laps = [int(x) for x in laps]
    if not laps:
        return "without a stop"
    if len(laps) == 1:
        return f"pitting on lap {laps[0]}"
    return "pitting on laps " + ", ".join(str(x) for x in laps[:-1]) + f" and {laps[-1]}"


def _windows_phrase(windows: Sequence[Sequence[int]]) -> str:
    parts = [f"laps {int(a)}–{int(b)}" for a, b in windows if a is not None and b is not None]
    if not parts:
        return ""
    return " (window " + ", then ".join(parts) + ")" if len(parts) == 1 else \
        " (windows " + ", then ".join(parts) + ")"


def _plan_name(s: dict) -> str:
    stops = int(s.get("stops", len(s.get("pit_laps") or [])))
    seq = " → ".join(_compound_name(c) for c in s.get("compounds") or [])
    name = _STOP_NAMES.get(stops, f"{stops}-stop")
    return f"{name} ({seq})" if seq else name


def _sentences(text: str) -> list[str]:
    return list(split_sentences(text))


def _words(text: str) -> set[str]:
    return set(word_set(text))


def _best_sentence(hit: Hit, terms: set[str]) -> str:
    """The sentence of a source sharing most words with ``terms`` (the first one on ties)."""
    sentences = _sentences(hit.text) or [hit.text]
    scored = [(len(_words(s) & terms), -i, s) for i, s in enumerate(sentences)]
    return max(scored)[2]


class OfflineWriter:
    """Deterministic narrator; needs nothing and cannot fail on well-formed input."""

    name = "offline"

    def narrate(self, request: NarrationRequest) -> Narration:
        if request.strategy_result:
            text = self.strategy_text(request.strategy_result, request.sources)
            if request.question:
                text = self.question_text(request.question, request.sources,
                                          lead=False) + "\n\n" + text
        else:
            text = self.question_text(request.question or "", request.sources)
        return Narration(text=text, provider=self.name,
                         cited_source_ids=cited_ids(text, request.sources))

    # --- strategies ---------------------------------------------------------------------------
    def strategy_text(self, result: dict, sources: Sequence[Hit] = ()) -> str:
        strategies = [s for s in result.get("strategies") or [] if isinstance(s, dict)]
        who = result.get("driver") or "The car"
        grid = result.get("grid")
        where = " ".join(str(x) for x in (result.get("season"), result.get("event")) if x)
        opening = f"{who}" + (f" starting P{_num(grid)}" if grid is not None else "")
        opening += f" at the {where}" if where else ""
        if not strategies:
            return opening + ": the simulation returned no feasible strategy, so there is " \
                             "nothing to recommend."
        best = strategies[0]
        paras = [self._recommendation(opening, best, grid)]
        alternatives = [self._compare(best, alt) for alt in strategies[1:4]]
        if alternatives:
            paras.append(" ".join(alternatives))
        rule = self._two_compound_check(strategies, sources)
        if rule:
            paras.append(rule)
        context = self._context(sources, _STRATEGY_TERMS, skip_ids=_cited_in(rule, sources))
        if context:
            paras.append(context)
        return "\n\n".join(paras)

    def _recommendation(self, opening: str, s: dict, grid) -> str:
        text = (f"{opening}: the recommended plan is a {_plan_name(s)}, "
                f"{_laps_phrase(s.get('pit_laps') or [])}{_windows_phrase(s.get('pit_windows') or [])}.")
        exp = s.get("expected_position")
        if exp is not None:
            text += f" It finishes P{_num(exp)} on average"
            if s.get("p50") is not None:
                text += f", P{_num(s['p50'])} in the median race"
            if s.get("p10") is not None and s.get("p90") is not None:
                text += (f", and between P{_num(s['p10'])} and P{_num(s['p90'])} in 80% of "
                         f"simulated races")
            text += "."
            if grid is not None:
                delta = float(grid) - float(exp)
                if abs(delta) >= 0.05:
                    verb = "gain" if delta > 0 else "loss"
                    text += (f" Against the grid slot that is an average {verb} of "
                             f"{_num(abs(delta))} places.")
        return text

    def _compare(self, best: dict, alt: dict) -> str:
        text = f"The {_plan_name(alt)} alternative, {_laps_phrase(alt.get('pit_laps') or [])}"
        eb, ea = best.get("expected_position"), alt.get("expected_position")
        if eb is None or ea is None:
            return text + "."
        gap = float(ea) - float(eb)
        if abs(gap) < 0.05:
            text += f", averages the same P{_num(ea)}"
        elif gap > 0:
            text += f", averages P{_num(ea)}, {_num(gap)} places worse"
        else:
            text += f", averages P{_num(ea)}, {_num(-gap)} places better"
        notes = []
        if alt.get("p90") is not None and best.get("p90") is not None:
            if float(alt["p90"]) < float(best["p90"]):
                notes.append(f"it has the safer bad day (P90 P{_num(alt['p90'])} against "
                             f"P{_num(best['p90'])})")
            elif float(alt["p90"]) > float(best["p90"]):
                notes.append(f"its bad days are worse (P90 P{_num(alt['p90'])})")
        if alt.get("p10") is not None and best.get("p10") is not None:
            if float(alt["p10"]) < float(best["p10"]):
                notes.append(f"it has more upside (P10 P{_num(alt['p10'])} against "
                             f"P{_num(best['p10'])})")
        return text + ("; " + " and ".join(notes) if notes else "") + "."

    def _two_compound_check(self, strategies: Sequence[dict], sources: Sequence[Hit]) -> str:
        rule_n = _source_number(sources, "rule:two-compound")
        cite = f" [{rule_n}]" if rule_n else ""
        dry = [s for s in strategies if not (_WET & {str(c).upper() for c in s.get("compounds") or []})]
        single = [s for s in dry if len({str(c).upper() for c in s.get("compounds") or []}) < 2]
        if single:
            names = ", ".join(_plan_name(s) for s in single)
            return (f"Warning: {names} uses a single dry compound, which the two-compound rule "
                    f"forbids in a dry race{cite}.")
        if dry and rule_n:
            return ("Every dry plan above uses at least two different compounds, as the "
                    f"two-compound rule requires{cite}.")
        return ""

    # --- questions ----------------------------------------------------------------------------
    def question_text(self, question: str, sources: Sequence[Hit], lead: bool = True) -> str:
        """An answer quoted from the sources that match what the question names (see
        :mod:`f1analyzer.narration.offline_answer`); ``lead=False`` drops the "Sources:" line."""
        if not sources:
            return ("The knowledge base has no passage that answers this yet. Build or refresh it "
                    "with `f1analyzer index build`, or ask about a race, circuit or rule it "
                    "covers.")
        return answer_question(question, sources, lead=lead)

    def _context(self, sources: Sequence[Hit], terms: set[str], skip_ids: set[str]) -> str:
        parts = []
        for n, hit in enumerate(sources, start=1):
            if hit.id in skip_ids or len(parts) >= 3:
                continue
            parts.append(_cite(_best_sentence(hit, terms), n))
        return ("Background: " + " ".join(parts)) if parts else ""


_cite = cite


def _source_number(sources: Sequence[Hit], doc_id: str) -> int | None:
    for n, hit in enumerate(sources, start=1):
        if hit.id == doc_id:
            return n
    return None


def _cited_in(text: str, sources: Sequence[Hit]) -> set[str]:
    return set(cited_ids(text, sources)) if text else set()
