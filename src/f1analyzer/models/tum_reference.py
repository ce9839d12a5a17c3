"""Reading TU Munich's published race-simulation parameter files, to compare our fits with them.

Their ``pars_<Track>_<Season>.ini`` files (github.com/TUMFTM/race-simulation) hold JSON sections
such as ``track_pars = {...}``. Nothing of theirs ships with this package: this module only maps
their track names to our circuit keys and reads a section, for the comparison scripts
(``scripts/build_bundled_models.py --compare-tum``, ``benchmarks/bench_pit_loss.py --tum``).
"""

from __future__ import annotations

import json
import re

#: TUM track name → our circuit key
TUM_TRACKS = {
    "Austin": "americas", "Baku": "baku", "Budapest": "hungaroring", "Catalunya": "catalunya",
    "Hockenheim": "hockenheimring", "LeCastellet": "ricard", "Melbourne": "albert_park",
    "MexicoCity": "rodriguez", "MonteCarlo": "monaco", "Montreal": "villeneuve", "Monza": "monza",
    "Sakhir": "bahrain", "SaoPaulo": "interlagos", "Shanghai": "shanghai", "Silverstone": "silverstone",
    "Singapore": "marina_bay", "Sochi": "sochi", "Spa": "spa", "Spielberg": "red_bull_ring",
    "Suzuka": "suzuka", "YasMarina": "yas_marina",
}


def read_section(text: str, name: str) -> dict:
    """The JSON section ``name = {...}`` of a TUM parameter file's text ({} when absent)."""
    m = re.search(name + r" = (\{.*?\})\s*(\n\[|\Z)", text, re.S)
    return json.loads(m.group(1)) if m else {}
