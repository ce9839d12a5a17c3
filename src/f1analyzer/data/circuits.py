"""Circuits: the link between an event's name and the track it runs on.

Several Grands Prix share a circuit (the 70th Anniversary GP ran at Silverstone, the Styrian GP at
the Red Bull Ring) and some names changed (Mexican → Mexico City, Brazilian → São Paulo), so every
per-circuit model is keyed by ``circuit_key`` (Ergast/Jolpica's ``circuitId``), never by the name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field


#: pit-loss classes (green-flag stop, pit-lane time included), from the 2018–2024 fits of the bundled
#: model set: low < 22 s ≤ medium < 25 s ≤ high
PIT_LOSS_CLASSES: tuple[str, ...] = ("low", "medium", "high")
#: "street": temporary or public-road circuits (walls, low grip early, more Safety Cars), parks
#: included (Albert Park, Montréal); "permanent": purpose-built tracks
KINDS: tuple[str, ...] = ("street", "permanent")


@dataclass(frozen=True)
class Circuit:
    """One venue (one layout). ``key`` is Ergast/Jolpica's ``circuitId``.

    The attributes after ``aliases`` describe the track itself so that a venue new to a model set
    can borrow priors from similar ones (:func:`similar_circuits`).
    """

    key: str
    name: str
    location: str
    country: str
    #: event names held at this circuit (FastF1 ``EventName``)
    events: tuple[str, ...]
    #: other words users type for it
    aliases: tuple[str, ...] = field(default_factory=tuple)
    #: lap length of the layout used most recently, km
    length_km: float | None = None
    #: "street" or "permanent" (see :data:`KINDS`)
    kind: str = "permanent"
    #: "low", "medium" or "high" green-flag pit loss (see :data:`PIT_LOSS_CLASSES`)
    pit_loss_class: str = "medium"
    #: another layout on the same grounds (same surface, climate, pit lane), e.g. Bahrain's outer loop
    same_site_as: str | None = None


#: what fans call a venue when its location is not it (the rest: ``Circuit.location``)
_FAN_NAMES = {"bahrain": "Bahrain", "monaco": "Monaco", "bahrain_outer": "Sakhir (outer loop)", "marina_bay": "Singapore",
              "americas": "Austin (COTA)", "red_bull_ring": "Red Bull Ring", "losail": "Qatar",
              "yas_marina": "Abu Dhabi", "sepang": "Sepang", "ricard": "Paul Ricard",
              "nurburgring": "Nürburgring", "interlagos": "Interlagos", "jeddah": "Jeddah"}


def fan_name(key: str | None) -> str:
    """A circuit as fans say it: ``villeneuve`` → ``Montréal``, ``spa`` → ``Spa``,
    ``rodriguez`` → ``Mexico City``; unknown keys as they are."""
    if not key:
        return ""
    c = get_circuit(key)
    return _FAN_NAMES.get(key) or (c.location if c else str(key))


_C = Circuit
CIRCUITS: tuple[Circuit, ...] = (
    _C("albert_park", "Albert Park", "Melbourne", "Australia", ("Australian Grand Prix",), ("australia",), 5.278, "street", "low"),
    _C("bahrain", "Bahrain International Circuit", "Sakhir", "Bahrain", ("Bahrain Grand Prix",), (), 5.412, "permanent", "medium"),
    # the Sakhir GP's outer loop is a different layout (3.5 km, 87 laps), not the Bahrain GP's track
    _C("bahrain_outer", "Bahrain Outer Circuit", "Sakhir", "Bahrain", ("Sakhir Grand Prix",), ("sakhir outer",), 3.543, "permanent", "medium", "bahrain"),
    _C("shanghai", "Shanghai International Circuit", "Shanghai", "China", ("Chinese Grand Prix",), ("china",), 5.451, "permanent", "medium"),
    _C("baku", "Baku City Circuit", "Baku", "Azerbaijan", ("Azerbaijan Grand Prix",), ("azerbaijan",), 6.003, "street", "medium"),
    _C("catalunya", "Circuit de Barcelona-Catalunya", "Barcelona", "Spain", ("Spanish Grand Prix", "Barcelona-Catalunya Grand Prix", "Barcelona Grand Prix"), ("spain", "montmelo"), 4.657, "permanent", "medium"),
    _C("monaco", "Circuit de Monaco", "Monte Carlo", "Monaco", ("Monaco Grand Prix",), ("monte carlo",), 3.337, "street", "medium"),
    _C("villeneuve", "Circuit Gilles Villeneuve", "Montréal", "Canada", ("Canadian Grand Prix",), ("canada", "montreal"), 4.361, "street", "low"),
    _C("ricard", "Circuit Paul Ricard", "Le Castellet", "France", ("French Grand Prix",), ("france", "paul ricard"), 5.842, "permanent", "medium"),
    _C("red_bull_ring", "Red Bull Ring", "Spielberg", "Austria", ("Austrian Grand Prix", "Styrian Grand Prix"), ("austria", "styria"), 4.318, "permanent", "low"),
    _C("silverstone", "Silverstone Circuit", "Silverstone", "United Kingdom", ("British Grand Prix", "70th Anniversary Grand Prix"), ("britain", "uk", "great britain"), 5.891, "permanent", "low"),
    _C("hockenheimring", "Hockenheimring", "Hockenheim", "Germany", ("German Grand Prix",), ("germany",), 4.574, "permanent", "high"),
    _C("hungaroring", "Hungaroring", "Budapest", "Hungary", ("Hungarian Grand Prix",), ("hungary",), 4.381, "permanent", "low"),
    _C("spa", "Circuit de Spa-Francorchamps", "Spa", "Belgium", ("Belgian Grand Prix",), ("belgium", "spa-francorchamps"), 7.004, "permanent", "low"),
    _C("monza", "Autodromo Nazionale di Monza", "Monza", "Italy", ("Italian Grand Prix",), ("italy",), 5.793, "permanent", "high"),
    _C("marina_bay", "Marina Bay Street Circuit", "Marina Bay", "Singapore", ("Singapore Grand Prix",), (), 4.940, "street", "high"),
    _C("sochi", "Sochi Autodrom", "Sochi", "Russia", ("Russian Grand Prix",), ("russia",), 5.848, "street", "high"),
    _C("suzuka", "Suzuka Circuit", "Suzuka", "Japan", ("Japanese Grand Prix",), ("japan",), 5.807, "permanent", "medium"),
    _C("americas", "Circuit of the Americas", "Austin", "USA", ("United States Grand Prix",), ("cota", "usa", "united states"), 5.513, "permanent", "low"),
    _C("rodriguez", "Autódromo Hermanos Rodríguez", "Mexico City", "Mexico", ("Mexican Grand Prix", "Mexico City Grand Prix"), ("mexico",), 4.304, "permanent", "medium"),
    _C("interlagos", "Autódromo José Carlos Pace", "São Paulo", "Brazil", ("Brazilian Grand Prix", "São Paulo Grand Prix"), ("brazil", "sao paulo", "interlagos"), 4.309, "permanent", "medium"),
    _C("yas_marina", "Yas Marina Circuit", "Abu Dhabi", "UAE", ("Abu Dhabi Grand Prix",), ("yas marina",), 5.281, "permanent", "medium"),
    _C("mugello", "Autodromo Internazionale del Mugello", "Mugello", "Italy", ("Tuscan Grand Prix",), ("tuscany",), 5.245, "permanent", "medium"),
    _C("nurburgring", "Nürburgring", "Nürburg", "Germany", ("Eifel Grand Prix",), ("eifel",), 5.148, "permanent", "medium"),
    _C("portimao", "Autódromo Internacional do Algarve", "Portimão", "Portugal", ("Portuguese Grand Prix",), ("portugal", "algarve"), 4.653, "permanent", "high"),
    _C("imola", "Autodromo Enzo e Dino Ferrari", "Imola", "Italy", ("Emilia Romagna Grand Prix",), ("emilia romagna", "san marino"), 4.909, "permanent", "high"),
    _C("istanbul", "Istanbul Park", "Istanbul", "Turkey", ("Turkish Grand Prix",), ("turkey",), 5.338, "permanent", "medium"),
    _C("zandvoort", "Circuit Park Zandvoort", "Zandvoort", "Netherlands", ("Dutch Grand Prix",), ("netherlands", "holland"), 4.259, "permanent", "medium"),
    _C("losail", "Losail International Circuit", "Lusail", "Qatar", ("Qatar Grand Prix",), ("qatar", "lusail"), 5.419, "permanent", "high"),
    _C("jeddah", "Jeddah Corniche Circuit", "Jeddah", "Saudi Arabia", ("Saudi Arabian Grand Prix",), ("saudi arabia", "saudi"), 6.174, "street", "low"),
    _C("miami", "Miami International Autodrome", "Miami", "USA", ("Miami Grand Prix",), ("miami gardens",), 5.412, "street", "low"),
    _C("vegas", "Las Vegas Strip Circuit", "Las Vegas", "USA", ("Las Vegas Grand Prix",), ("vegas",), 6.201, "street", "medium"),
    _C("sepang", "Sepang International Circuit", "Kuala Lumpur", "Malaysia", ("Malaysian Grand Prix",), ("malaysia",), 5.543, "permanent", "medium"),
    # from 2026 the Spanish Grand Prix moves to Madrid (see EVENT_MOVES); a venue no model set has
    # seen yet, so its answers borrow from similar tracks and say so
    _C("madring", "Madring", "Madrid", "Spain", ("Madrid Grand Prix",), ("madrid", "ifema"), 5.474, "street", "medium"),
)

#: event names that moved to another venue: name → [(first season, circuit key)], latest last
EVENT_MOVES: dict[str, tuple[tuple[int, str], ...]] = {
    "Spanish Grand Prix": ((2026, "madring"),),
}

_BY_KEY = {c.key: c for c in CIRCUITS}
_BY_EVENT = {_n: c for c in CIRCUITS for _n in c.events}


def normalise(text: str) -> str:
    """Lower-case ASCII words: 'São Paulo Grand Prix' → 'sao paulo grand prix'."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


