"""Narrating a strategy result: ``/strategy/generate`` → prose with cited sources.

:func:`narrate_strategy` takes the optimiser's result as a plain dict (the ``generate`` answer:
``season, event, circuit_key, driver, grid, strategies: [{stops, compounds, pit_laps,
pit_windows, expected_position_if_classified, position_10th_percentile, ...}]``), retrieves the
passages that explain it (the circuit profile, the two-compound and Safety Car rules, the best
hybrid matches for the event) and has the configured narrator write the explanation, checked for
unsupported numbers and falling back to the offline writer. The knowledge base is optional: when
its index is missing the narration is written without sources and ``fallback_reason`` says why.
"""

from __future__ import annotations

import re

from f1analyzer.errors import BackendUnavailableError
from f1analyzer.log import get_logger
from f1analyzer.knowledge.index import Hit, source_dict
from f1analyzer.narration import NarrationRequest, cached_narration, get_narrator, narrate_checked
from f1analyzer.config import get_settings
from f1analyzer.knowledge.build import get_knowledge_base

log = get_logger("narration.strategy")

#: rule notes every strategy explanation may cite
STRATEGY_RULES = ("rule:two-compound", "rule:safety-car-pit-loss")
MAX_SOURCES = 5
_PLAN_KEYS = ("rank", "strategy", "stops", "compounds", "pit_laps", "pit_windows",
              "expected_position_if_classified", "p_win", "p_podium", "expected_points", "p_dnf",
              "position_10th_percentile", "position_median", "position_90th_percentile",
              "p_gain_positions", "reasons", "rules_applied")
#: older result shapes: their keys → today's names
_LEGACY = {"p10": "position_10th_percentile", "p50": "position_median", "p90": "position_90th_percentile",
           "position_p10": "position_10th_percentile", "position_p50": "position_median",
           "position_p90": "position_90th_percentile"}


def narrator_input(result: dict) -> dict:
    """The facts the narrator sees, and only those: the request identity, per plan what a
    strategist reads (E[pos] if classified, P(win), P(podium), expected points, P(DNF), named
    percentiles, the reasons in seconds, the rules that shaped it), the numbers the simulation
    itself used (``simulation_inputs``: pit losses and tyre parameters *after* any override), the
    confidence and its reasons, what data the models saw, and what the field did at the circuit
    before (:func:`history_facts`). Histograms and race times are left out: they add numbers to
    the prompt, not meaning."""
    plans = []
    for s in result.get("strategies") or []:
        if not isinstance(s, dict):
            continue
        plan = {k: s[k] for k in _PLAN_KEYS if s.get(k) not in (None, [], {})}
        for old, new in _LEGACY.items():
            if s.get(old) is not None and new not in plan:
                plan[new] = s[old]
        if "expected_position_if_classified" not in plan and s.get("expected_position") is not None:
            plan["expected_position"] = s["expected_position"]
        plans.append(plan)
    keys = ("season", "event", "circuit_key", "driver", "grid", "total_laps", "confidence",
            "confidence_reasons", "simulation_inputs")
    out = {k: result[k] for k in keys if result.get(k) not in (None, [], {})}
    used = (result.get("model") or {}).get("data_used") or result.get("data_used") or {}
    if used.get("models_fitted_on"):
        out["models_fitted_on"] = used["models_fitted_on"]
        if used.get("hindsight"):
            out["models_saw_the_race"] = True
    out.update(history_facts(result))
    return {**out, "strategies": plans}


#: per earlier race of ``field_history``, what a strategist compares a plan with
_HISTORY_KEYS = ("season", "event", "wet", "stops", "compounds", "median_first_stop_lap")


def history_facts(result: dict) -> dict:
    """The field's habit at the circuit, as facts: ``field_history`` (per earlier race its season,
    event, wet flag, modal stops, compound sequence and median first-stop lap) and
    ``history_check`` with ``plan_stops_minus_field_stops``, so "makes 1 more stop" quotes a
    number of the facts. Nothing when the answer has no history."""
    out: dict = {}
    history = [{k: h[k] for k in _HISTORY_KEYS if h.get(k) is not None}
               for h in result.get("field_history") or [] if isinstance(h, dict)]
    if history:
        out["field_history"] = history
    check = result.get("history_check")
    if isinstance(check, dict):
        check = dict(check)
        if check.get("plan_stops") is not None and check.get("field_stops") is not None:
            check["plan_stops_minus_field_stops"] = int(check["plan_stops"]) - int(check["field_stops"])
        out["history_check"] = check
    return out


def knowledge_cutoff(result: dict) -> tuple[int, int] | None:
    """``(season, round)`` a pre-race answer's documents must precede (None: no cutoff)."""
    used = (result.get("model") or {}).get("data_used") or result.get("data_used") or {}
    cut = used.get("cutoff")
    if not cut:
        return None
    return int(cut["season"]), int(cut["round"])


