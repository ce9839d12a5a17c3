"""A strategy batch beyond ``/strategy/batch``'s cap, one task per race on the executors: the same
answers as the in-request batch on every executor, stoppable between races; and the in-request
cap's error names the job route."""

from __future__ import annotations

import json

import pytest
from f1analyzer.app.batch.strategy_batch import race_tasks, strategy_batch
from f1analyzer.app.executors import LocalExecutor, SerialExecutor
from f1analyzer.app.requests import BATCH_MAX_REQUESTS, BatchRequest, GenerateRequest
from f1analyzer.app.strategy import generate_batch
from f1analyzer.errors import InvalidRequestError, JobStopped
from tests.factories import strategy_env

REQUESTS = [
    {"season": 2023, "event": "Monza", "driver": "D01", "n_sims": 30, "top_k": 2},
    {"season": 2023, "event": "Bahrain", "driver": "D03", "grid": 7, "n_sims": 30, "top_k": 2},
    {"season": 2023, "event": "monza", "driver": "D02", "grid": 10, "n_sims": 30, "top_k": 2},
]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return strategy_env(tmp_path_factory.mktemp("sbatch"))


def _plain(results: list[dict]) -> list[dict]:
    """The answers without their wall times and whether the as-of models were fitted now or read
    from the cache (the only things allowed to differ)."""
    out = json.loads(json.dumps(results))
    for r in out:
        r.pop("latency_ms", None)
        for used in (r.get("data_used") or {}, (r.get("model") or {}).get("data_used") or {}):
            used.pop("source", None)
            used.pop("fit_seconds", None)
    return out


def test_one_task_per_race_in_first_seen_order():
    tasks = race_tasks([GenerateRequest.of(r) for r in REQUESTS])
    assert [t.key for t in tasks] == ["strategy-batch/2023/monza/pre-race", "strategy-batch/2023/bahrain/pre-race"]
    assert [t.payload["indices"] for t in tasks] == [[0, 2], [1]]


@pytest.mark.parametrize("executor", [SerialExecutor(), LocalExecutor(2)], ids=["serial", "local"])
def test_answers_equal_the_in_request_batch_on_every_executor(env, executor):
    store, models = env
    reference = generate_batch(REQUESTS, models=models, store=store)
    out = strategy_batch(REQUESTS, store=store, models=models, executor=executor)
    assert out["count"] == 3 and out["races"] == 2 and out["failed"] == []
    assert [r["driver"] for r in out["results"]] == ["D01", "D03", "D02"]
    assert _plain(out["results"]) == _plain(reference["results"])


def test_a_failed_race_keeps_the_others(env):
    store, models = env
    out = strategy_batch(REQUESTS + [{"season": 2023, "event": "Nowhere Grand Prix", "n_sims": 30}],
                         store=store, models=models)
    assert out["count"] == 3 and out["results"][3] is None
    assert out["failed"][0]["key"] == "strategy-batch/2023/nowhere grand prix/pre-race"
    assert out["failed"][0]["requests"] == [3] and "Nowhere" in out["failed"][0]["error"]


def test_a_stop_between_races_ends_the_batch(env):
    store, models = env
    seen = []

    def check():
        seen.append(1)
        raise JobStopped("cancelled by the operator")

    with pytest.raises(JobStopped):
        strategy_batch(REQUESTS, store=store, models=models, check=check)
    assert seen == [1]  # stopped after the first race, the second never ran


def test_the_in_request_cap_names_the_job_route():
    BatchRequest.of({"requests": [{"season": 2023, "event": "Monza"}] * BATCH_MAX_REQUESTS})
    with pytest.raises(InvalidRequestError, match="POST /admin/strategy/batch"):
        BatchRequest.of({"requests": [{"season": 2023, "event": "Monza"}] * (BATCH_MAX_REQUESTS + 1)})
