"""Narration: turning strategy results and retrieved passages into an explanation.

- :class:`OfflineWriter` — default, deterministic, no key or network.
- :class:`AnthropicNarrator` — Claude (``ANTHROPIC_API_KEY``).
- :class:`OpenAICompatibleNarrator` — Ollama / vLLM / llama.cpp (``OPENAI_BASE_URL``).

Use :func:`narrate_checked`: it calls the configured narrator, rejects LLM text with numbers the
facts do not support or citations to missing sources, and falls back to the offline writer
(``fallback_reason`` says why) on any provider failure.
"""

from __future__ import annotations

from f1analyzer.errors import BackendUnavailableError, ConfigError
from f1analyzer.log import get_logger
from f1analyzer.narration.base import (
    Narration,
    NarrationRequest,
    Narrator,
    TokenUsage,
)
from f1analyzer.narration.guard import guard_for
from f1analyzer.narration.llm import AnthropicNarrator, OpenAICompatibleNarrator
from f1analyzer.narration.numbers import check_citations, unsupported_numbers
from f1analyzer.narration.offline import OfflineWriter
from f1analyzer.config import get_settings
from f1analyzer.backends.cache import make_key

log = get_logger("narration")

__all__ = [
    "AnthropicNarrator", "Narration", "NarrationRequest", "Narrator", "OfflineWriter",
    "OpenAICompatibleNarrator", "TokenUsage", "cached_narration", "get_narrator",
    "narrate_checked",
]


def get_narrator(settings=None) -> Narrator:
    """The narrator chosen by ``settings.llm_provider``.

    ``auto`` uses Anthropic when ``ANTHROPIC_API_KEY`` is set, else the offline writer;
    ``anthropic`` requires the key, ``openai`` requires ``OPENAI_BASE_URL`` (or a key for the
    public OpenAI API), ``offline`` always writes offline.
    """
    if settings is None:
        settings = get_settings()
    provider = settings.llm_provider
    if provider == "auto":
        provider = "anthropic" if settings.anthropic_api_key else "offline"
    if provider == "anthropic":
        if not settings.anthropic_api_key:
            raise ConfigError("F1A_LLM_PROVIDER=anthropic needs ANTHROPIC_API_KEY.")
        return AnthropicNarrator.from_settings(settings)
    if provider == "openai":
        if not (settings.openai_base_url or settings.openai_api_key):
            raise ConfigError("F1A_LLM_PROVIDER=openai needs OPENAI_BASE_URL (or OPENAI_API_KEY).")
        return OpenAICompatibleNarrator.from_settings(settings)
    return OfflineWriter()


def _fallback(request: NarrationRequest, reason: str, failed: Narration | None = None) -> Narration:
    offline = OfflineWriter().narrate(request)
    log.warning("narration fell back to the offline writer: %s", reason)
    return Narration(
        text=offline.text, provider=offline.provider, cited_source_ids=offline.cited_source_ids,
        usage=failed.usage if failed is not None else TokenUsage(), fallback_reason=reason,
        model=None,
    )


def _request_key(request: NarrationRequest, narrator: Narrator) -> str:
    import hashlib

    return make_key("narration", {
        "question": request.question or "",
        "strategy_result": request.strategy_result or {},
        "sources": [[h.id, hashlib.sha256(h.text.encode()).hexdigest()[:16]]
                    for h in request.sources],
        "narrator": [narrator.name, getattr(narrator, "model", None) or ""],
    })


def narrate_checked(request: NarrationRequest, narrator: Narrator | None = None,
                    settings=None) -> Narration:
    """Narrate with ``narrator`` (default :func:`get_narrator`), verified, never failing.

    The LLM call runs under its endpoint's :class:`~f1analyzer.narration.guard.NarrationGuard`
    (overall deadline, circuit breaker, short-lived cache of fallback answers). The offline
    writer's text replaces the LLM's when the provider fails or is too slow —
    ``fallback_reason="llm_unavailable: anthropic unavailable: …"``, ``"llm_deadline: …"``,
    ``"llm_circuit_open: …"`` — or when the text has numbers the facts do not support —
    ``fallback_reason="unsupported numbers: 31, 4.2"`` — or cites a source that was not given.
    """
    narrator = narrator if narrator is not None else get_narrator(settings)
    if isinstance(narrator, OfflineWriter):
        return narrator.narrate(request)
    guard = guard_for(narrator, settings if settings is not None else get_settings())
    key = _request_key(request, narrator)
    reused = guard.cached_fallback(key)
    if reused is not None:
        return reused
    blocked = guard.admit()
    if blocked is not None:
        narration = _fallback(request, blocked)
        guard.remember_fallback(key, narration)
        return narration
    try:
        narration = guard.call(lambda: narrator.narrate(request))
    except BackendUnavailableError as exc:
        narration = _fallback(request, exc.message)
        guard.remember_fallback(key, narration)
        return narration
    bad_numbers = unsupported_numbers(narration.text, request)
    if bad_numbers:
        return _fallback(request, "unsupported numbers: " + ", ".join(bad_numbers), narration)
    bad_citations = check_citations(narration.text, request.sources)
    if bad_citations:
        return _fallback(request, "citations without a source: "
                         + ", ".join(f"[{n}]" for n in bad_citations), narration)
    return narration


def cached_narration(request: NarrationRequest, cache, narrator: Narrator | None = None,
                     ttl_s: float | None = None) -> Narration:
    """:func:`narrate_checked` behind a :class:`~f1analyzer.backends.cache.Cache`.

    The key covers the question, the strategy result, the cited sources (id and text hash) and
    the narrator (provider and model). Fallback narrations are not cached, so an LLM outage
    does not pin the offline text for the whole TTL.
    """
    narrator = narrator if narrator is not None else get_narrator()
    key = _request_key(request, narrator)
    hit = cache.get(key)
    if hit is not None:
        return Narration.from_dict(hit)
    narration = narrate_checked(request, narrator)
    if narration.fallback_reason is None:
        cache.set(key, narration.to_dict(), ttl_s)
    return narration
