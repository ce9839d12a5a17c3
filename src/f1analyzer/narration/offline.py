"""The offline writer: deterministic prose from the structured result and the sources.

It is the default narrator (no key, no network) and the fallback whenever an LLM fails or writes a
number the facts do not support. It never invents: every number it prints comes from the strategy
dict (or a difference of two of its numbers), every background sentence is quoted from a source
and cited as [n].

For a strategy it states the recommended plan (stops, compound sequence, pit laps and windows),
its headline (a likely winner's P(win), else the expected finish when classified), the named
percentiles ("in 10% of races P2 or better"), P(podium), expected points and the retirement
risk apart; how each alternative compares (places, safer bad day or more upside); what the top
ten did at the newest comparable earlier race of the circuit and how the plan differs; the reasons
in seconds (pit loss, tyre time, gaps); the rules that shaped the plan; the numbers the
simulation used (not raw fits it overrode); a two-compound check; what data the models saw and
why confidence is lowered; and the source sentences that bear on pit stops. For a question it picks the sources about
what the question names (season, event, circuit, driver) and quotes their sentences that best
match the question's words and their synonyms (:mod:`f1analyzer.narration.offline_answer`).
"""

from __future__ import annotations

from collections.abc import Sequence

from f1analyzer.data.formatting import stop_count
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


def _pct(p: float) -> str:
    return f"{_num(100 * float(p), 0)}%"


def _signed(x: float | None) -> str:
    if x is None:
        return "?"
    return ("+" if float(x) > 0 else "−" if float(x) < 0 else "±") + _num(abs(float(x)), 2)


