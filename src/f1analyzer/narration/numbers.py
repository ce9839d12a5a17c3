"""Number checking: an LLM may rephrase the facts, never add to them.

Every number in a narration must be *supported*: it appears in the structured result, in a
source or in the question, or it is one of those values rounded to the precision written
("1.43" supports "1.4" and "1"), a fraction written as a percentage (0.35 → "35%"), a
difference of two finishing positions of the structured result ("0.7 places worse" from P1.4
and P2.1), or a percentile name of a strategy result (P10, P50, P90; 80% for the
P10–P90 range).
Citation markers ``[n]`` and ordinals of listed options ("option 2") are not facts and are
ignored. A narration with any unsupported number is rejected and the offline writer's text is
used instead (see :func:`f1analyzer.narration.narrate_checked`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from f1analyzer.narration.base import NarrationRequest, strip_citations
from f1analyzer.narration.base import citation_numbers

# 1,234.5 | 12.5 | 0.35 | 7 — not part of a word or code (C3, P10 are handled below)
_NUMBER_RE = re.compile(r"(?<![\w.])[-−]?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\d])")
# a letter-prefixed number like P3, C4, Q2, lap-chart style: the number is still a fact
_PREFIXED_RE = re.compile(r"\b[A-Za-z](\d+(?:\.\d+)?)\b")
_OPTION_RE = re.compile(r"\b(?:option|strategy|plan|alternative)\s+#?(\d)\b", re.IGNORECASE)
_TOLERANCE = 1e-9
_IGNORED_TOKENS_RE = re.compile(r"\bF1\b")
#: P10 / P50 / P90 name the percentiles of a strategy result; P10–P90 spans 80% of races
PERCENTILE_NAMES = (10.0, 50.0, 80.0, 90.0)
#: keys whose values are finishing positions; differences between them ("0.7 places worse",
#: "gains 1.6 places") are allowed. Differences of other numbers (laps) are not: they would
#: excuse almost any integer.
POSITION_KEYS = frozenset({"grid", "expected_position", "p10", "p50", "p90", "expected_position_if_classified",
                           "position_10th_percentile", "position_median", "position_90th_percentile"})


def extract_numbers(text: str) -> list[str]:
    """Numbers written in ``text`` as strings, without citation markers (``[2]``).

    Both free numbers ("lap 23", "1.4 places") and letter-prefixed ones ("P3", "C4") count.
    """
    text = strip_citations(text)
    text = _IGNORED_TOKENS_RE.sub(" ", text)
    text = _OPTION_RE.sub(" ", text)
    found = [m.group(0) for m in _PREFIXED_RE.finditer(text)]
    found = [f[1:] for f in found]
    text = _PREFIXED_RE.sub(" ", text)
    for m in _NUMBER_RE.finditer(text):
        found.append(m.group(1).replace(",", "") + (m.group(2) or ""))
    return found


def _walk(value: object) -> Iterable[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        if math.isfinite(float(value)):
            yield float(value)
    elif isinstance(value, str):
        for s in extract_numbers(value):
            yield float(s)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _walk(v)


def _positions(value: object) -> Iterable[float]:
    """Finishing-position values (grid, expected_position, p10/p50/p90) anywhere in a result."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k in POSITION_KEYS and isinstance(v, (int, float)) and not isinstance(v, bool):
                yield float(v)
            else:
                yield from _positions(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _positions(v)


def supported_values(request: NarrationRequest) -> tuple[set[float], set[float]]:
    """(facts, derived): numbers of the result, sources and question; pairwise differences."""
    structured = sorted(set(_walk(request.strategy_result or {})))
    facts = set(structured)
    facts.update(_walk(request.question or ""))
    for hit in request.sources:
        facts.update(_walk(hit.text))
        facts.update(_walk(hit.title))
        facts.update(_walk({k: v for k, v in hit.metadata.items()}))
    derived: set[float] = set()
    if request.strategy_result:
        derived.update(PERCENTILE_NAMES)
    positions = sorted(set(_positions(request.strategy_result or {})))
    for i, a in enumerate(positions):
        for b in positions[i + 1:]:
            derived.add(round(b - a, 6))
    derived.update(v * 100 for v in facts if 0 < v < 1)
    return facts, derived


def _rounds_to(value: float, written: str) -> bool:
    decimals = len(written.split(".")[1]) if "." in written else 0
    target = float(written)
    return abs(abs(value) - target) <= 0.5 * 10 ** (-decimals) + _TOLERANCE


def unsupported_numbers(text: str, request: NarrationRequest) -> list[str]:
    """Numbers written in ``text`` that the request's facts do not support (empty = all fine)."""
    facts, derived = supported_values(request)
    candidates = facts | derived
    bad = []
    for written in extract_numbers(text):
        plain = written.lstrip("-−")
        if any(_rounds_to(v, plain) for v in candidates):
            continue
        if plain not in bad:
            bad.append(plain)
    return bad


def check_citations(text: str, sources: Sequence) -> list[int]:
    """Citation numbers that point to no source (``[4]`` with three sources)."""

    return [n for n in citation_numbers(text) if not 1 <= n <= len(sources)]
