"""The offline writer's answer to a question: the right documents, then the right sentences.

Three steps, all deterministic:

1. **Documents.** The question's entities (:func:`~f1analyzer.knowledge.query.parse_query`:
   seasons, drivers, circuit; plus an event name written in full) are matched against each
   source's metadata. A source about another season or circuit than the one named is dropped
   (when at least one source matches), and only the best-matching tier is kept: "Who won the 2021
   Hungarian Grand Prix?" is answered from the 2021 race summary, not from the 2018–2024 Hungary
   summaries the retriever also returns. A circuit profile joins a named season's race when the
   question asks a circuit-level thing (pit loss, degradation, overtaking, Safety Car risk).
2. **Sentences.** Inside those documents each sentence is scored by the question's words (rarer
   words count more) plus domain synonyms at half weight ("why"/"strategy" → stops, undercut,
   Safety Car, tyres; "pit loss" → pit, loss, cost, seconds…). Sentences about the driver the
   question names — or, for "who won … why", about the winner — count more; sentences only about
   other drivers count less. The lead sentence is kept when the question asks who won. The best
   2–5 sentences are quoted in document order, without near-duplicates.
3. **Citations.** Every sentence is quoted verbatim (so every number is the source's) and cited
   ``[n]`` by its position in ``sources``; a short "Sources:" line lists the cited sources. When
   nothing matches, the answer says so and quotes the best source's lead sentence.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from f1analyzer.data.circuits import get_circuit
from f1analyzer.knowledge.index import Hit
from f1analyzer.knowledge.query import DRIVER_CODE_SET, DRIVER_CODES, parse_query

MAX_SENTENCES = 5
#: a sentence joins the answer when it scores at least this share of the best sentence
RELATIVE_CUTOFF = 0.4
SYNONYM_WEIGHT = 0.5
FOCUS_BONUS = 1.5
OTHER_DRIVER_FACTOR = 0.5
#: a per-driver strategy line about nobody the question is about
DRIVER_LINE_FACTOR = 0.6
#: sentences longer than this many words are scored per sqrt(length / LONG_WORDS)
LONG_WORDS = 30
#: when the question names nothing, a source's weight is 1 / (1 + RANK_DECAY × (n − 1))
RANK_DECAY = 0.25
MAX_DOCUMENTS_UNNAMED = 2

_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")
# "Podium: 1. Ocon (Alpine), 2. Vettel …" / "Classification: 1. Ocon, 2. Vettel …": the period
# after a list number is not the end of a sentence (a per-driver line "Vettel (VET, …" is)
_LIST_NUMBER_RE = re.compile(
    r"(?:(?<=: )|(?<=, )|(?<= and ))(\d{1,2})\. "
    r"(?=[A-Z][\w'\-]*(?: [A-Z][\w'\-]*){0,2}(?: \((?![A-Z]{3},)|,|\.(?:\s|$)| and ))"
)
_PROTECT = "\u2024"  # one-dot leader: stands in for a list number's period while splitting
_WORD_RE = re.compile(r"[a-z0-9]+")
_DRIVER_NAMES = {code: name.title() for name, code in reversed(list(DRIVER_CODES.items()))}
_CODE_RE = re.compile(r"\b([A-Z]{3})\b")
#: a race summary's per-driver line: "Vettel (VET, Aston Martin, P2): Intermediate (laps 1–2) …"
_DRIVER_LINE_RE = re.compile(r"^[^:()]{1,40}\([A-Z]{3}, [^)]*\bP\d+\):")
_SURNAME_RE = re.compile(
    r"\b(" + "|".join(sorted((re.escape(k) for k in DRIVER_CODES), key=len, reverse=True)) + r")\b"
)

QUESTION_STOPWORDS = frozenset(
    "a an and are as at be by can could did do does for from had has have how i in is it its "
    "me of on or should that the their there this to was were what when where which who why "
    "will with would you your about tell much many race grand prix gp".split()
)
_WIN_WORDS = frozenset({"won", "win", "wins", "winner", "winning", "victory", "victories"})

#: question word → words the answer sentence may use instead (matched at half weight)
_STRATEGY = ("stop", "stops", "stopping", "pitted", "pit", "undercut", "overcut", "safety", "car",
             "vsc", "red", "flag", "neutralisations", "tyre", "tyres", "compound", "strategy",
             "intermediate", "medium", "hard", "soft", "wet")
#: open question words: expanded to the strategy vocabulary only when the question has no more
#: specific topic word ("why did Ocon win" → stops, Safety Car…; "how does tyre wear compare" → no)
_OPEN_WORDS = frozenset({"why", "how", "explain", "reason"})
SYNONYMS: dict[str, tuple[str, ...]] = {
    "why": _STRATEGY, "how": _STRATEGY, "explain": _STRATEGY, "reason": _STRATEGY,
    "strategy": _STRATEGY, "strategies": _STRATEGY, "tactic": _STRATEGY, "tactics": _STRATEGY,
    "plan": _STRATEGY,
    "pit": ("pit", "stop", "stops", "stopping", "pitted", "loss", "loses", "cost", "costs",
            "lane", "transit"),
    "loss": ("pit", "loss", "loses", "cost", "costs", "lane", "transit"),
    "lose": ("pit", "loss", "loses", "cost", "costs"),
    "cost": ("pit", "loss", "loses", "cost", "costs"),
    "cheap": ("loss", "loses", "less", "cost", "costs", "half", "saves", "cheap"),
    "cheaper": ("loss", "loses", "less", "cost", "costs", "half", "saves", "cheap"),
    "time": ("loss", "loses", "cost", "costs", "seconds"),
    "stop": ("stop", "stops", "stopping", "pitted", "pit", "one", "two", "three"),
    "stops": ("stop", "stops", "stopping", "pitted", "pit"),
    "tyre": ("tyre", "compound", "soft", "medium", "hard", "degrades", "degradation", "cliff"),
    "tyres": ("tyre", "compound", "soft", "medium", "hard", "degrades", "degradation", "cliff"),
    "tire": ("tyre", "compound", "soft", "medium", "hard", "degrades", "degradation", "cliff"),
    "tires": ("tyre", "compound", "soft", "medium", "hard", "degrades", "degradation", "cliff"),
    "degradation": ("degrades", "degradation", "tyre", "cliff", "wear"),
    "deg": ("degrades", "degradation", "tyre", "cliff", "wear"),
    "wear": ("degrades", "degradation", "tyre", "cliff"),
    "compound": ("compound", "soft", "medium", "hard", "intermediate", "wet"),
    "safety": ("safety", "car", "vsc", "neutralisations", "cheap"),
    "sc": ("safety", "car", "vsc", "neutralisations"),
    "vsc": ("virtual", "safety", "car", "vsc", "neutralisations"),
    "overtake": ("overtaking", "pass", "position", "changes", "undercut"),
    "overtaking": ("overtaking", "pass", "position", "changes", "undercut"),
    "overtakes": ("overtaking", "pass", "position", "changes"),
    "pass": ("overtaking", "pass", "undercut", "overcut"),
    "passing": ("overtaking", "pass", "undercut", "overcut"),
    "undercut": ("undercut", "overcut", "pitted", "ahead"),
    "overcut": ("undercut", "overcut", "stayed", "out"),
    "retire": ("retirements", "retired", "retirement", "dnf"),
    "retired": ("retirements", "retired", "retirement", "dnf"),
    "retirement": ("retirements", "retired", "retirement", "dnf"),
    "dnf": ("retirements", "retired", "retirement", "dnf"),
    "crash": ("retirements", "retired", "safety", "red", "flag"),
    "start": ("lap", "1", "start", "led", "opening", "started"),
    "opening": ("lap", "1", "start", "led", "opening"),
    "podium": ("podium",),
    "won": ("won", "winner", "winning", "podium"),
    "win": ("won", "winner", "winning", "podium"),
    "winner": ("won", "winner", "winning"),
    "wins": ("won", "wins", "winner", "winning"),
    "victory": ("won", "winner", "winning"),
    "most": ("most", "wins", "per"),
    "rain": ("wet", "intermediate", "mixed", "conditions"),
    "wet": ("wet", "intermediate", "mixed", "conditions"),
    "red": ("red", "flag", "red-flagged"),
    "risk": ("risk", "probability", "see", "least"),
}
#: words that make a question about a circuit's profile (a circuit document may answer it even
#: when the question also names a season)
_CIRCUIT_TOPICS = frozenset(_w for _w in (
    "loss", "lose", "cost", "degradation", "deg", "wear", "overtake", "overtaking", "overtakes",
    "passing", "risk", "profile", "circuit", "track", "transit", "lane"))


# ------------------------------------------------------------------------------- text helpers
@lru_cache(maxsize=4096)
def split_sentences(text: str) -> tuple[str, ...]:
    """Sentences of a passage; list numbers ("Podium: 1. Ocon (Alpine), 2. …") do not split."""
    protected = _LIST_NUMBER_RE.sub(lambda m: m.group(1) + _PROTECT + " ", text.strip())
    return tuple(s.strip().replace(_PROTECT, ".")
                 for s in _SENTENCE_RE.split(protected) if s.strip())


def _stem(w: str) -> str:
    return w.rstrip("s") if len(w) > 3 else w


@lru_cache(maxsize=65536)
def word_set(text: str) -> frozenset[str]:
    """Lower-case words with a plural 's' dropped ('Stops' → 'stop')."""
    return frozenset(_stem(w) for w in _WORD_RE.findall(text.lower()))


def cite(sentence: str, n: int) -> str:
    """'Text.' → 'Text [2].' (the marker goes before the closing punctuation)."""
    sentence = sentence.rstrip()
    if sentence and sentence[-1] in ".!?":
        return f"{sentence[:-1]} [{n}]{sentence[-1]}"
    return f"{sentence} [{n}]"


def idf(docs: Sequence[frozenset[str] | set[str]]) -> dict[str, float]:
    df: dict[str, int] = {}
    for words in docs:
        for w in words:
            df[w] = df.get(w, 0) + 1
    return {w: math.log(1 + len(docs) / c) for w, c in df.items()}


def _ascii_lower(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


@lru_cache(maxsize=65536)
def drivers_in(text: str) -> frozenset[str]:
    """Driver codes a sentence names, by code ("HAM") or surname ("Hamilton")."""
    codes = {c for c in _CODE_RE.findall(text) if c in DRIVER_CODE_SET}
    codes.update(DRIVER_CODES[name] for name in _SURNAME_RE.findall(_ascii_lower(text)))
    return frozenset(codes)


# ------------------------------------------------------------------------------- documents
def _meta(hit: Hit, key: str):
    return (hit.metadata or {}).get(key)


def _season(hit: Hit) -> int | None:
    value = _meta(hit, "season")
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _doc_drivers(hit: Hit) -> tuple[str, ...]:
    value = _meta(hit, "drivers") or ()
    if isinstance(value, str):
        value = [v for v in re.split(r"[,\s]+", value) if v]
    return tuple(str(v).upper() for v in value)


def _event_named(hit: Hit, question_lower: str) -> bool:
    event = _meta(hit, "event")
    if not event:
        return False
    event = _ascii_lower(str(event))
    short = event.replace(" grand prix", "")
    return event in question_lower or f"{short} gp" in question_lower or \
        (short != event and f"{short} grand prix" in question_lower)


def choose_documents(question: str, sources: Sequence[Hit]) -> tuple[list[int], bool, bool]:
    """Indexes (0-based, retrieval order) of the sources the answer should come from.

    Returns ``(indexes, named, matched)``: ``named`` is True when the question names a season,
    circuit, event or driver; ``matched`` is False when it names one and no source is about it.
    """
    parsed = parse_query(question)
    q_lower = _ascii_lower(question)
    q_words = word_set(question)
    seasons, circuit, drivers = set(parsed.seasons), parsed.circuit, set(parsed.drivers)
    events = {i for i, h in enumerate(sources) if _event_named(h, q_lower)}
    named = bool(seasons or circuit or drivers or events)
    if not named:
        return list(range(len(sources))), False, True
    circuit_topic = bool(q_words & {_stem(w) for w in _CIRCUIT_TOPICS})
    season_hit = {i for i, h in enumerate(sources) if _season(h) in seasons}
    if seasons and not season_hit and not circuit_topic:
        return [], True, False  # the named season is not among the sources
    circuit_hit = {i for i, h in enumerate(sources)
                   if circuit and _meta(h, "circuit") == circuit} | events
    scores: dict[int, float] = {}
    for i, hit in enumerate(sources):
        kind = _meta(hit, "kind")
        season, doc_circuit = _season(hit), _meta(hit, "circuit")
        if seasons and season is not None and season not in seasons:
            continue  # another season than the one asked about
        if circuit_hit and i not in circuit_hit and doc_circuit:
            continue  # another circuit
        score = 0.0
        if i in season_hit:
            score += 2
        if i in circuit_hit:
            score += 2 + (1 if i in events else 0)
        doc_drivers = _doc_drivers(hit)
        if drivers and drivers & set(doc_drivers):
            score += 1
            if kind == "race" and doc_drivers and doc_drivers[0] in drivers:
                score += 1  # the driver the question names won this race
        if kind == "circuit" and i in circuit_hit and (circuit_topic or not (seasons or drivers)):
            score += 1 + (2 if seasons and circuit_topic else 0)
        if kind == "season" and i in season_hit and not circuit_hit:
            score += 1
        scores[i] = score
    if not scores:
        return [], True, False
    best = max(scores.values())
    if best <= 0:
        return [], True, False
    return [i for i in sorted(scores) if scores[i] == best], True, True


# ------------------------------------------------------------------------------- sentences
def _question_terms(question: str, chosen: Sequence[Hit]) -> tuple[set[str], set[str]]:
    """(direct, synonym) terms; the names of the chosen events and circuits are not topic words
    (they are in every lead sentence) and neither are the question's years."""
    words = word_set(question) - {_stem(w) for w in QUESTION_STOPWORDS}
    entity: set[str] = set()
    for hit in chosen:
        for value in (_meta(hit, "event"), _meta(hit, "circuit")):
            if value:
                entity |= word_set(str(value).replace("_", " "))
        c = get_circuit(_meta(hit, "circuit")) if _meta(hit, "circuit") else None
        if c is not None:
            entity |= word_set(f"{c.name} {c.location} {c.country} {' '.join(c.aliases)}")
    entity |= {str(y) for y in parse_query(question).seasons}
    direct = {w for w in words if w not in entity} - {"grand", "prix"}
    raw = set(_WORD_RE.findall(question.lower()))
    if raw & (set(SYNONYMS) - _OPEN_WORDS - _WIN_WORDS):
        raw -= _OPEN_WORDS  # a specific topic: "how" adds nothing
    synonyms = {_stem(s) for w in raw for s in SYNONYMS.get(w, ())} - direct
    return direct, synonyms