_NORM_EVENT = {normalise(n): c for n, c in _BY_EVENT.items()}
_NORM_MOVES = {normalise(n): v for n, v in EVENT_MOVES.items()}


def _venues(location: str | None) -> list[Circuit]:
    """Circuits at a venue named by its location, circuit name or id (several layouts may share one)."""
    if location is None or not str(location).strip():
        return []
    q = normalise(location)
    if q.replace(" ", "_") in _BY_KEY:
        return [_BY_KEY[q.replace(" ", "_")]]
    return [c for c in CIRCUITS
            if q in (normalise(c.location), normalise(c.name), *(normalise(a) for a in c.aliases))]


def circuit_for_venue(location: str | None) -> str | None:
    """Circuit key of a venue named by its location, circuit name or id (FastF1's
    ``event["Location"]``, Jolpica's ``circuitId``), or None when not in the table. Where several
    layouts share the grounds (Sakhir) this is the main one: :func:`circuit_for_event` picks by name."""
    found = _venues(location)
    return found[0].key if found else None


def circuit_for_event(event_name: str, *, season: int | None = None, location: str | None = None) -> str:
    """Circuit key of an event: the venue decides, not the event's name.

    Order: the venue when the source names it (``location``; where several layouts share the
    grounds, the one the event's name points to); then the event name, following
    :data:`EVENT_MOVES` for names that changed venue (``season`` given); a renamed Grand Prix at a
    known track (Styrian, 70th Anniversary, Mexico City, São Paulo...) maps to that track. Unknown
    events get a key made from their name: a venue new to the table.
    """
    norm = normalise(event_name)
    by_name = None
    if season is not None:
        for first, moved in reversed(_NORM_MOVES.get(norm, ())):
            if int(season) >= first:
                by_name = moved
                break
    if by_name is None:
        c = _BY_EVENT.get(event_name) or _NORM_EVENT.get(norm)
        by_name = c.key if c is not None else None
    venues = _venues(location)
    if venues:
        keys = [v.key for v in venues]
        return by_name if by_name in keys else keys[0]
    if by_name is not None:
        return by_name
    base = norm.replace(" grand prix", "").strip()
    return base.replace(" ", "_") or "unknown"


