"""A small hand-written corpus of race and circuit documents for index and retrieval tests."""

from __future__ import annotations

import numpy as np

from f1analyzer.knowledge.documents import Document

RACE_DOCS: list[Document] = [
    Document(
        id="race:2019:14", kind="race", title="2019 Italian Grand Prix (Monza)", season=2019,
        round=14, event="Italian Grand Prix", circuit="monza", drivers=("LEC", "HAM", "BOT"),
        text="Leclerc won from pole on a one-stop, Soft to Hard on lap 20, holding off Hamilton "
             "and Bottas. Hamilton tried an early undercut on Mediums but could not pass.",
    ),
    Document(
        id="race:2022:07", kind="race", title="2022 Monaco Grand Prix", season=2022, round=7,
        event="Monaco Grand Prix", circuit="monaco", drivers=("PER", "SAI", "VER", "LEC"),
        text="A wet start moved to intermediates and then slicks. Ferrari double-stacked and "
             "Leclerc lost the lead in the pits; Perez won after switching straight from wets "
             "to hards.",
    ),
    Document(
        id="race:2021:22", kind="race", title="2021 Abu Dhabi Grand Prix", season=2021, round=22,
        event="Abu Dhabi Grand Prix", circuit="yas_marina", drivers=("VER", "HAM"),
        text="A late Safety Car let Verstappen pit for fresh Softs while Hamilton stayed out on "
             "old Hards; Verstappen passed him on the final lap.",
    ),
    Document(
        id="race:2018:21", kind="race", title="2018 Abu Dhabi Grand Prix", season=2018, round=21,
        event="Abu Dhabi Grand Prix", circuit="yas_marina", drivers=("HAM", "VET"),
        text="Hamilton won on a one-stop from the Hypersoft to the Supersoft, stopping during an "
             "early Virtual Safety Car.",
    ),
    Document(
        id="circuit:monza", kind="circuit", title="Monza circuit profile", circuit="monza",
        text="Long straights and low downforce; pit loss around 24 s; one-stops dominate and "
             "the slipstream makes passing easy.",
    ),
]


def unit_vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """Random unit rows (float32) — stand-ins for embeddings in index-only tests."""
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)
