"""F1 Race Strategy Analyzer.

Layers, one way only: ``data`` → ``models`` → ``simulation`` → ``knowledge``/``narration``
→ ``api``/``cli``. Every backend (store, cache, model registry, vector index, LLM) is a small
interface with an embedded default chosen by :mod:`f1analyzer.config`.
"""

__version__ = "0.1.0"

DATA_ATTRIBUTION = (
    "Lap data: Armchair Strategist (Apache-2.0), sourced from F1 live timing via FastF1."
)
