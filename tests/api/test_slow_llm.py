"""A hung LLM against the real server (#13 item 4): the LLM endpoint accepts connections and
never answers. ``/query`` answers within the narration deadline from the offline writer and says
so, a repeat is answered without asking the LLM again, the breaker opens after N failures and
``/health`` shows it, and ``/health`` answers while 45 slow questions are in flight."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.fakes import NeverAnswering
from tests.helpers import api_server, service_env, wait_until

DEADLINE_S = 3


def llm_env(home, llm_url: str, **extra) -> dict[str, str]:
    return service_env(home, ANTHROPIC_API_KEY="sk-ant-test", F1A_LLM_PROVIDER="anthropic",
                       ANTHROPIC_BASE_URL=llm_url, F1A_LLM_DEADLINE_S=DEADLINE_S, **extra)


def index_ready(url: str) -> bool:
    return httpx.get(f"{url}/health", timeout=30).json()["components"]["vector_database"]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("slow_llm_home")


def ask(url: str, text: str, timeout: float = 120) -> httpx.Response:
    return httpx.post(f"{url}/query", json={"query": text, "top_k": 3}, timeout=timeout)


@pytest.mark.slow
def test_deadline_fallback_cache_and_breaker(home):
    with NeverAnswering() as llm:
        env = llm_env(home, llm.url, F1A_LLM_BREAKER_FAILURES=3, F1A_LLM_BREAKER_COOLDOWN_S=600,
                      F1A_LLM_FALLBACK_CACHE_S=600)
        with api_server(env) as url:
            assert wait_until(lambda: index_ready(url), timeout_s=300), "index never became ready"

            t0 = time.monotonic()
            first = ask(url, "Why does an undercut work?")
            took = time.monotonic() - t0
            assert first.status_code == 200, first.text
            body = first.json()
            assert body["provider"] == "offline" and body["answer"]
            assert body["fallback_reason"].startswith("llm_deadline:"), body["fallback_reason"]
            assert llm.accepted >= 1
            assert took < DEADLINE_S + 25  # generous; before the fix every query took 12 s+

            # a repeat is answered from the short-lived fallback cache: the LLM is not asked
            seen = llm.accepted
            again = ask(url, "Why does an undercut work?")
            assert again.status_code == 200 and again.json()["answer"] == body["answer"]
            assert llm.accepted == seen

            # two more failures (3 in a row) open the breaker
            for q in ("How long is a pit stop at Monza?", "What does a Safety Car change?"):
                r = ask(url, q)
                assert r.json()["fallback_reason"].startswith("llm_deadline:")
            seen = llm.accepted
            skipped = ask(url, "Which tyre lasts longest?")
            assert skipped.status_code == 200
            assert skipped.json()["fallback_reason"].startswith("llm_circuit_open:")
            assert llm.accepted == seen  # open: the endpoint never saw the call

            def breaker_reported() -> bool:
                return any(r.startswith("narration:") and "circuit breaker is open" in r
                           for r in httpx.get(f"{url}/health").json()["reasons"])

            assert wait_until(breaker_reported, timeout_s=10)

            # strategy narration goes through the same breaker
            g = httpx.post(f"{url}/strategy/generate", json={
                "season": 2024, "event": "Monza", "driver": "LEC", "grid": 4, "top_k": 1,
                "n_sims": 20}, timeout=300)
            assert g.status_code == 200, g.text
            assert g.json()["provider"] == "offline"
            assert "llm_circuit_open:" in g.json()["fallback_reason"]


@pytest.mark.slow
def test_health_answers_while_45_slow_questions_are_in_flight(home):
    with NeverAnswering() as llm:
        # every question waits for the full narration deadline (no breaker, no fallback reuse)
        env = llm_env(home, llm.url, F1A_LLM_BREAKER_FAILURES=1000, F1A_LLM_FALLBACK_CACHE_S=0,
                      F1A_REQUEST_DEADLINE_S=20)
        with api_server(env) as url:
            assert wait_until(lambda: index_ready(url), timeout_s=300)
            finished: list[tuple[float, int, dict]] = []
            lock = threading.Lock()

            def one(k: int) -> None:
                r = ask(url, f"Question number {k} about pit stops at Monza?", timeout=180)
                with lock:
                    finished.append((time.monotonic(), r.status_code, r.json()))

            threads = [threading.Thread(target=one, args=(k,)) for k in range(45)]
            for t in threads:
                t.start()
            assert wait_until(lambda: llm.accepted >= 1, timeout_s=60), "no LLM call was made"
            time.sleep(1.2)  # /health's memo (1 s) is stale: its checks must run now
            with lock:
                done_before = len(finished)
            health = httpx.get(f"{url}/health", timeout=60)
            health_at = time.monotonic()
            with lock:
                done_at_health = [f for f in finished if f[0] <= health_at]
            assert health.status_code == 200
            # health answered while the slow questions were still running
            assert done_before == 0 and len(done_at_health) == 0, len(done_at_health)
            assert httpx.get(f"{url}/races", timeout=60).status_code == 200  # cheap routes too

            for t in threads:
                t.join(timeout=300)
            statuses = sorted({s for _, s, _ in finished})
            assert len(finished) == 45 and set(statuses) <= {200, 504}, statuses
            for _, status, body in finished:
                if status == 504:  # past the request deadline: the JSON error shape
                    assert body["error"]["code"] == "deadline_exceeded"
                else:
                    assert body["fallback_reason"].startswith("llm_deadline:")