def _headline(s: dict) -> float | None:
    """The headline finishing position: E[pos] if classified (older results: E[pos])."""
    v = s.get("expected_position_if_classified", s.get("expected_position"))
    return None if v is None else float(v)


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
        paras += [p for p in (self._history(result), self._reasons(strategies), self._rules(best), self._inputs(result)) if p]
        rule = self._two_compound_check(strategies, sources)
        if rule:
            paras.append(rule)
        trust = self._trust(result)
        if trust:
            paras.append(trust)
        context = self._context(sources, _STRATEGY_TERMS, skip_ids=_cited_in(rule, sources))
        if context:
            paras.append(context)
        return "\n\n".join(paras)

    def _recommendation(self, opening: str, s: dict, grid) -> str:
        text = (f"{opening}: the recommended plan is a {_plan_name(s)}, "
                f"{_laps_phrase(s.get('pit_laps') or [])}{_windows_phrase(s.get('pit_windows') or [])}.")
        exp = _headline(s)
        if exp is None:
            return text
        p_win = s.get("p_win")
        if p_win is not None and float(p_win) >= 0.5:
            # a likely winner: its odds are the story, not an average of places
            text += f" It wins {_pct(p_win)} of simulated races"
        else:
            text += f" When classified it finishes P{_num(exp)} on average"
        med = s.get("position_median")
        if med is not None:
            text += f", P{_num(med)} in the median race"
        lo, hi = s.get("position_10th_percentile"), s.get("position_90th_percentile")
        if lo is not None and hi is not None:
            text += (f"; in 10% of races P{_num(lo)} or better, in 90% P{_num(hi)} or better")
        text += "."
        odds = []
        if p_win is not None and float(p_win) < 0.5 and float(p_win) > 0:
            odds.append(f"wins {_pct(p_win)} of races")
        if s.get("p_podium") is not None and float(s["p_podium"]) >= 0.005:
            odds.append(f"reaches the podium in {_pct(s['p_podium'])} of races")
        if s.get("expected_points") is not None:
            odds.append(f"scores {_num(s['expected_points'])} points on average")
        if odds:
            text += " It " + ", ".join(odds[:-1]) + (" and " if len(odds) > 1 else "") + odds[-1] + "."
        if s.get("p_dnf") is not None and float(s["p_dnf"]) >= 0.005:
            text += f" Apart from that it retires in {_pct(s['p_dnf'])} of races."
        if grid is not None and med is not None and (p_win is None or float(p_win) < 0.5):
            delta = float(grid) - float(med)
            if abs(delta) >= 1:
                verb = "ahead of" if delta > 0 else "behind"
                places = "place" if abs(delta) == 1 else "places"
                text += f" The median race ends {_num(abs(delta))} {places} {verb} the grid slot."
        elif grid is not None and med is None and p_win is None:
            delta = float(grid) - float(exp)
            if abs(delta) >= 0.05:
                verb = "gain" if delta > 0 else "loss"
                text += (f" Against the grid slot that is an average {verb} of "
                         f"{_num(abs(delta))} places.")
        return text

    def _compare(self, best: dict, alt: dict) -> str:
        text = f"The {_plan_name(alt)} alternative, {_laps_phrase(alt.get('pit_laps') or [])}"
        eb, ea = _headline(best), _headline(alt)
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
        ha, hb = alt.get("position_90th_percentile"), best.get("position_90th_percentile")
        if ha is not None and hb is not None:
            if float(ha) < float(hb):
                notes.append(f"it has the safer bad day (in 90% of races P{_num(ha)} or better, "
                             f"against P{_num(hb)})")
            elif float(ha) > float(hb):
                notes.append(f"its bad days are worse (in 90% of races only P{_num(ha)} or better)")
        la, lb = alt.get("position_10th_percentile"), best.get("position_10th_percentile")
        if la is not None and lb is not None and float(la) < float(lb):
            notes.append(f"it has more upside (in 10% of races P{_num(la)} or better, against "
                         f"P{_num(lb)})")
        return text + ("; " + " and ".join(notes) if notes else "") + "."

    def _reasons(self, strategies: Sequence[dict]) -> str:
        """Why the plans differ, in the simulation's own seconds."""
        parts = []
        for k, s in enumerate(strategies[:3]):
            r = s.get("reasons") or {}
            if r.get("pit_loss_s") is None or r.get("tyre_time_s") is None:
                continue
            stops = int(s.get("stops", 0))
            each = f" ({stops} × {_num(r.get('pit_loss_per_stop_s'))} s)" if stops > 1 else ""
            text = (f"the {_plan_name(s)} spends {_num(r['pit_loss_s'])} s in the pits{each} and "
                    f"loses {_num(r['tyre_time_s'])} s to its tyres")
            gap = r.get("race_time_gap_to_best_s")
            if k > 0 and gap is not None and abs(float(gap)) >= 0.05:
                text += (f", finishing a median {_num(abs(float(gap)))} s "
                         f"{'behind' if float(gap) > 0 else 'ahead of'} the recommended plan")
            ahead = r.get("gap_to_car_ahead_s")
            if k == 0 and ahead is not None:
                text += f", {_num(ahead)} s from the car ahead at the flag in the median race"
            parts.append(text)
        if not parts:
            return ""
        return "In the simulation " + "; ".join(parts) + "."

    def _history(self, result: dict) -> str:
        """The plan against what the top ten did at the newest comparable earlier race
        (``history_check``); the stop difference is quoted only when the facts carry it."""
        check = result.get("history_check")
        if not isinstance(check, dict) or check.get("field_stops") is None:
            return ""
        where = " ".join(str(x) for x in (check.get("season"), check.get("event")) if x)
        seq = " → ".join(_compound_name(c) for c in check.get("field_compounds") or [])
        text = f"At the {where} the top ten mostly made {stop_count(check['field_stops'])}"
        green = check.get("field_green_stops")
        if green is not None and int(green) < int(check["field_stops"]):
            text += f" ({_num(green, 0)} under green flag, the rest under SC or VSC)"
        text += f" ({seq})" if seq else ""
        if len(check.get("field_compounds") or []) - 1 > int(check["field_stops"]):
            text += " (tyres changed during a red flag are free and not counted as stops)"
        lap = check.get("field_median_first_stop_lap")
        if lap is not None:
            text += f", first stop around lap {_num(lap)}"
            side = {"before": "before this plan's first window opens", "inside": "inside this plan's first window",
                    "after": "after this plan's first window closes"}.get(check.get("first_stop_vs_window"))
            text += f", {side}" if side else ""
        diff = check.get("plan_stops_minus_field_stops")
        if check.get("same_stop_count"):
            text += "; this plan agrees on the stop count"
        elif diff is not None and int(diff) != 0:
            more = "more" if int(diff) > 0 else "fewer"
            text += f"; this plan makes {abs(int(diff))} {more} stop" + ("" if abs(int(diff)) == 1 else "s")
        elif check.get("plan_stops") is not None:
            text += f"; this plan makes {stop_count(check['plan_stops'])}"
        return text + "."

    def _rules(self, best: dict) -> str:
        rules = [str(x).strip().rstrip(".") for x in best.get("rules_applied") or [] if str(x).strip()]
        return ("Rules that shaped the plan: " + "; ".join(rules) + ".") if rules else ""

    def _inputs(self, result: dict) -> str:
        """The numbers the simulation used (after any override), not the raw fits."""
        inp = result.get("simulation_inputs") or {}
        parts = []
        if inp.get("pit_loss_s") is not None:
            loss = f"a green-flag stop costs {_num(inp['pit_loss_s'])} s"
            extra = [f"{name} {_num(inp[key])} s" for key, name in
                     (("pit_loss_sc_s", "under the Safety Car"), ("pit_loss_vsc_s", "under the VSC"))
                     if inp.get(key) is not None]
            parts.append(loss + (" (" + ", ".join(extra) + ")" if extra else ""))
        tyres = inp.get("tyres") or {}
        deg = []
        for comp in ("SOFT", "MEDIUM", "HARD"):
            t = tyres.get(comp)
            if not t:
                continue
            fresh = "" if comp == "MEDIUM" else f" {_signed(t.get('pace_offset_s'))} s fresh,"
            deg.append(f"{_compound_name(comp)}{fresh} {_num(t.get('wear_after_10_laps_s'), 2)} s "
                       "lost to wear after 10 laps")
        if deg:
            parts.append("against a fresh Medium, " + "; ".join(deg))
        return ("The simulation used these numbers: " + "; ".join(parts) + ".") if parts else ""

    def _trust(self, result: dict) -> str:
        text = ""
        fitted = result.get("models_fitted_on")
        if fitted:
            text = (f"The models behind this answer saw {fitted}." if result.get("models_saw_the_race")
                    else f"The models behind this answer saw {fitted} only.")
        reasons = [str(x).strip() for x in result.get("confidence_reasons") or [] if str(x).strip()]
        if reasons:
            level = result.get("confidence") or "lowered"
            text += (" " if text else "") + f"Confidence is {level}: " + " ".join(
                r if r.endswith(".") else r + "." for r in reasons)
        return text

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
