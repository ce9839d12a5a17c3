"""What a narrator receives and returns.

A narrator explains either a strategy result (the optimiser's ranked plans as a plain dict) or an
answer to a question, using only the structured facts and the retrieved sources, and cites the
sources as ``[1]``, ``[2]``… in the order they were given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from f1analyzer.errors import InvalidRequestError
from f1analyzer.knowledge.index import Hit

_CITATION_RE = re.compile(r"\[(\d{1,2})\]")


@dataclass(frozen=True)
class NarrationRequest:
    """Input of a narrator.

    Args:
        question: the user's question (for ``/query``), or None.
        strategy_result: the optimiser's result as a plain dict (for ``/strategy/generate``),
            shaped like :func:`f1analyzer.narration.strategy.narrator_input` returns it:
            ``{"event", "season", "driver", "grid", "simulation_inputs", "confidence_reasons",
            "models_fitted_on", "strategies": [{"stops", "compounds", "pit_laps",
            "pit_windows", "expected_position_if_classified", "p_win", "p_podium",
            "expected_points", "p_dnf", "position_10th_percentile", "position_median",
            "position_90th_percentile", "reasons", "rules_applied"}, ...], "field_history",
            "history_check"}`` (the last two when the answer carries them), or None.
        sources: retrieved passages, cited as [1], [2]… in this order.
    """

    question: str | None = None
    strategy_result: dict | None = None
    sources: Sequence[Hit] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not (self.question and self.question.strip()) and not self.strategy_result:
            raise InvalidRequestError("A narration needs a question or a strategy result.")
        object.__setattr__(self, "sources", tuple(self.sources))


@dataclass(frozen=True)
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class Narration:
    """A narrator's answer.

    ``provider`` is ``offline``, ``anthropic`` or ``openai``; ``fallback_reason`` is None when the
    configured provider wrote the text, else why the offline writer was used instead.
    """

    text: str
    provider: str
    cited_source_ids: tuple[str, ...] = ()
    usage: TokenUsage = field(default_factory=TokenUsage)
    fallback_reason: str | None = None
    model: str | None = None

    def to_dict(self) -> dict:
        return {"text": self.text, "provider": self.provider, "model": self.model,
                "cited_source_ids": list(self.cited_source_ids),
                "usage": {"input_tokens": self.usage.input_tokens,
                          "output_tokens": self.usage.output_tokens},
                "fallback_reason": self.fallback_reason}

    @classmethod
    def from_dict(cls, data: dict) -> "Narration":
        usage = data.get("usage") or {}
        return cls(text=data["text"], provider=data["provider"], model=data.get("model"),
                   cited_source_ids=tuple(data.get("cited_source_ids") or ()),
                   usage=TokenUsage(int(usage.get("input_tokens", 0)),
                                    int(usage.get("output_tokens", 0))),
                   fallback_reason=data.get("fallback_reason"))


@runtime_checkable
class Narrator(Protocol):
    """Writes a :class:`Narration`; LLM narrators raise BackendUnavailableError on failure."""

    name: str

    def narrate(self, request: NarrationRequest) -> Narration: ...


def citation_numbers(text: str) -> list[int]:
    """Citation markers in order of first appearance: 'a [2] b [1] c [2]' → [2, 1]."""
    seen: list[int] = []
    for m in _CITATION_RE.finditer(text):
        n = int(m.group(1))
        if n not in seen:
            seen.append(n)
    return seen


def cited_ids(text: str, sources: Sequence[Hit]) -> tuple[str, ...]:
    """Ids of the sources the text cites (markers outside 1..len(sources) are ignored)."""
    return tuple(sources[n - 1].id for n in citation_numbers(text) if 1 <= n <= len(sources))


def strip_citations(text: str) -> str:
    return _CITATION_RE.sub("", text)