def get_circuit(key: str) -> Circuit | None:
    return _BY_KEY.get(key)


def circuit_terms(c: Circuit) -> list[str]:
    """Every normalised phrase that names this circuit."""
    terms = {c.key.replace("_", " "), normalise(c.name), normalise(c.location), normalise(c.country)}
    terms.update(normalise(e) for e in c.events)
    terms.update(normalise(e).replace(" grand prix", "") for e in c.events)
    terms.update(normalise(a) for a in c.aliases)
    return sorted(t for t in terms if t)


def resolve_circuit(text: str) -> str | None:
    """Circuit key named by free text ('Monza', 'italian gp', 'COTA'), or None.

    Exact phrases win; otherwise the longest phrase found inside the text.
    """
    q = normalise(text).replace(" gp", " grand prix")
    if not q:
        return None
    if q.replace(" ", "_") in _BY_KEY:
        return q.replace(" ", "_")
    best: tuple[int, str] | None = None
    for c in CIRCUITS:
        for term in circuit_terms(c):
            if q == term:
                return c.key
            if re.search(rf"\b{re.escape(term)}\b", q) and (best is None or len(term) > best[0]):
                best = (len(term), c.key)
    return best[1] if best else None


def similar_circuits(key: str, candidates, k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` circuits among ``candidates`` most like ``key``, with weights summing to 1.

    Likeness: lap length (1 km apart counts one), street vs permanent (one), pit-loss class
    (0.75 a class), and another layout on the same grounds counts as nearly the same track. Weights
    fall with that distance. Empty when ``key`` is not in the table.

    Example:
        >>> similar_circuits("madring", ["baku", "monza", "jeddah", "marina_bay"])
        [('baku', 0.4...), ('jeddah', 0.3...), ('marina_bay', 0.2...)]
    """
    me = get_circuit(key)
    if me is None:
        return []
    scored = []
    for other_key in candidates:
        other = get_circuit(str(other_key))
        if other is None or other.key == me.key:
            continue
        d = 1.0 * (me.kind != other.kind)
        d += 0.75 * abs(PIT_LOSS_CLASSES.index(me.pit_loss_class) - PIT_LOSS_CLASSES.index(other.pit_loss_class))
        if me.length_km is not None and other.length_km is not None:
            d += abs(me.length_km - other.length_km)
        else:
            d += 1.0
        if me.same_site_as == other.key or other.same_site_as == me.key:
            d = 0.0
        scored.append((d, other.key))
    scored.sort()
    best = scored[:k]
    w = [1.0 / (0.25 + d) for d, _ in best]
    total = sum(w)
    return [(ck, wi / total) for (_, ck), wi in zip(best, w)]


def race_laps_for(length_km: float) -> int:
    """Laps of a Grand Prix on a lap of ``length_km``: the fewest covering 305 km."""
    import math

    return int(math.ceil(305.0 / float(length_km)))
