"""Circuits: the link between an event's name and the track it runs on.

Several Grands Prix share a circuit (the 70th Anniversary GP ran at Silverstone, the Styrian GP at
the Red Bull Ring) and some names changed (Mexican → Mexico City, Brazilian → São Paulo), so every
per-circuit model is keyed by ``circuit_key`` (Ergast/Jolpica's ``circuitId``), never by the name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Circuit:
    key: str
    name: str
    location: str
    country: str
    #: event names held at this circuit (FastF1 ``EventName``)
    events: tuple[str, ...]
    #: other words users type for it
    aliases: tuple[str, ...] = field(default_factory=tuple)


CIRCUITS: tuple[Circuit, ...] = (
    Circuit("albert_park", "Albert Park", "Melbourne", "Australia", ("Australian Grand Prix",), ("australia",)),
    Circuit("bahrain", "Bahrain International Circuit", "Sakhir", "Bahrain", ("Bahrain Grand Prix",)),
    Circuit("bahrain_outer", "Bahrain Outer Circuit", "Sakhir", "Bahrain", ("Sakhir Grand Prix",), ("sakhir outer",)),
    Circuit("shanghai", "Shanghai International Circuit", "Shanghai", "China", ("Chinese Grand Prix",), ("china",)),
    Circuit("baku", "Baku City Circuit", "Baku", "Azerbaijan", ("Azerbaijan Grand Prix",), ("azerbaijan",)),
    Circuit("catalunya", "Circuit de Barcelona-Catalunya", "Barcelona", "Spain", ("Spanish Grand Prix",), ("spain", "montmelo")),
    Circuit("monaco", "Circuit de Monaco", "Monte Carlo", "Monaco", ("Monaco Grand Prix",), ("monte carlo",)),
    Circuit("villeneuve", "Circuit Gilles Villeneuve", "Montréal", "Canada", ("Canadian Grand Prix",), ("canada", "montreal")),
    Circuit("ricard", "Circuit Paul Ricard", "Le Castellet", "France", ("French Grand Prix",), ("france", "paul ricard")),
    Circuit("red_bull_ring", "Red Bull Ring", "Spielberg", "Austria", ("Austrian Grand Prix", "Styrian Grand Prix"), ("austria", "styria")),
    Circuit("silverstone", "Silverstone Circuit", "Silverstone", "United Kingdom", ("British Grand Prix", "70th Anniversary Grand Prix"), ("britain", "uk", "great britain")),
    Circuit("hockenheimring", "Hockenheimring", "Hockenheim", "Germany", ("German Grand Prix",), ("germany",)),
    Circuit("hungaroring", "Hungaroring", "Budapest", "Hungary", ("Hungarian Grand Prix",), ("hungary",)),
    Circuit("spa", "Circuit de Spa-Francorchamps", "Spa", "Belgium", ("Belgian Grand Prix",), ("belgium", "spa-francorchamps")),
    Circuit("monza", "Autodromo Nazionale di Monza", "Monza", "Italy", ("Italian Grand Prix",), ("italy",)),
    Circuit("marina_bay", "Marina Bay Street Circuit", "Marina Bay", "Singapore", ("Singapore Grand Prix",)),
    Circuit("sochi", "Sochi Autodrom", "Sochi", "Russia", ("Russian Grand Prix",), ("russia",)),
    Circuit("suzuka", "Suzuka Circuit", "Suzuka", "Japan", ("Japanese Grand Prix",), ("japan",)),
    Circuit("americas", "Circuit of the Americas", "Austin", "USA", ("United States Grand Prix",), ("cota", "usa", "united states")),
    Circuit("rodriguez", "Autódromo Hermanos Rodríguez", "Mexico City", "Mexico", ("Mexican Grand Prix", "Mexico City Grand Prix"), ("mexico",)),
    Circuit("interlagos", "Autódromo José Carlos Pace", "São Paulo", "Brazil", ("Brazilian Grand Prix", "São Paulo Grand Prix"), ("brazil", "sao paulo")),
    Circuit("yas_marina", "Yas Marina Circuit", "Abu Dhabi", "UAE", ("Abu Dhabi Grand Prix",), ("yas marina",)),
    Circuit("mugello", "Autodromo Internazionale del Mugello", "Mugello", "Italy", ("Tuscan Grand Prix",), ("tuscany",)),
    Circuit("nurburgring", "Nürburgring", "Nürburg", "Germany", ("Eifel Grand Prix",), ("eifel",)),
    Circuit("portimao", "Autódromo Internacional do Algarve", "Portimão", "Portugal", ("Portuguese Grand Prix",), ("portugal", "algarve")),
    Circuit("imola", "Autodromo Enzo e Dino Ferrari", "Imola", "Italy", ("Emilia Romagna Grand Prix",), ("emilia romagna", "san marino")),
    Circuit("istanbul", "Istanbul Park", "Istanbul", "Turkey", ("Turkish Grand Prix",), ("turkey",)),
    Circuit("zandvoort", "Circuit Park Zandvoort", "Zandvoort", "Netherlands", ("Dutch Grand Prix",), ("netherlands", "holland")),
    Circuit("losail", "Losail International Circuit", "Lusail", "Qatar", ("Qatar Grand Prix",), ("qatar", "lusail")),
    Circuit("jeddah", "Jeddah Corniche Circuit", "Jeddah", "Saudi Arabia", ("Saudi Arabian Grand Prix",), ("saudi arabia", "saudi")),
    Circuit("miami", "Miami International Autodrome", "Miami", "USA", ("Miami Grand Prix",)),
    Circuit("vegas", "Las Vegas Strip Circuit", "Las Vegas", "USA", ("Las Vegas Grand Prix",), ("vegas",)),
    Circuit("sepang", "Sepang International Circuit", "Kuala Lumpur", "Malaysia", ("Malaysian Grand Prix",), ("malaysia",)),
)

_BY_KEY = {c.key: c for c in CIRCUITS}
_BY_EVENT = {_n: c for c in CIRCUITS for _n in c.events}


def normalise(text: str) -> str:
    """Lower-case ASCII words: 'São Paulo Grand Prix' → 'sao paulo grand prix'."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


_NORM_EVENT = {normalise(n): c for n, c in _BY_EVENT.items()}


def circuit_for_event(event_name: str) -> str:
    """Circuit key for a FastF1 ``EventName``; unknown events get a key made from their name."""
    c = _BY_EVENT.get(event_name) or _NORM_EVENT.get(normalise(event_name))
    if c is not None:
        return c.key
    base = normalise(event_name).replace(" grand prix", "").strip()
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
