"""Cost-aware limits on the real server (#13 item 5): a cap on one request's work (422 naming
it), an allowance of simulated races per client over all routes (429; cached answers are
free), a server-side deadline (504 in the JSON error shape), a global per-client limit over
all routes, and a batch of 11 answered 422 (not 429)."""

from __future__ import annotations

import httpx
import pytest

from f1analyzer.app.common import N_RACED
from f1analyzer.app.requests import (
    BatchRequest,
    GenerateRequest,
    LiveRequest,
    SimulateRequest,
)
from tests.helpers import api_server, service_env

GENERATE = {"season": 2024, "event": "Monza", "driver": "LEC", "grid": 4, "top_k": 1, "n_sims": 20}


def error(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    return r.json()["error"]


def test_cost_of_each_request_in_simulated_races():
    g = GenerateRequest.of({"season": 2024, "event": "Monza", "n_sims": 300})
    assert g.simulated_races() == 300 * N_RACED
    b = BatchRequest.of({"requests": [{"season": 2024, "event": "Monza", "n_sims": 100}] * 3})
    assert b.simulated_races() == 3 * 100 * N_RACED
    s = SimulateRequest.of({"season": 2024, "event": "Monza", "n_sims": 20000,
                            "strategies": [{"driver": "LEC", "start_compound": "MEDIUM"}]})
    assert s.simulated_races() == 20000
    assert LiveRequest.of({"season": 2024, "event": "Monza", "lap": 20, "driver": "LEC",
                           "n_sims": 100}).simulated_races() >= 100


@pytest.mark.slow
def test_work_cap_allowance_and_global_limit(tmp_path):
    env = service_env(tmp_path, F1A_INDEX_ON_START="false", F1A_MAX_SIMULATED_RACES=10_000,
                      F1A_RATE_LIMIT_COST="1000/minute", F1A_RATE_LIMIT_GLOBAL="12/minute",
                      F1A_RATE_LIMIT_STRATEGY="10/minute")
    with api_server(env) as url:
        # a batch of 11 is a validation error (422), not a rate-limit answer (the strategy limit
        # is 10/minute: counted per request it carries, it was a 429 "send smaller batches")
        eleven = error(httpx.post(f"{url}/strategy/batch", json={"requests": [GENERATE] * 11}), 422)
        assert eleven["code"] == "validation_error" and "10" in eleven["message"]
        # one request over the cap: 422 naming the cap, before any simulation
        big = error(httpx.post(f"{url}/strategy/generate", json={**GENERATE, "n_sims": 2000}), 422)
        assert big["code"] == "work_too_large"
        assert "10,000" in big["message"] and "max_simulated_races" in big["message"]
        assert big["details"]["simulated_races"] == 2000 * N_RACED
        batch = {"requests": [{**GENERATE, "n_sims": 2000}] * 3}
        assert error(httpx.post(f"{url}/strategy/batch", json=batch), 422)["code"] == "work_too_large"

        # the allowance (1000 simulated races a minute) is charged by cost: 20 x 8 = 160 each
        ok = httpx.post(f"{url}/strategy/generate", json=GENERATE, timeout=300)
        assert ok.status_code == 200, ok.text
        again = httpx.post(f"{url}/strategy/generate", json=GENERATE, timeout=300)
        assert again.json()["cached"] is True  # a cached answer costs nothing
        sims = {"season": 2024, "event": "Monza", "n_sims": 900,
                "strategies": [{"driver": "LEC", "start_compound": "MEDIUM",
                                "stops": [{"lap": 20, "compound": "HARD"}]}]}
        spent = error(httpx.post(f"{url}/strategy/simulate", json=sims, timeout=300), 429)
        assert spent["code"] == "rate_limited" and "Simulation allowance" in spent["message"]
        assert spent["details"]["cost"] == 900

        # the global limit counts every route of the client: 12/minute over all of them
        statuses = [httpx.get(f"{url}/races").status_code for _ in range(3)]
        statuses += [httpx.get(f"{url}/circuits").status_code for _ in range(3)]
        assert 429 not in statuses, statuses
        last = httpx.get(f"{url}/circuits")
        assert error(last, 429)["message"].endswith(
            "s.") and "over all routes" in last.json()["error"]["message"]
        assert int(last.headers["retry-after"]) >= 1
        assert httpx.get(f"{url}/health").status_code == 200  # probes are never limited


@pytest.mark.slow
def test_request_deadline_answers_504_in_the_error_shape(tmp_path):
    env = service_env(tmp_path, F1A_INDEX_ON_START="false", F1A_REQUEST_DEADLINE_S="0.3")
    with api_server(env) as url:
        r = httpx.post(f"{url}/strategy/generate", json={**GENERATE, "n_sims": 2000}, timeout=300)
        err = error(r, 504)
        assert err["code"] == "deadline_exceeded" and "0.3 s" in err["message"]
        assert err["details"]["deadline_s"] == 0.3
        assert httpx.get(f"{url}/health", timeout=30).status_code == 200