_PLAN_PREFIX_RE = re.compile(
    r"^(?:Winner's strategy: [^:]*? ran |[^:()]{1,40}\([A-Z]{3}, [^)]*\): )")


def _near_duplicate(a: str, b: str) -> bool:
    """Same fact twice: "Winner's strategy: Ocon ran X." and "Ocon (OCO, Alpine, P1): X."."""
    pa, pb = _PLAN_PREFIX_RE.sub("", a), _PLAN_PREFIX_RE.sub("", b)
    return (pa != a or pb != b) and pa == pb


def answer_question(question: str, sources: Sequence[Hit], lead: bool = True) -> str:
    """The offline answer to ``question`` from ``sources`` (see the module docstring)."""
    indexes, named, matched = choose_documents(question, sources)
    if not matched:
        return _no_match(sources, lead, named=_what_named(question))
    chosen = [sources[i] for i in indexes]
    direct, synonyms = _question_terms(question, chosen)
    parsed = parse_query(question)
    raw = set(_WORD_RE.findall(question.lower()))
    asks_win = bool(raw & _WIN_WORDS)
    focus = set(parsed.drivers)
    first = chosen[0]
    if not focus and asks_win and _meta(first, "kind") == "race" and _doc_drivers(first):
        focus = {_doc_drivers(first)[0]}  # "who won … and why": the winner's sentences

    candidates = [(i + 1, k, s) for i in indexes
                  for k, s in enumerate(split_sentences(sources[i].text))]
    words = [word_set(s) for _, _, s in candidates]
    weights = idf(words)
    scored = []
    for (n, k, sentence), ws in zip(candidates, words):
        score = sum(weights[w] for w in ws & direct)
        score += SYNONYM_WEIGHT * sum(weights[w] for w in ws & synonyms)
        n_words = len(_WORD_RE.findall(sentence.lower()))
        if n_words > LONG_WORDS:
            score /= math.sqrt(n_words / LONG_WORDS)  # long lists match anything
        named_here = drivers_in(sentence) if score > 0 else frozenset()
        if focus and named_here & focus:
            score += FOCUS_BONUS
        elif focus and named_here:
            score *= OTHER_DRIVER_FACTOR
        elif _DRIVER_LINE_RE.match(sentence):
            score *= DRIVER_LINE_FACTOR
        if not named:
            score /= 1 + RANK_DECAY * (n - 1)
        # earlier (better retrieved) sources and sentences win ties
        scored.append((score, n, k, sentence))
    ranked = sorted(scored, key=lambda r: (-r[0], r[1], r[2]))
    top = ranked[0][0] if ranked else 0.0
    forced = []
    if asks_win:
        forced = [r for r in scored if r[1] == indexes[0] + 1 and r[2] == 0]
    if top <= 0 and not forced:
        return _no_match(sources, lead, named="", best=indexes[0] if indexes else 0)
    picked = list(forced)
    docs = {r[1] for r in picked}
    for r in ranked:
        if len(picked) >= MAX_SENTENCES or r[0] < RELATIVE_CUTOFF * top or r[0] <= 0:
            break
        if not named and r[1] not in docs and len(docs) >= MAX_DOCUMENTS_UNNAMED:
            continue
        if any(r[1:3] == p[1:3] or _near_duplicate(r[3], p[3]) for p in picked):
            continue
        picked.append(r)
        docs.add(r[1])
    picked.sort(key=lambda r: (r[1], r[2]))  # reading order of the sources
    body = " ".join(cite(r[3], r[1]) for r in picked)
    return _with_sources(body, sources, lead)


