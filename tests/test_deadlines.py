"""The request deadline seen below the API (:mod:`f1analyzer.deadlines`)."""

from __future__ import annotations

import time

import pytest

from f1analyzer.app.strategy import generate_batch
from f1analyzer.data.store import RaceStore
from f1analyzer.deadlines import check_deadline, deadline_after, remaining_s
from f1analyzer.errors import DeadlineExceededError
from f1analyzer.models.bundled import load_bundled_models


def test_no_deadline_outside_a_request():
    assert remaining_s() is None
    check_deadline()  # nothing to check: the CLI and tests run without one


def test_deadline_counts_down_and_raises_once_passed():
    with deadline_after(0.05):
        left = remaining_s()
        assert left is not None and 0 < left <= 0.05
        time.sleep(0.06)
        assert remaining_s() == 0.0
        with pytest.raises(DeadlineExceededError) as err:
            check_deadline("batch")
    assert err.value.details["deadline_s"] == 0.05 and "batch" in err.value.message
    assert remaining_s() is None


def test_a_batch_stops_between_requests_once_the_deadline_passed(tmp_path):
    models = load_bundled_models()
    with deadline_after(0), pytest.raises(DeadlineExceededError):
        generate_batch([{"season": 2024, "event": "Monza", "n_sims": 20}] * 3, models=models,
                       store=RaceStore(tmp_path / "store"))
