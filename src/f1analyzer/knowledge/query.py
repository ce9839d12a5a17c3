"""Reading a free-text question: which season, drivers and circuit does it name?

"Why did Verstappen pit early at Monza in 2023?" → season 2023, driver VER, circuit ``monza``.
The retriever uses these to boost matching documents (not to exclude others: a question about a
race also wants the rule notes that explain it). Circuit names come from
:func:`f1analyzer.data.circuits.resolve_circuit`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from f1analyzer.data.circuits import resolve_circuit as _resolve_circuit

#: circuit lookup normalises every known circuit phrase per call (~3 ms); questions repeat
resolve_circuit = lru_cache(maxsize=4096)(_resolve_circuit)

FIRST_SEASON = 2018

#: surname (normalised, lower-case ASCII) → three-letter code, for the 2018–2024 grids
DRIVER_CODES: dict[str, str] = {
    "hamilton": "HAM", "bottas": "BOT", "vettel": "VET", "raikkonen": "RAI",
    "verstappen": "VER", "ricciardo": "RIC", "perez": "PER", "checo": "PER", "ocon": "OCO",
    "stroll": "STR", "sirotkin": "SIR", "hulkenberg": "HUL", "sainz": "SAI", "gasly": "GAS",
    "hartley": "HAR", "alonso": "ALO", "vandoorne": "VAN", "magnussen": "MAG",
    "grosjean": "GRO", "leclerc": "LEC", "ericsson": "ERI", "norris": "NOR", "russell": "RUS",
    "albon": "ALB", "kvyat": "KVY", "giovinazzi": "GIO", "kubica": "KUB", "latifi": "LAT",
    "aitken": "AIT", "fittipaldi": "FIT", "tsunoda": "TSU", "schumacher": "MSC",
    "mazepin": "MAZ", "zhou": "ZHO", "de vries": "DEV", "devries": "DEV", "sargeant": "SAR",
    "piastri": "PIA", "lawson": "LAW", "bearman": "BEA", "colapinto": "COL", "doohan": "DOO",
}
DRIVER_CODE_SET: frozenset[str] = frozenset(DRIVER_CODES.values())

_SEASON_RE = re.compile(r"\b(20[1-9][0-9])\b")
_CODE_RE = re.compile(r"\b([A-Z]{3})\b")
_SURNAME_RE = re.compile(
    r"\b(" + "|".join(sorted((re.escape(k) for k in DRIVER_CODES), key=len, reverse=True)) + r")\b"
)


def _ascii_lower(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return text.lower()


@dataclass(frozen=True)
class ParsedQuery:
    """Entities found in a question; empty lists / None when the question names none."""

    text: str
    seasons: tuple[int, ...] = field(default_factory=tuple)
    drivers: tuple[str, ...] = field(default_factory=tuple)
    circuit: str | None = None

    def as_filters(self) -> dict[str, list]:
        """The entities as index filters (``{"season": [2023], "driver": ["VER"]}``)."""
        out: dict[str, list] = {}
        if self.seasons:
            out["season"] = list(self.seasons)
        if self.drivers:
            out["driver"] = list(self.drivers)
        if self.circuit:
            out["circuit"] = [self.circuit]
        return out


def parse_query(text: str, *, last_season: int = 2030) -> ParsedQuery:
    """Find seasons (2018 onwards), driver codes or surnames and a circuit in ``text``.

    Args:
        text: the user's question.
        last_season: latest year accepted as a season (later 4-digit numbers are ignored).
    """
    seasons = sorted({int(y) for y in _SEASON_RE.findall(text)
                      if FIRST_SEASON <= int(y) <= last_season})
    drivers: list[str] = []
    for code in _CODE_RE.findall(text):
        if code in DRIVER_CODE_SET and code not in drivers:
            drivers.append(code)
    for name in _SURNAME_RE.findall(_ascii_lower(text)):
        code = DRIVER_CODES[name]
        if code not in drivers:
            drivers.append(code)
    return ParsedQuery(text=text, seasons=tuple(seasons), drivers=tuple(drivers),
                       circuit=resolve_circuit(text))
