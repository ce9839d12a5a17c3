"""Fixtures shared by the learned-model tests (lap time, pit stop)."""

from __future__ import annotations

import pytest

from f1analyzer.models.features import attach_priors, prepare_laps
from tests.models.test_train_synthdata import synthetic_laps


@pytest.fixture(scope="module")
def prepared():
    """``(laps, prep)``: the synthetic races and their ``prepare_laps`` output with priors attached."""
    from f1analyzer.data.circuits import circuit_for_event

    laps = synthetic_laps()
    races = laps.groupby(["season", "round"]).agg(event=("event", "first"), total_laps=("lap_number", "max")).reset_index()
    races["circuit_key"] = races["event"].map(circuit_for_event)
    prep = prepare_laps(laps, races)
    return laps, attach_priors(prep, prep)
