"""Wording helpers shared by the document writers (:mod:`.writers`, :mod:`.writers_circuit`):
driver names, compound labels, lap ranges, lists and numbers in prose.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from f1analyzer.data.circuits import get_circuit
from f1analyzer.knowledge.query import DRIVER_CODES

_ALIASES = {"checo", "devries"}
DRIVER_NAMES: dict[str, str] = {
    code: " ".join(w.capitalize() for w in name.split()).replace("De Vries", "de Vries")
    for name, code in DRIVER_CODES.items() if name not in _ALIASES
}
_STOP_WORDS = {0: "no-stop", 1: "one-stop", 2: "two-stop", 3: "three-stop", 4: "four-stop",
               5: "five-stop"}


# ------------------------------------------------------------------------------- small helpers
def driver_name(code: str) -> str:
    """'HAM' → 'Hamilton (HAM)'; unknown codes stay as they are."""
    name = DRIVER_NAMES.get(str(code).upper())
    return f"{name} ({code})" if name else str(code)


def _surname(code: str) -> str:
    return DRIVER_NAMES.get(str(code).upper(), str(code))


def compound_label(name: str) -> str:
    return str(name).strip().capitalize()


def _laps(a: int, b: int) -> str:
    return f"lap {a}" if a == b else f"laps {a}–{b}"


def _join(items: Sequence[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _num(x: float, nd: int = 1) -> str:
    x = round(float(x), nd)
    return str(int(x)) if float(x).is_integer() else f"{x:.{nd}f}"


def _runs(laps: Iterable[int]) -> list[list[int]]:
    """[1, 2, 3, 7, 8] → [[1, 3], [7, 8]]."""
    out: list[list[int]] = []
    for lap in sorted(set(int(x) for x in laps)):
        if out and lap == out[-1][1] + 1:
            out[-1][1] = lap
        else:
            out.append([lap, lap])
    return out


def _stop_word(n: int) -> str:
    return _STOP_WORDS.get(int(n), f"{int(n)}-stop")


def _event_where(f: dict) -> str:
    c = get_circuit(f["circuit"])
    return f"{f['event']} at {c.name} ({c.location}, {c.country})" if c else f["event"]
