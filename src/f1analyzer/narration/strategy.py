"""Narrating a strategy result: ``/strategy/generate`` → prose with cited sources.

:func:`narrate_strategy` takes the optimiser's result as a plain dict (the ``generate`` answer:
``season, event, circuit_key, driver, grid, strategies: [{stops, compounds, pit_laps,
pit_windows, expected_position, position_p10, position_p50, position_p90, ...}]``), retrieves the
passages that explain it (the circuit profile, the two-compound and Safety Car rules, the best
hybrid matches for the event) and has the configured narrator write the explanation, checked for
unsupported numbers and falling back to the offline writer. The knowledge base is optional: when
its index is missing the narration is written without sources and ``fallback_reason`` says why.
"""

from __future__ import annotations

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
              "expected_position", "p_gain_positions", "p_podium")


def narrator_input(result: dict) -> dict:
    """The facts the narrator sees: the request identity and, per plan, the fields the narrators
    know (``position_p10`` etc. become ``p10``/``p50``/``p90``). Histograms and race times are
    left out: they add numbers to the prompt, not meaning."""
    plans = []
    for s in result.get("strategies") or []:
        if not isinstance(s, dict):
            continue
        plan = {k: s[k] for k in _PLAN_KEYS if s.get(k) is not None}
        for short in ("p10", "p50", "p90"):
            value = s.get(f"position_{short}", s.get(short))
            if value is not None:
                plan[short] = value
        plans.append(plan)
    keys = ("season", "event", "circuit_key", "driver", "grid", "total_laps")
    return {**{k: result[k] for k in keys if result.get(k) is not None}, "strategies": plans}


def strategy_sources(result: dict, kb, top_k: int = MAX_SOURCES) -> list:
    """Passages explaining a strategy at this event: the circuit profile and the strategy rules
    first (by id), then the best hybrid matches for the event's pit strategy."""

    corpus = kb.corpus()
    picked: list[Hit] = []

    def add(doc_id: str) -> None:
        doc = corpus.get(doc_id)
        if doc is not None and all(h.id != doc_id for h in picked):
            picked.append(Hit(id=doc.id, score=1.0, title=doc.title, text=doc.text,
                              metadata=doc.metadata))

    if result.get("circuit_key"):
        add(f"circuit:{result['circuit_key']}")
    for rule in STRATEGY_RULES:
        add(rule)
    plans = result.get("strategies") or [{}]
    compounds = " ".join(str(c).lower() for c in (plans[0].get("compounds") or []))
    question = " ".join(str(x) for x in (
        result.get("season"), result.get("event"), "pit stop strategy undercut", compounds) if x)
    for hit in kb.search(question, top_k=top_k):
        if len(picked) >= top_k:
            break
        if all(h.id != hit.id for h in picked):
            picked.append(hit)
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
                 if cache is not None else narrate_checked(request, narrator))
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
