"""The narration guard against a real never-answering endpoint and a scripted fake: overall
deadline, short-lived fallback cache, circuit breaker (open, half-open, closed)."""

from __future__ import annotations

import time

import pytest

from f1analyzer.config import reset_settings
from f1analyzer.errors import BackendUnavailableError
from f1analyzer.narration import AnthropicNarrator, NarrationRequest, narrate_checked
from f1analyzer.narration.guard import (
    GuardSettings,
    NarrationGuard,
    breaker_states,
    reset_guards,
)
from tests.fakes import Fail, FakeAnthropic, NeverAnswering, Reply


@pytest.fixture(autouse=True)
def fresh_guards(monkeypatch):
    reset_guards()
    monkeypatch.setenv("F1A_LLM_DEADLINE_S", "1")
    monkeypatch.setenv("F1A_LLM_BREAKER_FAILURES", "2")
    monkeypatch.setenv("F1A_LLM_BREAKER_COOLDOWN_S", "600")
    reset_settings()
    yield
    reset_guards()


def narrator(url: str) -> AnthropicNarrator:
    # the SDK alone would wait 30 s per attempt and retry: only the guard can cut it short
    return AnthropicNarrator(api_key="sk-ant-test", model="claude-test", base_url=url,
                             timeout_s=30.0, max_retries=3, backoff_attempts=2, backoff_s=0.01)


def question(text: str, rule_hits) -> NarrationRequest:
    return NarrationRequest(question=text, sources=rule_hits)


def test_hung_llm_is_cut_at_the_deadline_then_reused_then_skipped(rule_hits):
    with NeverAnswering() as llm:
        n = narrator(llm.url)
        t0 = time.monotonic()
        first = narrate_checked(question("Why pit early?", rule_hits), n)
        took = time.monotonic() - t0
        assert first.provider == "offline"
        assert first.fallback_reason.startswith("llm_deadline:"), first.fallback_reason
        assert took < 30  # generous: the SDK on its own would still be waiting
        assert llm.accepted == 1

        # the same question again: the offline answer is reused, the LLM is not asked
        again = narrate_checked(question("Why pit early?", rule_hits), n)
        assert again == first and llm.accepted == 1

        # a second failure (another question) opens the breaker (F1A_LLM_BREAKER_FAILURES=2)
        second = narrate_checked(question("Why pit late?", rule_hits), n)
        assert second.fallback_reason.startswith("llm_deadline:")
        assert llm.accepted == 2
        assert "open" in breaker_states().values()

        # open: answered offline at once, the endpoint never sees the call
        third = narrate_checked(question("Why one stop?", rule_hits), n)
        assert third.provider == "offline"
        assert third.fallback_reason.startswith("llm_circuit_open:"), third.fallback_reason
        assert llm.accepted == 2


def test_breaker_half_opens_after_the_cooldown_and_closes_on_success():
    guard = NarrationGuard(GuardSettings(deadline_s=5, breaker_failures=2, breaker_cooldown_s=0.2,
                                         fallback_ttl_s=0, max_concurrency=2), name="test")

    def fail():
        raise BackendUnavailableError("boom")

    for _ in range(2):
        assert guard.admit() is None
        with pytest.raises(BackendUnavailableError):
            guard.call(fail)
    assert guard.state == "open"
    assert guard.admit().startswith("llm_circuit_open:")
    time.sleep(0.3)
    assert guard.state == "half_open"
    assert guard.admit() is None  # the one trial call
    assert guard.admit() is not None  # others still skip the LLM while it runs
    with pytest.raises(BackendUnavailableError):
        guard.call(fail)  # the trial failed: open again
    assert guard.state == "open"
    time.sleep(0.3)
    assert guard.admit() is None
    assert guard.call(lambda: "answer") == "answer"
    assert guard.state == "closed" and guard.consecutive_failures == 0
    guard.shutdown()


