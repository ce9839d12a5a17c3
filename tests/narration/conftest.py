"""Shared narration inputs: a strategy result shaped like the optimiser's and rule sources."""

from __future__ import annotations

import pytest

from f1analyzer.knowledge.documents import rule_documents
from f1analyzer.knowledge.index import Hit


@pytest.fixture
def strategy_result() -> dict:
    return {
        "event": "Italian Grand Prix", "season": 2023, "driver": "VER", "grid": 3,
        "strategies": [
            {"stops": 1, "compounds": ["MEDIUM", "HARD"], "pit_laps": [22],
             "expected_position_if_classified": 1.43, "position_10th_percentile": 1, "position_median": 1,
             "position_90th_percentile": 3,
             "pit_windows": [[19, 26]]},
            {"stops": 2, "compounds": ["SOFT", "MEDIUM", "HARD"], "pit_laps": [15, 34],
             "expected_position_if_classified": 2.12, "position_10th_percentile": 1, "position_median": 2,
             "position_90th_percentile": 4,
             "pit_windows": [[12, 18], [31, 37]]},
            {"stops": 1, "compounds": ["HARD", "MEDIUM"], "pit_laps": [30],
             "expected_position_if_classified": 1.9, "position_10th_percentile": 1, "position_median": 2,
             "position_90th_percentile": 2,
             "pit_windows": [[27, 33]]},
        ],
    }


@pytest.fixture
def rule_hits() -> list[Hit]:
    by_id = {d.id: d for d in rule_documents()}
    picked = ["rule:two-compound", "rule:safety-car-pit-loss", "rule:virtual-safety-car"]
    return [Hit(id=i, score=1.0 - n / 10, title=by_id[i].title, text=by_id[i].text,
                metadata=by_id[i].metadata) for n, i in enumerate(picked)]