def known_before(metadata: dict, cutoff: tuple[int, int] | None) -> bool:
    """A document a pre-race answer for the race at ``cutoff`` may cite: rules always; a race
    only when it came before; a season summary only of an earlier season; a circuit profile (it
    summarises every stored season, later ones included) never."""
    if cutoff is None:
        return True
    kind = metadata.get("kind")
    season, rnd = metadata.get("season"), metadata.get("round")
    if kind == "rule":
        return True
    if kind == "circuit":
        return False
    if season is None:
        return False
    if rnd is None:
        return int(season) < cutoff[0]
    return (int(season), int(rnd)) < cutoff


_DIGIT = re.compile(r"\d")


def without_model_numbers(hit):
    """A circuit profile without its sentences holding numbers: those are the raw fits (tyre
    wear, pit loss) the simulator may have overridden; the answer states the numbers it used."""
    # lazy: importing the narration package stays light
    from f1analyzer.narration.offline_answer import split_sentences

    if (hit.metadata or {}).get("kind") != "circuit":
        return hit
    kept = [x for x in split_sentences(hit.text) if not _DIGIT.search(x)]
    return Hit(id=hit.id, score=hit.score, title=hit.title, text=" ".join(kept) or hit.title,
               metadata=hit.metadata)


def strategy_sources(result: dict, kb, top_k: int = MAX_SOURCES) -> list:
    """Passages explaining a strategy at this event: the circuit profile and the strategy rules
    first (by id), then the best hybrid matches for the event's pit strategy. For a pre-race
    answer about a past race (``data_used.cutoff``) only documents known before it
    (:func:`known_before`); circuit profiles lose their fitted numbers
    (:func:`without_model_numbers`)."""
    corpus = kb.corpus()
    picked: list[Hit] = []
    cutoff = knowledge_cutoff(result)

    def add(doc_id: str) -> None:
        doc = corpus.get(doc_id)
        if doc is not None and all(h.id != doc_id for h in picked) and known_before(doc.metadata, cutoff):
            picked.append(without_model_numbers(Hit(id=doc.id, score=1.0, title=doc.title, text=doc.text,
                                                    metadata=doc.metadata)))

    if result.get("circuit_key"):
        add(f"circuit:{result['circuit_key']}")
    for rule in STRATEGY_RULES:
        add(rule)
    plans = result.get("strategies") or [{}]
    compounds = " ".join(str(c).lower() for c in (plans[0].get("compounds") or []))
    question = " ".join(str(x) for x in (
        result.get("season"), result.get("event"), "pit stop strategy undercut", compounds) if x)
    # a pre-race answer drops what came later: ask for more and keep what was known before
    for hit in kb.search(question, top_k=top_k if cutoff is None else 4 * top_k):
        if len(picked) >= top_k:
            break
        if all(h.id != hit.id for h in picked) and known_before(hit.metadata or {}, cutoff):
            picked.append(without_model_numbers(hit))
    return picked[:top_k]


def narrate_strategy(result: dict, settings=None, kb=None, cache=None) -> dict:
    """Explain a strategy result in prose with cited sources.

    Args:
        result: the ``/strategy/generate`` result (plain dict, see the module docstring).
        settings: :class:`~f1analyzer.config.Settings` (default ``get_settings()``); chooses the
            narrator (offline writer unless an LLM is configured) and the knowledge base.
        kb: the :class:`~f1analyzer.knowledge.retrieval.KnowledgeBase` (default
            ``get_knowledge_base(settings)``); when its index is missing or unreadable the
            narration is written without sources.
        cache: a :class:`~f1analyzer.backends.cache.Cache` for the narration (key: the facts,
            the sources and the narrator; fallbacks are not cached), or None.

    Returns:
        ``{"narrative": str, "sources": [{"id", "kind", "season", "round", "event", "title",
        "score", "snippet"}], "provider": str, "fallback_reason": str | None}`` — plus
        ``"model"`` and ``"usage"`` (``input_tokens``, ``output_tokens``) for the LLM metrics.
    """

    if settings is None:
        settings = get_settings()
    facts = narrator_input(result)
    kb_problem = None
    sources: list = []
    try:
        if kb is None:
            kb = get_knowledge_base(settings)
        sources = strategy_sources(result, kb)
    except BackendUnavailableError as exc:
        kb_problem = f"knowledge base unavailable: {exc.message}"
        log.warning("strategy narration without sources: %s", exc.message)
    narrator = get_narrator(settings)
    request = NarrationRequest(strategy_result=facts, sources=sources)
    narration = (cached_narration(request, cache, narrator, settings.cache_ttl_s)
                 if cache is not None else narrate_checked(request, narrator, settings))
    reasons = [r for r in (kb_problem, narration.fallback_reason) if r]
    return {
        "narrative": narration.text,
        "sources": [source_dict(h) for h in sources],
        "provider": narration.provider,
        "fallback_reason": "; ".join(reasons) or None,
        "model": narration.model,
        "usage": {"input_tokens": narration.usage.input_tokens,
                  "output_tokens": narration.usage.output_tokens},
    }