def test_llm_coming_back_closes_the_breaker(rule_hits, monkeypatch):
    # the fake fails at once; a roomy deadline keeps a loaded machine from turning a 500 into a timeout
    monkeypatch.setenv("F1A_LLM_DEADLINE_S", "10")
    monkeypatch.setenv("F1A_LLM_BREAKER_COOLDOWN_S", "0.2")
    monkeypatch.setenv("F1A_LLM_FALLBACK_CACHE_S", "0")
    reset_settings()
    text = "Pit stops under a Safety Car cost less [1]."
    with FakeAnthropic(default=Reply(text)) as fake:
        fake.script.extend([Fail(500), Fail(500)])  # one attempt per call
        n = narrator(fake.url)
        n._client = n._client.with_options(max_retries=0)
        n.backoff_attempts = 1
        for q in ("a?", "b?"):
            assert narrate_checked(question(q, rule_hits), n).fallback_reason.startswith(
                "llm_unavailable:")
        assert narrate_checked(question("c?", rule_hits), n).fallback_reason.startswith(
            "llm_circuit_open:")
        fake.script.clear()
        time.sleep(0.3)
        back = narrate_checked(question("d?", rule_hits), n)
    assert back.provider == "anthropic" and back.fallback_reason is None
    assert set(breaker_states().values()) == {"closed"}


def test_upstream_error_bodies_stay_out_of_the_answer(rule_hits):
    with FakeAnthropic(default=Fail(500, "secret internal detail at /srv/llm/node-7")) as fake:
        n = narrator(fake.url)
        n._client = n._client.with_options(max_retries=0)
        n.backoff_attempts = 1
        out = narrate_checked(question("Why?", rule_hits), n)
    assert out.provider == "offline"
    assert "InternalServerError, HTTP 500" in out.fallback_reason
    assert "secret internal detail" not in out.fallback_reason and "/srv" not in out.fallback_reason


def test_the_request_deadline_shortens_the_wait_without_blaming_the_llm(rule_hits):
    from f1analyzer.config import get_settings
    from f1analyzer.deadlines import deadline_after
    from f1analyzer.narration.guard import guard_for

    with NeverAnswering() as llm:
        n = narrator(llm.url)
        with deadline_after(0.2):  # the request has 0.2 s left; the LLM deadline is 1 s
            out = narrate_checked(question("Why now?", rule_hits), n)
        assert out.fallback_reason.startswith("llm_deadline:") and "0.2 s" in out.fallback_reason
        assert guard_for(n, get_settings()).consecutive_failures == 0


def test_abandoned_call_sends_no_retry_after_the_deadline(rule_hits, monkeypatch):
    # each SDK attempt times out at 0.4 s and the SDK would retry three times: the guard's
    # deadline (1 s) passes during the retries, and from then on no new connection is made
    with NeverAnswering() as llm:
        n = AnthropicNarrator(api_key="sk-ant-test", model="claude-test", base_url=llm.url,
                              timeout_s=0.4, max_retries=3, backoff_attempts=2, backoff_s=0.01)
        first = narrate_checked(question("Why pit early?", rule_hits), n)
        assert first.fallback_reason.startswith("llm_deadline:")
        at_deadline = llm.accepted
        assert at_deadline >= 1
        # the SDK's retries would have gone on for ~4 × (0.4 s + backoff) × 2 rounds
        time.sleep(4.0)
        assert llm.accepted == at_deadline


def test_narrator_outside_a_guard_keeps_its_sdk_retries(rule_hits):
    # no deadline (CLI, scripts): the hook lets every SDK retry through
    with NeverAnswering() as llm:
        n = AnthropicNarrator(api_key="sk-ant-test", model="claude-test", base_url=llm.url,
                              timeout_s=0.2, max_retries=2, backoff_attempts=1, backoff_s=0.01)
        with pytest.raises(BackendUnavailableError):
            n.narrate(question("Why pit early?", rule_hits))
        assert llm.accepted == 3  # the first attempt and two SDK retries
