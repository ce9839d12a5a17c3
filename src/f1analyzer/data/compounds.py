"""Tyre allocations: which three dry compounds Pirelli brought to each event.

FastF1 names compounds relatively (SOFT/MEDIUM/HARD = the softest/middle/hardest of the three
brought), but how a SOFT behaves depends on which absolute compound it is (C1 hardest … C5/C6
softest from 2019; HARD…HYPERSOFT in 2018). A ``compound_selection.toml`` file (per season, per
round; 2018 listed softest first, 2019+ hardest first) maps one onto the other.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from ..errors import DataValidationError
from ..log import get_logger

log = get_logger("data.compounds")

#: 2018's absolute names, hardest first
NAMED_2018 = ("SUPERHARD", "HARD", "MEDIUM", "SOFT", "SUPERSOFT", "ULTRASOFT", "HYPERSOFT")


def _hardest_first(season: int, names: list[str]) -> list[str]:
    names = [str(n).upper() for n in names]
    if all(n in NAMED_2018 for n in names):
        return sorted(names, key=NAMED_2018.index)
    if all(n.startswith("C") and n[1:].isdigit() for n in names):
        return sorted(names, key=lambda n: int(n[1:]))
    return names if season >= 2019 else list(reversed(names))


def load_allocation(path: Path) -> dict[tuple[int, int], list[str]]:
    """{(season, round): [hardest, middle, softest]} from a compound_selection.toml file."""
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataValidationError(f"{path}: not a readable compound selection file ({exc})") from None
    out: dict[tuple[int, int], list[str]] = {}
    for season_s, rounds in doc.items():
        if not (str(season_s).isdigit() and isinstance(rounds, dict)):
            continue
        for round_s, names in rounds.items():
            if str(round_s).strip().isdigit() and isinstance(names, list) and len(names) == 3:
                out[(int(season_s), int(round_s))] = _hardest_first(int(season_s), names)
    return out


def find_allocation_file(files: list[Path]) -> Path | None:
    """A compound_selection.toml next to the first input file or one folder up."""
    for f in files[:1]:
        for d in (f.parent, f.parent.parent):
            cand = d / "compound_selection.toml"
            if cand.is_file():
                return cand
    return None


def code_for(relative: str, allocation: list[str]) -> str | None:
    """'SOFT' with allocation ['C1','C2','C3'] → 'C3'.

    Wet-weather tyres have no C-number; like the shared data's ``CompoundName`` they keep their
    name ('INTERMEDIATE', 'WET') with or without an allocation. UNKNOWN stays unknown (None).
    """
    if relative in ("INTERMEDIATE", "WET"):
        return relative
    idx = {"HARD": 0, "MEDIUM": 1, "SOFT": 2}.get(relative)
    if idx is None or len(allocation) != 3:
        return None
    return allocation[idx]