def _lead_sentence(hit: Hit) -> str:
    sentences = split_sentences(hit.text)
    return sentences[0] if sentences else hit.text.strip()


def _what_named(question: str) -> str:
    """'the 2025 season, Monaco' — what the question names, in words (for a plain "no")."""
    parsed = parse_query(question)
    parts = [f"the {y} season" for y in parsed.seasons]
    c = get_circuit(parsed.circuit) if parsed.circuit else None
    if c is not None:
        parts.append(c.name)
    parts += [_DRIVER_NAMES.get(d, d) for d in parsed.drivers]
    return ", ".join(parts) or "what the question names"


def _no_match(sources: Sequence[Hit], lead: bool, *, named: str, best: int = 0) -> str:
    """Say plainly that nothing matches, then quote the best source's lead sentence."""
    hit = sources[best]
    what = (f"None of the retrieved passages is about {named}" if named
            else "None of the retrieved passages answers this directly")
    body = (f"{what}; the closest one, {hit.title} [{best + 1}], begins: "
            f"{cite(_lead_sentence(hit), best + 1)}")
    return _with_sources(body, sources, lead)


def _with_sources(body: str, sources: Sequence[Hit], lead: bool) -> str:
    if not lead:
        return body
    cited = sorted({int(m) for m in re.findall(r"\[(\d{1,2})\]", body)
                    if 1 <= int(m) <= len(sources)})
    titles = "; ".join(f"[{n}] {sources[n - 1].title}" for n in cited)
    return f"{body}\n\nSources: {titles}."
